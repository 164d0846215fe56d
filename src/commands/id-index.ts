const NONE: readonly string[] = Object.freeze([]);

/**
 * key → ids, in the order they were added: the command store's indexes per
 * client (all its commands, and its pending ones). Most keys hold one id (a
 * client with one command in flight), so that one is kept inline and a Set
 * is made only for a second: a Set made and dropped per command cost more
 * than the rest of the store's work for a broadcast and its ACKs.
 */
export class IdIndex {
  private readonly map = new Map<string, string | Set<string>>();

  add(key: string, id: string): void {
    const held = this.map.get(key);
    if (held === undefined) this.map.set(key, id);
    else if (typeof held === 'string') {
      if (held !== id) this.map.set(key, new Set([held, id]));
    } else held.add(id);
  }

  delete(key: string, id: string): void {
    const held = this.map.get(key);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === id) this.map.delete(key);
      return;
    }
    held.delete(id);
    if (held.size === 0) this.map.delete(key);
  }

  count(key: string): number {
    const held = this.map.get(key);
    if (held === undefined) return 0;
    return typeof held === 'string' ? 1 : held.size;
  }

  /** The key's ids, oldest first. */
  ids(key: string): Iterable<string> {
    const held = this.map.get(key);
    if (held === undefined) return NONE;
    return typeof held === 'string' ? [held] : held;
  }

  /** Every id under every key. */
  *all(): IterableIterator<string> {
    for (const held of this.map.values()) {
      if (typeof held === 'string') yield held;
      else yield* held;
    }
  }
}
