import type { LivenessStatus } from '../heartbeat/heartbeat-counter';

/** docs/PROTOCOL.md §3 (the liveness counter's statuses). */
export type PresenceStatus = LivenessStatus;
export const PRESENCE_STATUSES: readonly PresenceStatus[] = ['alive', 'leave', 'close'];

/** One status change; exactly one event per transition. */
export interface PresenceEvent {
  clientId: string;
  /** null for a client seen for the first time. */
  from: PresenceStatus | null;
  to: PresenceStatus;
  reason: string;
  /** epoch ms */
  at: number;
  nodeId: string;
}

/** A session began (every login, takeovers and re-logins too), after its record is up to date. */
export interface SessionEvent {
  clientId: string;
  sessionId: string;
  /** The session's fence (ClientRecord.epoch). */
  epoch: number;
  /** epoch ms */
  at: number;
}

/** Everything known of one client (a plain, detached object). */
export interface ClientRecord {
  clientId: string;
  status: PresenceStatus;
  connected: boolean;
  sessionId: string | null;
  remoteAddress: string | null;
  remotePort: number | null;
  /** From LOGIN. */
  meta: Record<string, unknown>;
  /** The latest HEART's own fields (status, ip, pid, …). */
  reported: Record<string, unknown>;
  connectedAt: number | null;
  lastSeenAt: number | null;
  lastHeartbeatAt: number | null;
  statusSince: number;
  strikes: number;
  /** The liveness counter's position (docs/PROTOCOL.md §3); not a page token. */
  livenessCursor: number;
  /**
   * The session fence: presence increments it at every login (session) of the
   * client, and every write of that session carries it. A store never lets a
   * record of a lower epoch overwrite one of a higher epoch.
   */
  epoch: number;
  closeReason: string | null;
  closedAt: number | null;
  nodeId: string;
  /** The last PRESENCE_HISTORY transitions, oldest first. */
  transitions: PresenceEvent[];
}

export interface ClientFilter {
  status?: PresenceStatus;
  connected?: boolean;
  /** Substring of clientId, or of any meta value (case-insensitive). */
  q?: string;
  /** Exactly these clients. */
  clientIds?: string[];
  /** Every key/value must equal the record's meta. */
  meta?: Record<string, unknown>;
}

export interface PageRequest {
  /** @default 100, at most 1000 */
  limit?: number;
  /** Opaque: the `nextCursor` of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when there are more items. */
  nextCursor?: string;
  total: number;
}

export interface PresenceStats {
  total: number;
  byStatus: Record<PresenceStatus, number>;
  connected: number;
  nodes: Record<string, { connected: number; total: number }>;
}
