import type { Page, PageRequest } from '../presence/presence.types';
import type { CommandQuery, CommandRecord, CommandStatus } from './command.types';

/** The fields a status change may write. */
export type CommandPatch = Partial<Pick<CommandRecord, 'status' | 'sentAt' | 'ackedAt' | 'result' | 'error' | 'finishedAt' | 'attempts'>>;

export type InsertResult = { ok: true } | { ok: false; pending: number };

/** What a status write did: the command as it is now, and the status it left. */
export interface CommandChange {
  record: CommandRecord;
  from: CommandStatus;
}

/**
 * Where commands live: in this process by default, in Redis in a cluster.
 * Async, and every method takes and returns detached copies, so an
 * implementation over the network fits the same shape. The writes that race
 * (`insert`/`insertMany` against the per-client bound, `update`/`transition`
 * against a concurrent ACK or expiry) are compare-and-set, so they stay
 * correct there too. A broadcast is one `insertMany` and each ACK one
 * `transition`: no call per client beyond that, so a remote store costs a
 * round trip per broadcast, not per client.
 *
 * A store plugs in through `LongLinkModuleOptions.commandStore` (or the
 * `STORE` setting) and must pass `commandStoreContract` in
 * test/contract/command-store.contract.ts.
 */
export interface CommandStore {
  /** Adds the command unless its client already has `maxPending` queued or sent ones. */
  insert(command: CommandRecord, maxPending: number): Promise<InsertResult>;
  /**
   * `insert` for a whole batch (a broadcast) in one call: each command under
   * the same per-client bound, counted as the batch fills up. Results are in
   * the order of `commands`.
   */
  insertMany(commands: readonly CommandRecord[], maxPending: number): Promise<InsertResult[]>;
  /**
   * Optional: `insertMany` for a sender that writes the CMDs before the rows
   * are durable. The per-client bound is decided at once (`results`); the
   * rows are stored before any later call of this store runs, and
   * `committed` settles once they are durable (a broadcast to 10,000
   * clients then reaches the first before 10,000 rows are written; its HTTP
   * answer waits for `committed`).
   */
  insertManyNow?(commands: readonly CommandRecord[], maxPending: number): { results: InsertResult[]; committed: Promise<void> };
  get(id: string): Promise<CommandRecord | undefined>;
  /**
   * Applies `patch` only while the command's status is one of `from`.
   * Returns the updated copy, or undefined (unknown id, or another status).
   */
  update(id: string, from: readonly CommandStatus[], patch: CommandPatch): Promise<CommandRecord | undefined>;
  /**
   * `update` that also says which status it replaced (every status change is
   * an event with `from`), and, with `clientId`, applies only to a command of
   * that client (an ACK may name only its own commands). One round trip.
   */
  transition(id: string, from: readonly CommandStatus[], patch: CommandPatch, clientId?: string): Promise<CommandChange | undefined>;
  /** The client's queued and sent commands, oldest first (the delivery order). */
  pending(clientId: string): Promise<CommandRecord[]>;
  /**
   * How many queued or sent commands the client has. Lets a LOGIN with
   * nothing to deliver skip the delivery machinery (most logins have
   * nothing), so it should be cheap (an index or counter, not a scan).
   */
  pendingCount(clientId: string): Promise<number>;
  /** Queued or sent commands with `expiresAt <= now`. */
  due(now: number): Promise<CommandRecord[]>;
  /** Removes final commands with `finishedAt <= before`; how many went. */
  purgeFinished(before: number): Promise<number>;
  /** Oldest first; `cursor` is the opaque position after the last item returned. */
  list(query: CommandQuery, page: PageRequest): Promise<Page<CommandRecord>>;
}

export const COMMAND_STORE = Symbol('COMMAND_STORE');
