import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PRESENCE_STATUSES, PresenceStatus } from '../../presence/presence.types';

export class PresenceEventDto {
  @ApiProperty({ example: 'dev-1' })
  clientId!: string;
  @ApiProperty({ enum: PRESENCE_STATUSES, nullable: true, description: 'null for a client seen for the first time' })
  from!: PresenceStatus | null;
  @ApiProperty({ enum: PRESENCE_STATUSES })
  to!: PresenceStatus;
  @ApiProperty({ example: 'login', description: 'login, relogin, peer_closed, logout, kicked, timeout, …' })
  reason!: string;
  @ApiProperty({ description: 'epoch ms' })
  at!: number;
  @ApiProperty({ description: 'Gateway node that saw the transition' })
  nodeId!: string;
}

export class ClientRecordDto {
  @ApiProperty({ example: 'dev-1' })
  clientId!: string;
  @ApiProperty({ enum: PRESENCE_STATUSES, description: 'Presence status (docs/PROTOCOL.md §3)' })
  status!: PresenceStatus;
  @ApiProperty({ description: 'An open socket right now' })
  connected!: boolean;
  @ApiProperty({ nullable: true, type: String })
  sessionId!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '10.0.0.7' })
  remoteAddress!: string | null;
  @ApiProperty({ nullable: true, type: Number })
  remotePort!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'From LOGIN' })
  meta!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The latest HEART's own fields (status, ip, pid, …)" })
  reported!: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: Number, description: 'epoch ms' })
  connectedAt!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'epoch ms of the last frame' })
  lastSeenAt!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'epoch ms of the last HEART' })
  lastHeartbeatAt!: number | null;
  @ApiProperty({ description: 'epoch ms of the last status change' })
  statusSince!: number;
  @ApiProperty({ description: 'Liveness strikes (docs/PROTOCOL.md §3)' })
  strikes!: number;
  @ApiProperty({ description: 'Liveness cursor (docs/PROTOCOL.md §3); not a page token' })
  livenessCursor!: number;
  @ApiProperty({ description: 'Session fence: incremented at every login of the client; a write of an older session never overwrites a newer one' })
  epoch!: number;
  @ApiProperty({ nullable: true, type: String, example: 'kicked' })
  closeReason!: string | null;
  @ApiProperty({ nullable: true, type: Number })
  closedAt!: number | null;
  @ApiProperty({ description: "Gateway node of the client's last session (kept across a restart until it logs in again)" })
  nodeId!: string;
  @ApiProperty({ type: [PresenceEventDto], description: 'Recent transitions, oldest first (PRESENCE_HISTORY)' })
  transitions!: PresenceEventDto[];
}

export class ClientPageDto {
  @ApiProperty({ type: [ClientRecordDto] })
  items!: ClientRecordDto[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' })
  nextCursor?: string;
  @ApiProperty({ description: 'Matching clients in all pages' })
  total!: number;
}

export class StatusCountsDto {
  @ApiProperty()
  alive!: number;
  @ApiProperty()
  leave!: number;
  @ApiProperty()
  close!: number;
}

export class NodeCountsDto {
  @ApiProperty()
  connected!: number;
  @ApiProperty()
  total!: number;
}

export class PresenceStatsDto {
  @ApiProperty({ description: 'Known client records' })
  total!: number;
  @ApiProperty({ type: StatusCountsDto })
  byStatus!: StatusCountsDto;
  @ApiProperty({ description: 'Clients with an open socket' })
  connected!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/NodeCountsDto' },
    description: 'Per gateway node',
  })
  nodes!: Record<string, NodeCountsDto>;
}
