import { applyDecorators, BadRequestException, Injectable, PipeTransform, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { CLIENT_ID_RULE, isClientId } from '../protocol';
import { AdminAuthGuard } from './admin-auth';
import { AdminExceptionFilter } from './admin-exception.filter';
import { adminValidationPipe } from './admin-validation.pipe';
import { JsonDepthPipe } from './json-depth.pipe';
import { ErrorResponseDto } from './dto/error.dto';
import { ServingGuard } from './serving.guard';

export const ADMIN_BEARER = 'admin-token';

/**
 * What every admin controller has: the bearer token, 503 while shutting
 * down, validation and the JSON error shape. Scoped to these controllers
 * (not global), so that an app embedding the module keeps its own pipes and
 * filters and the admin API behaves the same inside it.
 */
export function AdminApi(): ClassDecorator {
  return applyDecorators(
    UseGuards(AdminAuthGuard, ServingGuard),
    UseFilters(AdminExceptionFilter),
    // Depth first: validation walks the body recursively.
    UsePipes(JsonDepthPipe, adminValidationPipe()),
    ApiBearerAuth(ADMIN_BEARER),
    ApiResponse({ status: 401, description: 'Missing or wrong `Authorization: Bearer <ADMIN_TOKEN>`', type: ErrorResponseDto }),
    ApiResponse({ status: 503, description: 'The gateway is shutting down', type: ErrorResponseDto }),
  );
}

/** `:clientId` must be a clientId docs/PROTOCOL.md allows. */
@Injectable()
export class ClientIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isClientId(value)) throw new BadRequestException(`clientId must be ${CLIENT_ID_RULE}`);
    return value;
  }
}
