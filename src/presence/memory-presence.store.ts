import { setImmediate as nextTurn } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { detachRecord } from './detach-record';
import { decodeCursor, encodeCursor, matchesFilter, PresenceStore, SearchText } from './presence.store';
import type { ClientFilter, ClientRecord, Page, PageRequest, PresenceStats } from './presence.types';
import { SortedById } from './sorted-by-id';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/**
 * Records a query looks at before it lets the event loop run other work: an
 * admin polling `?q=` every 100 ms must not add its scan to every device's
 * round trip (one slice is ~1 ms on a quiet core).
 */
export const SCAN_SLICE = 4000;

/** One record and its lower-cased search texts, rebuilt only when its meta object changes. */
class Slot implements SearchText {
  clientId: string;
  private metaOf: Record<string, unknown> | undefined;
  private metaText = '';
  constructor(
    readonly id: string,
    public record: ClientRecord,
  ) {
    this.clientId = id.toLowerCase();
  }
  get meta(): string {
    if (this.metaOf !== this.record.meta) {
      this.metaOf = this.record.meta;
      this.metaText = JSON.stringify(this.metaOf).toLowerCase();
    }
    return this.metaText;
  }
}

/** The default store: records in this process, copied on the way out. */
@Injectable()
export class MemoryPresenceStore implements PresenceStore {
  private readonly slots = new Map<string, Slot>();
  private readonly order = new SortedById<Slot>();

  async save(record: ClientRecord): Promise<boolean> {
    const slot = this.slots.get(record.clientId);
    if (slot !== undefined && slot.record.epoch > record.epoch) return false; // fenced: an older session's late write
    // Ownership passes to us (see PresenceStore.save): no copy on the way in,
    // one on the way out.
    if (slot !== undefined) {
      slot.record = record;
      return true;
    }
    const fresh = new Slot(record.clientId, record);
    this.slots.set(record.clientId, fresh);
    this.order.add(fresh);
    return true;
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const slot = this.slots.get(clientId);
    return slot && detachRecord(slot.record);
  }

  async delete(clientId: string): Promise<void> {
    if (this.slots.delete(clientId)) this.order.delete(clientId);
  }

  /**
   * Walks the records in id order, in slices of SCAN_SLICE with a turn of
   * the event loop between them; the page is the first `limit` matches after
   * the cursor, `total` counts every match (all pages). A record changed or
   * removed between slices is seen as it is when its turn comes.
   */
  async list(filter: ClientFilter, page: PageRequest): Promise<Page<ClientRecord>> {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const after = decodeCursor(page.cursor);
    const picked: ClientRecord[] = [];
    let total = 0;
    let more = false;
    await this.scan((slot) => {
      if (!matchesFilter(slot.record, filter, slot)) return;
      total++;
      if (after !== undefined && slot.id <= after) return;
      if (picked.length < limit) picked.push(slot.record);
      else more = true;
    });
    const items = picked.map(detachRecord);
    return {
      items,
      total,
      ...(more ? { nextCursor: encodeCursor(items[items.length - 1].clientId) } : {}),
    };
  }

  async ids(filter: ClientFilter): Promise<string[]> {
    const ids: string[] = [];
    await this.scan((slot) => {
      if (matchesFilter(slot.record, filter, slot)) ids.push(slot.id);
    });
    return ids;
  }

  async stats(): Promise<PresenceStats> {
    const stats: PresenceStats = { total: 0, byStatus: { alive: 0, leave: 0, close: 0 }, connected: 0, nodes: {} };
    for (const { record: r } of this.slots.values()) {
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

  /** Visits every record in id order, yielding to the loop every SCAN_SLICE records. */
  private async scan(visit: (slot: Slot) => void): Promise<void> {
    let i = 0;
    while (i < this.order.length) {
      const end = Math.min(i + SCAN_SLICE, this.order.length);
      for (; i < end; i++) visit(this.order.at(i));
      if (i >= this.order.length) return;
      const last = this.order.at(i - 1).id;
      await nextTurn();
      // Records added or removed meanwhile shift positions: resume after the last id visited.
      i = this.order.after(last);
    }
  }
}
