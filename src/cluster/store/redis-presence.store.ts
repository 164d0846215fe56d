import { decodeCursor, encodeCursor, matchesFilter, PresenceStore } from '../../presence/presence.store';
import type { ClientFilter, ClientRecord, Page, PageRequest, PresenceEvent, PresenceStats, PresenceStatus } from '../../presence/presence.types';
import { KEY_PREFIX, keys } from '../keys';
import { whenRedisAnswers } from '../redis-back';
import type { RedisClient } from '../redis-connection';
import { DELETE, NEXT_EPOCH, PAGE, SAVE } from './presence-scripts';

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
/** Records fetched per script call while scanning for a filtered page. */
const SCAN_CHUNK = 500;

/**
 * A save that replaced a record another node held (a connected session, or
 * a leave/close record it keeps): that node must drop its socket or its
 * stale record (takeover).
 */
export interface DisplacedSession {
  clientId: string;
  nodeId: string;
  epoch: number;
  /** The epoch that replaced it. */
  by: number;
}

/**
 * Client records in Redis (docs/CLUSTER.md, "Data model"). Every write is one
 * script (fenced by epoch, counters kept in the same step); reads are one
 * command for a record or stats and one script per chunk of a page.
 *
 * Paging is by clientId over a lexicographic ZSET; a status filter walks that
 * status's index, and its total is a ZCARD. The other filters (connected, q,
 * meta, clientIds) are applied here to the records read, so their pages and
 * totals cost a walk of the index: fine for an admin page, documented as O(N).
 */
export class RedisPresenceStore implements PresenceStore {
  /** Called when a save took a client over from a record another node held (its session there, connected or not). */
  onDisplaced: ((d: DisplacedSession) => void) | undefined;
  /** Called when a save of a connected session was fenced off: a newer session holds the client elsewhere. */
  onFenced: ((clientId: string, epoch: number) => void) | undefined;

  constructor(
    private readonly redis: RedisClient,
    /** This process's boot id, kept with each connected client in the reaper's set (see REAP). */
    private readonly bootId = '',
  ) {}

  async save(record: ClientRecord): Promise<boolean> {
    const reply = await SAVE.run<[number, string, string, string, number]>(this.redis, [], [
      KEY_PREFIX,
      record.clientId,
      record.epoch,
      record.nodeId,
      record.status,
      record.connected ? '1' : '0',
      JSON.stringify(record),
      this.bootId,
    ]);
    const [written, prevNode, prevEpoch, , prevHeld] = reply;
    // A reaped record (held by nobody) needs no word to its dead node.
    if (written === 1 && prevHeld === 1 && prevNode !== record.nodeId && Number(prevEpoch) < record.epoch) {
      this.onDisplaced?.({ clientId: record.clientId, nodeId: prevNode, epoch: Number(prevEpoch), by: record.epoch });
    } else if (written === 0 && record.connected) {
      // The newer session's save landed first: this one is the session to drop.
      this.onFenced?.(record.clientId, record.epoch);
    }
    return written === 1;
  }

  /**
   * The epoch of a new session of the client: unique and increasing across
   * nodes (see NEXT_EPOCH). With Redis unreachable it waits for Redis to
   * answer: the session is fenced by this number, so none can be made up
   * here, and presence runs the login (then the rest of that client's steps)
   * once it has it. The socket is served meanwhile.
   */
  async nextEpoch(clientId: string, atLeast: number): Promise<number> {
    return Number(await whenRedisAnswers(this.redis, () => NEXT_EPOCH.run(this.redis, [], [KEY_PREFIX, clientId, atLeast])));
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const f = (await this.redis.sendCommand(['HMGET', keys.client(clientId), 'rec', 'status', 'connected', 'reap'])) as Array<string | null>;
    return toRecord(f[0], f[1], f[2], f[3]);
  }

  async delete(clientId: string): Promise<void> {
    await DELETE.run(this.redis, [], [KEY_PREFIX, clientId]);
  }

  async list(filter: ClientFilter, page: PageRequest): Promise<Page<ClientRecord>> {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const after = decodeCursor(page.cursor) ?? '';
    const onlyStatus = isOnlyStatus(filter);
    const items: ClientRecord[] = [];
    let total = 0;
    let more = false;
    if (filter.clientIds !== undefined) {
      const wanted = [...new Set(filter.clientIds)].sort(compare);
      for (const id of wanted) {
        const r = await this.get(id);
        if (!r || !matchesFilter(r, filter)) continue;
        total++;
        if (id <= after && after !== '') continue;
        if (items.length < limit) items.push(r);
        else more = true;
      }
    } else if (onlyStatus) {
      // The total is the index's size, read with the first chunk (one page is one chunk up to SCAN_CHUNK, and agrees with it):
      // read just the page, plus one to know whether there is more.
      const index = filter.status !== undefined ? keys.clientsByStatus(filter.status) : keys.clients;
      let position = after;
      let first = true;
      while (!more) {
        const chunk = await this.page(index, position, Math.min(limit + 1 - items.length, SCAN_CHUNK));
        if (first) total = chunk.size;
        first = false;
        for (const r of chunk.records) {
          if (items.length < limit) items.push(r);
          else more = true;
        }
        if (chunk.last === undefined || chunk.ids === 0) break;
        position = chunk.last;
      }
    } else {
      // Filters on the record itself: one walk of the index counts the total and fills the page.
      const index = filter.status !== undefined ? keys.clientsByStatus(filter.status) : keys.clients;
      let position = '';
      for (;;) {
        const chunk = await this.page(index, position, SCAN_CHUNK);
        for (const r of chunk.records) {
          if (!matchesFilter(r, filter)) continue;
          total++;
          if (after !== '' && r.clientId <= after) continue;
          if (items.length < limit) items.push(r);
          else more = true;
        }
        if (chunk.last === undefined || chunk.ids < SCAN_CHUNK) break;
        position = chunk.last;
      }
    }
    return { items, total, ...(more ? { nextCursor: encodeCursor(items[items.length - 1].clientId) } : {}) };
  }

