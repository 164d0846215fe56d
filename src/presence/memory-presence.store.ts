import { Injectable } from '@nestjs/common';
import { detachRecord } from './detach-record';
import { decodeCursor, encodeCursor, matchesFilter, PresenceStore } from './presence.store';
import type { ClientFilter, ClientRecord, Page, PageRequest, PresenceStats } from './presence.types';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** The default store: records in a Map of this process, copied in and out. */
@Injectable()
export class MemoryPresenceStore implements PresenceStore {
  private readonly records = new Map<string, ClientRecord>();

  async save(record: ClientRecord): Promise<boolean> {
    const current = this.records.get(record.clientId);
    if (current !== undefined && current.epoch > record.epoch) return false; // fenced: an older session's late write
    // Ownership passes to us (see PresenceStore.save): no copy on the way in,
    // one on the way out.
    this.records.set(record.clientId, record);
    return true;
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const r = this.records.get(clientId);
    return r && detachRecord(r);
  }

  async delete(clientId: string): Promise<void> {
    this.records.delete(clientId);
  }

  async list(filter: ClientFilter, page: PageRequest): Promise<Page<ClientRecord>> {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const after = decodeCursor(page.cursor);
    const matching: ClientRecord[] = [];
    for (const r of this.records.values()) if (matchesFilter(r, filter)) matching.push(r);
    matching.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
    let start = 0;
    if (after !== undefined) {
      while (start < matching.length && matching[start].clientId <= after) start++;
    }
    const items = matching.slice(start, start + limit).map(detachRecord);
    const more = start + limit < matching.length;
    return {
      items,
      total: matching.length,
      ...(more ? { nextCursor: encodeCursor(items[items.length - 1].clientId) } : {}),
    };
  }

  async ids(filter: ClientFilter): Promise<string[]> {
    const ids: string[] = [];
    for (const r of this.records.values()) if (matchesFilter(r, filter)) ids.push(r.clientId);
    return ids;
  }

  async stats(): Promise<PresenceStats> {
    const stats: PresenceStats = { total: 0, byStatus: { alive: 0, leave: 0, close: 0 }, connected: 0, nodes: {} };
    for (const r of this.records.values()) {
      stats.total++;
      stats.byStatus[r.status]++;
      const node = (stats.nodes[r.nodeId] ??= { connected: 0, total: 0 });
      node.total++;
      if (r.connected) {
        stats.connected++;
        node.connected++;
      }
    }
    return stats;
  }
}
