const NONE: readonly string[] = Object.freeze([]);

interface Batch {
  ids: string[];
  /** How many of `ids` are still stored. */
  live: number;
}

/**
 * batchId → its command ids in creation order. A batch is written in one go
 * (a broadcast) and read back whole or by pages, so its ids go into an
 * array: one push per command, where a Set would hash each and regrow. A
 * purge only counts down; the ids stay until the whole batch is gone, so
 * readers skip ids that are no longer stored.
 */
export class BatchIndex {
  private readonly map = new Map<string, Batch>();

  add(batchId: string, id: string): void {
    let batch = this.map.get(batchId);
    if (batch === undefined) this.map.set(batchId, (batch = { ids: [], live: 0 }));
    batch.ids.push(id);
    batch.live++;
  }

  /** One of the batch's commands was removed (each id is removed at most once). */
  removed(batchId: string): void {
    const batch = this.map.get(batchId);
    if (batch !== undefined && --batch.live === 0) this.map.delete(batchId);
  }

  /** The batch's ids, oldest first, including removed ones. */
  ids(batchId: string): readonly string[] {
    return this.map.get(batchId)?.ids ?? NONE;
  }
}
