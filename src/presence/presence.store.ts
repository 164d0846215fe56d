import type { ClientFilter, ClientRecord, Page, PageRequest, PresenceStats } from './presence.types';

/**
 * Where client records live: in this process by default, in Redis in a
 * cluster. Async, and every method returns detached copies, so an
 * implementation over the network fits the same shape.
 *
 * The store holds a record as of its last transition, login or close; the
 * per-frame fields (lastSeenAt, livenessCursor, reported, …) of a client
 * connected to this node are overlaid by PresenceService when it answers.
 *
 * Calls for one client are applied in the order they are made (presence
 * issues them without waiting for the previous one; a remote store keeps
 * them on one ordered channel, e.g. one connection or pipeline).
 *
 * A store plugs in through `LongLinkModuleOptions.presenceStore` (or the
 * `STORE` setting) and must pass `presenceStoreContract` in
 * test/contract/presence-store.contract.ts.
 */
export interface PresenceStore {
  /**
   * Writes the record unless the stored one has a higher `epoch` (the session
   * fence: a late write of an older session must not overwrite a newer
   * session's record). Resolves true when written, false when fenced off.
   * An equal epoch is the same session and is written.
   * Takes ownership of `record`: the caller never mutates it afterwards, so a
   * store may keep it as is.
   */
  save(record: ClientRecord): Promise<boolean>;
  /**
   * Optional, for a store several nodes share (Redis): the epoch of a new
   * session of the client, handed out atomically (unique across nodes,
   * above every earlier one and above `atLeast`). Without it, presence
   * counts on from its own entry or the stored record.
   */
  nextEpoch?(clientId: string, atLeast: number): Promise<number>;
  get(clientId: string): Promise<ClientRecord | undefined>;
  /**
   * Optional, for a durable store that one node owns (SQLite): every record
   * it kept from the last run. PresenceService takes them over at start, so
   * its leave timeout and retention cover them, and marks those that were
   * connected when the process died `leave` ('gateway restarted'). A store
   * shared by many nodes (Redis) leaves it out: its dead-node reaper does that.
   */
  loadOnStart?(): Promise<ClientRecord[]>;
  delete(clientId: string): Promise<void>;
  /** Ordered by clientId; `cursor` is the opaque position after the last item returned. */
  list(filter: ClientFilter, page: PageRequest): Promise<Page<ClientRecord>>;
  stats(): Promise<PresenceStats>;
  /** The clientIds of every record that passes the filter, in no particular order (no copies of records: for fan-out). */
  ids(filter: ClientFilter): Promise<string[]>;
}

export const PRESENCE_STORE = Symbol('PRESENCE_STORE');

/**
 * Does the record pass the filter? Shared by store implementations. A store
 * that keeps the lower-cased search texts of a record (its clientId, its
 * meta's JSON) passes them in: building them per record per `?q=` query was
 * most of the ~150 ms a query over 22,000 records held the loop.
 */
export function matchesFilter(r: ClientRecord, f: ClientFilter, text?: SearchText): boolean {
  if (f.status !== undefined && r.status !== f.status) return false;
  if (f.connected !== undefined && r.connected !== f.connected) return false;
  if (f.clientIds !== undefined && !f.clientIds.includes(r.clientId)) return false;
  if (f.meta !== undefined) {
    for (const [k, v] of Object.entries(f.meta)) {
      if (JSON.stringify(r.meta[k]) !== JSON.stringify(v)) return false;
    }
  }
  if (f.q !== undefined && f.q !== '') {
    const q = f.q.toLowerCase();
    const t = text ?? searchText(r);
    if (!t.clientId.includes(q) && !t.meta.includes(q)) return false;
  }
  return true;
}

/** What `q` is matched against: clientId and the JSON of meta, lower-cased. */
export interface SearchText {
  clientId: string;
  meta: string;
}

export function searchText(r: ClientRecord): SearchText {
  return { clientId: r.clientId.toLowerCase(), meta: JSON.stringify(r.meta).toLowerCase() };
}

export function encodeCursor(clientId: string): string {
  return Buffer.from(clientId).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  return Buffer.from(cursor, 'base64url').toString();
}
