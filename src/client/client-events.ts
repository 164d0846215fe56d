import type { ProtocolErrorBody } from '../protocol';
import type { LongLinkClientError } from './client-errors';

/**
 * idle ─connect()─► connecting ─LOGIN ok─► online ─lost─► reconnecting ─LOGIN ok─► online …
 * any ─close() / KICK replaced / LOGIN refused / reconnect_failed─► closed (final)
 */
export type ClientStatus = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface StatusChange {
  from: ClientStatus;
  to: ClientStatus;
  /** Why, in words: 'logged in', 'ECONNREFUSED: …', 'kicked: replaced', 'no frame from the server within …'. */
  reason: string;
}

/** The gateway's LOGIN reply. */
export interface SessionInfo {
  clientId: string;
  sessionId: string;
  /** HEART interval the gateway asked for (and that the client now uses). */
  heartbeatMs: number;
  serverTime: number;
}

export interface CommandEvent {
  id: string;
  name: string;
  data: unknown;
  /** A redelivery of an id already received: the handler is not run again. */
  duplicate: boolean;
}

export interface AckEvent {
  id: string;
  name: string;
  ok: boolean;
  result?: unknown;
  error?: ProtocolErrorBody;
  durationMs: number;
  /** False when the connection was down as the handler finished: the gateway redelivers and the same ACK is repeated then. */
  sent: boolean;
}

export interface KickEvent {
  reason: string;
  /** False for the reasons in `stopOnKick` (default: replaced). */
  willReconnect: boolean;
}

export interface ReconnectScheduledEvent {
  /** Reconnect attempts in a row without getting online, this one included (1 = first). */
  attempt: number;
  delayMs: number;
  /** Why the last connection or attempt ended. */
  reason: string;
}

export interface ReconnectFailedEvent {
  attempts: number;
  reason: string;
}

/** Event name → listener arguments. */
export interface LongLinkClientEvents {
  status: [StatusChange];
  online: [SessionInfo];
  command: [CommandEvent];
  ack: [AckEvent];
  kicked: [KickEvent];
  /** Only emitted when someone listens (an unheard 'error' must not crash a device). */
  error: [LongLinkClientError];
  reconnect_scheduled: [ReconnectScheduledEvent];
  reconnect_failed: [ReconnectFailedEvent];
}
