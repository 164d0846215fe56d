import type { AckMessage } from '../protocol';

/**
 * Events of the transport (`server.on(name, listener)`), all synchronous and
 * all plain data: a listener gets facts, never the live Connection, so that
 * nothing above the transport can write to a socket behind its back.
 */
export interface ConnectionEvent {
  connectionId: number;
  remoteAddress: string;
  remotePort: number;
}

export interface LoginEvent {
  connectionId: number;
  clientId: string;
  /** New for every login; the session a later close or ACK names. */
  sessionId: string;
  remoteAddress: string;
  remotePort: number;
  meta: Record<string, unknown> | undefined;
  /** Logged in by its first frame (AUTH_MODE=none), without LOGIN. */
  implicit: boolean;
  /** The session this login took over from (its socket gets KICK replaced), if any. */
  replacedSessionId: string | undefined;
  /** Server clock at the login. */
  at: number;
}

export interface AckEvent {
  clientId: string;
  sessionId: string;
  ack: AckMessage;
}

export interface CloseEvent {
  connectionId: number;
  /** Undefined for a connection that never logged in. */
  clientId: string | undefined;
  sessionId: string | undefined;
  remoteAddress: string;
  remotePort: number;
  reason: string;
  /** The connection was the client's live one when it closed (not replaced by a newer login). */
  wasCurrent: boolean;
  /** Facts of the connection as it closed (presence keeps them in the record). */
  lastReadAt: number;
  lastHeartbeatAt: number;
  reported: Record<string, unknown> | undefined;
}

export type LongLinkEvents = {
  connection: (event: ConnectionEvent) => void;
  login: (event: LoginEvent) => void;
  ack: (event: AckEvent) => void;
  close: (event: CloseEvent) => void;
};
