import type { CmdBody } from '../protocol/cmd-frame';

/**
 * Narrow ports between the parts (STYLE.md: instead of one part reaching
 * into another's objects). The transport implements both for the sockets of
 * this node; a cluster bus later provides routing implementations (that wrap
 * the local ones) through `LongLinkModuleOptions.sessionControl` /
 * `commandDelivery`. Test doubles implement them without casts.
 */

/** Ends a client's session: what presence asks when it decides a client is gone. */
export interface SessionControl {
  /**
   * Sends `KICK {reason}` to the client's live session and closes it.
   * Resolves false when no session holds the client.
   */
  kick(clientId: string, reason: string): Promise<boolean>;
}

/** One CMD frame to write: the command's id and its body, serialised in parts (see protocol/cmd-frame). */
export interface CmdFrame {
  id: string;
  body: CmdBody;
}

/** Gets commands to the client's session: what the commands part uses instead of sockets. */
export interface CommandDelivery {
  /** A session holds the client right now, so a command can go straight out. */
  isConnected(clientId: string): boolean;
  /**
   * Writes the frames, in order, to the client's session (each encoded in
   * the framing and type key that session speaks). Synchronous for the local
   * socket, so that nothing runs between a store's answer and the write.
   * False, and nothing written, when no session holds the client.
   */
  deliver(clientId: string, frames: readonly CmdFrame[]): boolean;
}

export const SESSION_CONTROL = Symbol('SESSION_CONTROL');
export const COMMAND_DELIVERY = Symbol('COMMAND_DELIVERY');
