// The shapes of the admin API's answers the page reads (docs/API.md).

export type Status = 'alive' | 'leave' | 'close';

export interface Transition {
  clientId: string;
  from: Status | null;
  to: Status;
  reason: string;
  at: number;
  nodeId?: string;
}

export interface ClientRecord {
  clientId: string;
  status: Status;
  connected: boolean;
  sessionId?: string | null;
  remoteAddress?: string | null;
  remotePort?: number | null;
  meta?: Record<string, unknown> | null;
  reported?: Record<string, unknown> | null;
  connectedAt?: number | null;
  lastSeenAt?: number | null;
  lastHeartbeatAt?: number | null;
  statusSince?: number | null;
  strikes?: number;
  /** The session's fence: a newer session of this clientId has a higher one. */
  epoch?: number;
  closeReason?: string | null;
  closedAt?: number | null;
  nodeId?: string | null;
  transitions?: Transition[];
  [field: string]: unknown;
}

export interface ClientPage {
  items: ClientRecord[];
  nextCursor?: string | null;
  total?: number;
}

export interface Stats {
  total: number;
  byStatus: Record<Status, number>;
  connected: number;
  nodes?: Record<string, { connected: number; total: number }>;
}

export interface CommandRecord {
  id: string;
  clientId: string;
  name: string;
  data?: unknown;
  status: 'queued' | 'sent' | 'acked' | 'failed' | 'expired';
  createdAt: number;
  sentAt?: number | null;
  ackedAt?: number | null;
  finishedAt?: number | null;
  result?: unknown;
  error?: unknown;
  expiresAt: number;
  attempts: number;
  batchId?: string | null;
}

export interface CommandPage {
  items: CommandRecord[];
  nextCursor?: string | null;
}

/** `event: presence` of GET /events. */
export type PresenceEvent = Transition;

/** `event: command` of GET /events. */
export interface CommandEvent {
  id: string;
  clientId: string;
  name: string;
  from: CommandRecord['status'] | null;
  to: CommandRecord['status'];
  at: number;
  batchId?: string;
  nodeId?: string;
}

export type LiveEvent = { kind: 'presence'; data: PresenceEvent } | { kind: 'command'; data: CommandEvent };
