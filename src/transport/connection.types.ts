import type { BadFrameCode, Codec, FrameTooLargeException } from './codec';
import type { Connection } from './connection';
import type { FrameBudget } from '../admission/frame-budget';
import type { TransportStats } from './transport-stats';

/** What a Connection reports to the server that owns it. */
export interface ConnectionHandler {
  onMessage(conn: Connection, message: Record<string, unknown>): void;
  onEmptyFrame(conn: Connection): void;
  onBadFrame(conn: Connection, code: BadFrameCode, detail: string): void;
  onFrameTooLarge(conn: Connection, error: FrameTooLargeException): void;
  /** Something above the decoder threw while handling this connection's bytes (a bug, not the peer's fault). */
  onInternalError(conn: Connection, error: unknown): void;
  /** The unsent bytes queued for this connection went over maxOutboundBytes; it is being destroyed. */
  onOutboundOverflow(conn: Connection, queuedBytes: number): void;
  onClosed(conn: Connection, reason: string): void;
  /** The server's clock (injected, so tests can drive it). */
  now(): number;
}

/** A frame that arrived while an asynchronous LOGIN check was running, kept to be handled in order after it. */
export type PendingFrame =
  | { kind: 'message'; message: Record<string, unknown> }
  | { kind: 'empty' }
  | { kind: 'bad'; code: BadFrameCode; detail: string };

export interface ConnectionOptions {
  /** Frames above this are refused (MAX_FRAME_BYTES). */
  maxFrameBytes: number;
  /** Unsent bytes queued for the socket above this close it (MAX_OUTBOUND_BYTES). */
  maxOutboundBytes: number;
  /** How long a closing socket may take to flush before it is destroyed. */
  closeFlushMs: number;
  /** Where frames written are counted. */
  stats: TransportStats;
  /** The listener's wire format. @default autoCodec (length or line, detected from the first byte) */
  codec?: Codec;
  /** FRAME_BUDGET: frames handled per turn of the loop before this connection yields (see FramePacer). */
  frameBudget?: FrameBudget;
  /** Told each time a connection yields because of it (metrics). */
  onBudgetSpent?: () => void;
}

/**
 * engine.io's `readyState`, for one long link:
 * `open` (accepted, not logged in) → `authenticating` (an asynchronous
 * LOGIN check runs) → `ready` (logged in) → `closed`; `authenticating` goes
 * back to `open` when the check refuses, and every state can go to `closed`.
 */
export type ConnectionState = 'open' | 'authenticating' | 'ready' | 'closed';
