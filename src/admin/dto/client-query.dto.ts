import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { CLIENT_ID_PATTERN, CLIENT_ID_RULE } from '../../protocol';
import { PRESENCE_STATUSES, PresenceStatus } from '../../presence/presence.types';
import { BooleanString, NumberString } from './transforms';

// Decorator order matters: class-validator runs the one nearest the property
// first and the pipe stops at the first failure per field, so the type check
// sits last (`limit must be an integer`, not `limit must not be less than 1`).

export const MAX_PAGE_LIMIT = 1000;
/** clientIds in one bulk request. */
export const MAX_BULK_IDS = 10_000;

/** Paging of every list: `limit` items after `cursor`. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: 100, description: 'Items per page' })
  @IsOptional()
  @NumberString()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  @IsInt()
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page (opaque)' })
  @IsOptional()
  @MaxLength(512)
  @IsString()
  cursor?: string;
}

/** `GET /clients` query. */
export class ListClientsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: PRESENCE_STATUSES, description: 'Only clients in this status' })
  @IsOptional()
  @IsIn(PRESENCE_STATUSES)
  status?: PresenceStatus;

  @ApiPropertyOptional({ description: 'Only clients with (true) or without (false) an open socket' })
  @IsOptional()
  @BooleanString()
  @IsBoolean()
  connected?: boolean;

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the clientId or of any meta value', maxLength: 256 })
  @IsOptional()
  @MaxLength(256)
  @IsString()
  q?: string;
}

/** Which clients a bulk kick or a broadcast is for (all fields combine with AND). */
export class ClientFilterDto {
  @ApiPropertyOptional({ enum: PRESENCE_STATUSES, description: 'Only clients in this status' })
  @IsOptional()
  @IsIn(PRESENCE_STATUSES)
  status?: PresenceStatus;

  @ApiPropertyOptional({ description: 'Only clients with (true) or without (false) an open socket' })
  @IsOptional()
  @IsBoolean()
  connected?: boolean;

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the clientId or of any meta value', maxLength: 256 })
  @IsOptional()
  @MaxLength(256)
  @IsString()
  q?: string;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_BULK_IDS, description: 'Exactly these clients', example: ['dev-1', 'dev-2'] })
  @IsOptional()
  @ArrayMaxSize(MAX_BULK_IDS)
  @Matches(CLIENT_ID_PATTERN, { each: true, message: `each value in clientIds must be ${CLIENT_ID_RULE}` })
  @IsArray()
  clientIds?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Every key must equal the value in the client LOGIN meta',
    example: { region: 'eu' },
  })
  @IsOptional()
  @IsObject()
  meta?: Record<string, unknown>;
}

/** `GET /events` query. */
export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'Only the events of this client' })
  @IsOptional()
  @Matches(CLIENT_ID_PATTERN, { message: `clientId must be ${CLIENT_ID_RULE}` })
  clientId?: string;
}