  async ids(filter: ClientFilter): Promise<string[]> {
    if (isOnlyStatus(filter)) {
      const index = filter.status !== undefined ? keys.clientsByStatus(filter.status) : keys.clients;
      return (await this.redis.sendCommand(['ZRANGE', index, '-', '+', 'BYLEX'])) as string[];
    }
    if (filter.clientIds !== undefined) {
      const out: string[] = [];
      for (const id of new Set(filter.clientIds)) {
        const r = await this.get(id);
        if (r && matchesFilter(r, filter)) out.push(id);
      }
      return out;
    }
    const index = filter.status !== undefined ? keys.clientsByStatus(filter.status) : keys.clients;
    const out: string[] = [];
    let position = '';
    for (;;) {
      const chunk = await this.page(index, position, SCAN_CHUNK);
      for (const r of chunk.records) if (matchesFilter(r, filter)) out.push(r.clientId);
      if (chunk.last === undefined || chunk.ids < SCAN_CHUNK) return out;
      position = chunk.last;
    }
  }

  async stats(): Promise<PresenceStats> {
    const flat = (await this.redis.sendCommand(['HGETALL', keys.stats])) as string[] | Record<string, string>;
    return statsFrom(Array.isArray(flat) ? pairs(flat) : Object.entries(flat));
  }

  private async page(index: string, after: string, count: number): Promise<{ records: ClientRecord[]; ids: number; size: number; last?: string }> {
    const flat = await PAGE.run<Array<string | number | null>>(this.redis, [], [KEY_PREFIX, index, after, Math.max(1, count)]);
    const records: ClientRecord[] = [];
    let last: string | undefined;
    for (let i = 1; i < flat.length; i += 5) {
      last = flat[i] as string;
      const r = toRecord(flat[i + 1] as string | null, flat[i + 2] as string | null, flat[i + 3] as string | null, flat[i + 4] as string | null);
      if (r) records.push(r);
    }
    return { records, ids: (flat.length - 1) / 5, size: Number(flat[0]), last };
  }
}

function isOnlyStatus(f: ClientFilter): boolean {
  return f.connected === undefined && f.clientIds === undefined && f.meta === undefined && (f.q === undefined || f.q === '');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The record as the owning node wrote it, with what the reaper changed since laid over it. */
export function toRecord(rec: string | null | undefined, status: string | null | undefined, connected: string | null | undefined, reap: string | null | undefined): ClientRecord | undefined {
  if (!rec) return undefined;
  const r = JSON.parse(rec) as ClientRecord;
  if (status) r.status = status as PresenceStatus;
  if (connected) r.connected = connected === '1';
  if (reap) {
    // One event (the reaper's) or several (then the orphan sweep's close): see orphan-scripts.ts.
    const parsed = JSON.parse(reap) as PresenceEvent | PresenceEvent[];
    for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
      r.statusSince = event.at;
      r.transitions.push(event);
      if (event.to === 'close' && event.from !== 'close') {
        r.closeReason = event.reason;
        r.closedAt = event.at;
      }
    }
  }
  return r;
}

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

function statsFrom(entries: Array<[string, string]>): PresenceStats {
  const stats: PresenceStats = { total: 0, byStatus: { alive: 0, leave: 0, close: 0 }, connected: 0, nodes: {} };
  for (const [field, value] of entries) {
    const n = Number(value);
    if (field === 'total') stats.total = n;
    else if (field === 'connected') stats.connected = n;
    else if (field.startsWith('s:')) {
      const status = field.slice(2) as PresenceStatus;
      if (status in stats.byStatus) stats.byStatus[status] = n;
    } else if (field.startsWith('n:')) {
      const i = field.lastIndexOf(':');
      const node = field.slice(2, i);
      const kind = field.slice(i + 1);
      const entry = (stats.nodes[node] ??= { connected: 0, total: 0 });
      if (kind === 'total') entry.total = n;
      else if (kind === 'connected') entry.connected = n;
    }
  }
  // A node whose last record moved away keeps zero counters; it holds nothing.
  for (const [node, entry] of Object.entries(stats.nodes)) if (entry.total === 0 && entry.connected === 0) delete stats.nodes[node];
  return stats;
}
