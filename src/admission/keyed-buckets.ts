import { TokenBucket } from './token-bucket';

/**
 * One token bucket per key (a source IP's connects), bounded in number: a
 * bucket that has refilled to full is the same as no bucket, so those are
 * the ones forgotten, and past `maxKeys` the oldest goes whatever its level.
 */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly fullAfterMs: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {
    this.fullAfterMs = (burst / rate) * 1000;
  }

  /** Takes one token of `key`'s bucket; false when it is empty. */
  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      bucket = new TokenBucket(this.rate, this.burst, now);
      this.buckets.set(key, bucket);
    } else {
      // Most recently used last, so the first in the Map is the coldest.
      this.buckets.delete(key);
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forgets every bucket that has had time to refill to full; returns how many. */
  sweep(now: number): number {
    let removed = 0;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.lastTake < this.fullAfterMs) break; // ordered by last use: the rest are warmer
      this.buckets.delete(key);
      removed++;
    }
    return removed;
  }

  private evict(now: number): void {
    if (this.sweep(now) > 0) return;
    const first = this.buckets.keys().next();
    if (!first.done) this.buckets.delete(first.value);
  }
}
