import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUUID, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { COMMAND_STATUSES, CommandStatus } from '../../commands/command.types';
import { ClientFilterDto, PageQueryDto } from './client-query.dto';

/** Any JSON value, for OpenAPI. */
const ANY_JSON = [{ type: 'object', additionalProperties: true }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }];

/** waitMs above this would hold HTTP connections (and proxies) too long. */
export const MAX_WAIT_MS = 60_000;
/** One year: a TTL longer than that is a mistake. */
export const MAX_TTL_MS = 365 * 24 * 3600 * 1000;

/** The fields of a command that a send and a broadcast share. */
class CommandBodyDto {
  @ApiProperty({ example: 'reboot', maxLength: 128, description: 'What the client should do (sent as CMD.name)' })
  @IsNotEmpty()
  @MaxLength(128)
  @IsString()
  name!: string;

  @ApiPropertyOptional({
    description: 'Any JSON value, sent as CMD.data (the whole CMD frame must fit MAX_FRAME_BYTES)',
    example: { delaySec: 5 },
    oneOf: ANY_JSON,
  })
  @IsOptional()
  data?: unknown;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_TTL_MS, description: 'Expiry from now, ms (default COMMAND_TTL_MS)' })
  @IsOptional()
  @Min(1)
  @Max(MAX_TTL_MS)
  @IsInt()
  ttlMs?: number;

  @ApiPropertyOptional({
    // No `default:` here: some client generators make a field with a default
    // non-optional in their models. The default is in the description.
    description: 'Hold the command for a client that is closed or not known yet, and send it at its next LOGIN (otherwise 409 / 404). Default false.',
  })
  @IsOptional()
  @IsBoolean()
  queue?: boolean;
}

/** `POST /clients/:clientId/commands`. */
export class SendCommandDto extends CommandBodyDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_WAIT_MS,
    description: 'Wait up to this long for the outcome: 200 with it when the command finished (acked, failed, expired) in time, else 202 with its current state',
  })
  @IsOptional()
  @Min(0)
  @Max(MAX_WAIT_MS)
  @IsInt()
  waitMs?: number;
}

/** `POST /commands/broadcast`. */
export class BroadcastDto extends CommandBodyDto {
  @ApiPropertyOptional({ type: ClientFilterDto, description: 'Which clients; all known clients when absent' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ClientFilterDto)
  filter?: ClientFilterDto;
}

/** `GET /commands` query. */
export class ListCommandsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'The batchId a broadcast returned' })
  @IsOptional()
  @IsUUID()
  batchId?: string;

  @ApiPropertyOptional({ description: 'Only commands of this client' })
  @IsOptional()
  @MaxLength(128)
  @IsString()
  clientId?: string;

  @ApiPropertyOptional({ enum: COMMAND_STATUSES })
  @IsOptional()
  @IsIn(COMMAND_STATUSES)
  status?: CommandStatus;
}

/** `GET /clients/:clientId/commands` query. */
export class ClientCommandsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: COMMAND_STATUSES })
  @IsOptional()
  @IsIn(COMMAND_STATUSES)
  status?: CommandStatus;
}

export class CommandErrorBodyDto {
  @ApiProperty({ example: 'BUSY' })
  code!: string;
  @ApiProperty({ example: 'device is updating' })
  message!: string;
}

export class CommandRecordDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({ example: 'dev-1' })
  clientId!: string;
  @ApiProperty({ example: 'reboot' })
  name!: string;
  @ApiPropertyOptional({ description: 'As given', oneOf: ANY_JSON })
  data?: unknown;
  @ApiProperty({ enum: COMMAND_STATUSES, description: 'queued and sent are pending; acked, failed, expired are final' })
  status!: CommandStatus;
  @ApiProperty({ description: 'epoch ms' })
  createdAt!: number;
  @ApiPropertyOptional({ description: 'epoch ms of the last write to the socket' })
  sentAt?: number;
  @ApiPropertyOptional({ description: 'epoch ms of the ACK (ok or not)' })
  ackedAt?: number;
  @ApiPropertyOptional({ description: 'ACK result (status acked)', oneOf: ANY_JSON })
  result?: unknown;
  @ApiPropertyOptional({ type: CommandErrorBodyDto, description: 'ACK error (status failed)' })
  error?: CommandErrorBodyDto;
  @ApiProperty({ description: 'epoch ms; not acked by then → expired, never sent again' })
  expiresAt!: number;
  @ApiPropertyOptional({ description: 'epoch ms it became final; kept COMMAND_RETENTION_MS after' })
  finishedAt?: number;
  @ApiProperty({ description: 'Writes to a socket (above 1: re-sent after a reconnect)' })
  attempts!: number;
  @ApiPropertyOptional({ format: 'uuid', description: 'The broadcast it belongs to' })
  batchId?: string;
}

export class CommandPageDto {
  @ApiProperty({ type: [CommandRecordDto] })
  items!: CommandRecordDto[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' })
  nextCursor?: string;
  @ApiProperty()
  total!: number;
}

export class BroadcastSkippedDto {
  @ApiProperty({ description: 'Clients in close (sent only with queue: true)' })
  closed!: number;
  @ApiProperty({ description: 'clientIds nobody knows (sent only with queue: true)' })
  unknown!: number;
  @ApiProperty({ description: 'Clients already holding MAX_QUEUED_COMMANDS undelivered commands' })
  queueFull!: number;
}

export class BroadcastResultDto {
  @ApiProperty({ format: 'uuid', description: 'List its commands with GET /commands?batchId=' })
  batchId!: string;
  @ApiProperty({ description: 'Commands created (one per matching client)' })
  count!: number;
  @ApiProperty({ type: BroadcastSkippedDto })
  skipped!: BroadcastSkippedDto;
}
