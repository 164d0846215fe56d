/**
 * Items kept in clientId code-unit order (the order of `list`) as they come
 * and go: binary search plus one splice each, instead of sorting every
 * matching record on every query. Walking an array is also several times
 * cheaper than a Map lookup per id.
 */
export class SortedById<T extends { readonly id: string }> {
  private readonly items: T[] = [];

  get length(): number {
    return this.items.length;
  }

  at(i: number): T {
    return this.items[i];
  }

  add(item: T): void {
    const i = this.lowerBound(item.id);
    if (this.items[i]?.id === item.id) this.items[i] = item;
    else this.items.splice(i, 0, item);
  }

  delete(id: string): void {
    const i = this.lowerBound(id);
    if (this.items[i]?.id === id) this.items.splice(i, 1);
  }

  /** Index of the first item whose id is strictly after `id` (0 for undefined). */
  after(id: string | undefined): number {
    if (id === undefined) return 0;
    const i = this.lowerBound(id);
    return this.items[i]?.id === id ? i + 1 : i;
  }

  private lowerBound(id: string): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
