import { Controller, Get, Header, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsService } from '../metrics/metrics.service';
import { AdminExceptionFilter } from './admin-exception.filter';
import { ADMIN_BEARER } from './admin-route.decorator';
import { ErrorResponseDto } from './dto/error.dto';
import { MetricsAuthGuard } from './metrics-auth.guard';
import { ServingGuard } from './serving.guard';

/** Like every admin controller (see AdminApi), but its own token rule: METRICS_TOKEN opens this route alone. */
@ApiTags('metrics')
@UseGuards(MetricsAuthGuard, ServingGuard)
@UseFilters(AdminExceptionFilter)
@ApiBearerAuth(ADMIN_BEARER)
@ApiResponse({ status: 401, description: 'Missing or wrong `Authorization: Bearer <METRICS_TOKEN or ADMIN_TOKEN>`', type: ErrorResponseDto })
@ApiResponse({ status: 503, description: 'The gateway is shutting down', type: ErrorResponseDto })
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ operationId: 'getMetrics', summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } })
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    const text = await this.metrics.scrape();
    res.type(this.metrics.contentType);
    return text;
  }
}
