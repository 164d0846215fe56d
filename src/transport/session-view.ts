import type { LongLinkEvents } from './transport.events';

/**
 * What the parts above may read of a live session: facts, no socket. A
 * Connection is one; presence and the heartbeat's detector see it only
 * through this type, so they cannot write to it.
 */
export interface SessionView {
  readonly clientId: string | undefined;
  readonly sessionId: string | undefined;
  readonly closed: boolean;
  /** Server clock of the last read. */
  readonly lastReadAt: number;
  /** Server clock of the last HEART; 0 before the first. */
  readonly lastHeartbeatAt: number;
  /** Server clock of the last write the socket could not take at once; 0 before any. */
  readonly lastBackpressureAt: number;
  /** Unsent bytes queued right now. */
  readonly outboundBytes: number;
  /** The latest HEART that carried fields of the client's own. */
  readonly reported: Record<string, unknown> | undefined;
}

/** The transport as the parts above see it: its events and its sessions, read-only. */
export interface TransportSessions {
  on<K extends keyof LongLinkEvents>(event: K, listener: LongLinkEvents[K]): unknown;
  off<K extends keyof LongLinkEvents>(event: K, listener: LongLinkEvents[K]): unknown;
  /** The client's session on this node, open or closing. */
  session(clientId: string): SessionView | undefined;
  /** Every logged-in session of this node. */
  sessionViews(): IterableIterator<SessionView>;
}

/** Injection token of TransportSessions (LongLinkServer provides it). */
export const TRANSPORT_SESSIONS = Symbol('TRANSPORT_SESSIONS');
