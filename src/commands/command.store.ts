import type { Page, PageRequest } from '../presence/presence.types';
import type { CommandQuery, CommandRecord, CommandStatus } from './command.types';

/** The fields a status change may write. */
export type CommandPatch = Partial<Pick<CommandRecord, 'status' | 'sentAt' | 'ackedAt' | 'result' | 'error' | 'finishedAt' | 'attempts'>>;

export type InsertResult = { ok: true } | { ok: false; pending: number };

/**
 * Where commands live: in this process by default, in Redis in a cluster.
 * Async, and every method takes and returns detached copies, so an
 * implementation over the network fits the same shape. The two writes that
 * race (`insert` against the per-client bound, `update` against a concurrent
 * ACK or expiry) are compare-and-set, so they stay correct there too.
 */
export interface CommandStore {
  /** Adds the command unless its client already has `maxPending` queued or sent ones. */
  insert(command: CommandRecord, maxPending: number): Promise<InsertResult>;
  get(id: string): Promise<CommandRecord | undefined>;
  /**
   * Applies `patch` only while the command's status is one of `from`.
   * Returns the updated copy, or undefined (unknown id, or another status).
   */
  update(id: string, from: readonly CommandStatus[], patch: CommandPatch): Promise<CommandRecord | undefined>;
  /** The client's queued and sent commands, oldest first (the delivery order). */
  pending(clientId: string): Promise<CommandRecord[]>;
  /** Queued or sent commands with `expiresAt <= now`. */
  due(now: number): Promise<CommandRecord[]>;
  /** Removes final commands with `finishedAt <= before`; how many went. */
  purgeFinished(before: number): Promise<number>;
  /** Oldest first; `cursor` is the opaque position after the last item returned. */
  list(query: CommandQuery, page: PageRequest): Promise<Page<CommandRecord>>;
}

export const COMMAND_STORE = Symbol('COMMAND_STORE');
