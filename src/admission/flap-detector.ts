export interface FlapDetectorOptions {
  /** Events a key may have within `windowMs`; the one after bans it. @default 15 */
  max: number;
  /** @default 60000 */
  windowMs: number;
  /** How long a ban lasts. @default 300000 */
  banMs: number;
  /** Keys tracked at once; past it the oldest is forgotten (so the detector itself is bounded). @default 100000 */
  maxKeys: number;
}

interface KeyState {
  /** Exact mode: the times of the last `max` events, a ring. */
  ring: Float64Array | undefined;
  /** Next slot of the ring (and events seen, while the ring is not full). */
  next: number;
  /** Start of the current fixed window (estimate mode). */
  windowStart: number;
  current: number;
  previous: number;
  /** Epoch ms the ban ends; 0 when not banned. */
  bannedUntil: number;
}

/**
 * Counts events per key (logins of a clientId, of a peer host, connects of
 * an IP) in a sliding window and bans a key that has more than `max` of them
 * (EMQX's flapping detection: 15 in 1 min → 5 min ban by default).
 *
 * Up to `max` = 64 the count is exact: each key keeps the times of its last
 * `max` events in a ring, and an event is one too many when the oldest of
 * them is still inside the window. Above that (a threshold for a whole peer
 * host) it is the usual two-window estimate, this window's count plus the
 * previous one's weighted by how much of it still overlaps: O(1) memory per
 * key whatever `max`, and a burst at a window edge cannot pass 2 × max.
 */
/** Largest `max` counted exactly (8 bytes per event slot per key). */
const MAX_EXACT = 64;

export class FlapDetector {
  private readonly keys = new Map<string, KeyState>();
  private readonly exact: boolean;

  constructor(private readonly options: FlapDetectorOptions) {
    this.exact = options.max <= MAX_EXACT;
  }

  /**
   * Records one event for `key` at `now`. Returns the epoch ms its ban ends
   * when the key is banned (before this event or because of it), else 0. An
   * event of a banned key is refused and not counted: the ban is not extended.
   */
  hit(key: string, now: number): number {
    let s = this.keys.get(key);
    if (s === undefined) {
      if (this.keys.size >= this.options.maxKeys) this.evictOne(now);
      s = { ring: this.exact ? new Float64Array(this.options.max) : undefined, next: 0, windowStart: now, current: 0, previous: 0, bannedUntil: 0 };
      this.keys.set(key, s);
    }
    if (s.bannedUntil > now) return s.bannedUntil;
    if (!this.tooMany(s, now)) return 0;
    s.bannedUntil = now + this.options.banMs;
    // A fresh count after the ban: the events that earned it are paid for.
    s.next = s.current = s.previous = 0;
    return s.bannedUntil;
  }

  /** Counts one event; true when it is one more than `max` within the window. */
  private tooMany(s: KeyState, now: number): boolean {
    const ring = s.ring;
    if (ring !== undefined) {
      const max = ring.length;
      s.windowStart = now; // last activity, for sweep()
      if (max === 0) return true;
      const slot = s.next % max;
      const full = s.next >= max;
      const oldest = ring[slot];
      ring[slot] = now;
      s.next = full ? max + ((slot + 1) % max) : s.next + 1;
      return full && now - oldest < this.options.windowMs;
    }
    this.roll(s, now);
    s.current++;
    return this.estimate(s, now) > this.options.max;
  }

  /** The epoch ms the key's ban ends, or 0 when it is not banned at `now`. */
  bannedUntil(key: string, now: number): number {
    const until = this.keys.get(key)?.bannedUntil ?? 0;
    return until > now ? until : 0;
  }

  /** Events counted for `key` in the last window (the sliding estimate, rounded up). */
  count(key: string, now: number): number {
    const s = this.keys.get(key);
    if (!s) return 0;
    if (s.ring !== undefined) {
      let n = 0;
      const seen = Math.min(s.next, s.ring.length);
      for (let i = 0; i < seen; i++) if (now - s.ring[i] < this.options.windowMs) n++;
      return n;
    }
    this.roll(s, now);
    return Math.ceil(this.estimate(s, now));
  }

  /** Forgets keys with nothing counted in the last two windows and no ban; returns how many. */
  sweep(now: number): number {
    let removed = 0;
    for (const [key, s] of this.keys) {
      if (s.bannedUntil <= now && now - s.windowStart >= 2 * this.options.windowMs) {
        this.keys.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Keys currently banned. */
  banned(now: number): number {
    let n = 0;
    for (const s of this.keys.values()) if (s.bannedUntil > now) n++;
    return n;
  }

  get size(): number {
    return this.keys.size;
  }

  private roll(s: KeyState, now: number): void {
    const w = this.options.windowMs;
    const elapsed = now - s.windowStart;
    if (elapsed < w) return;
    // One window on: the current becomes the previous; two or more: both are history.
    s.previous = elapsed < 2 * w ? s.current : 0;
    s.current = 0;
    s.windowStart += Math.floor(elapsed / w) * w;
  }

  private estimate(s: KeyState, now: number): number {
    const overlap = 1 - (now - s.windowStart) / this.options.windowMs;
    return s.current + s.previous * overlap;
  }

  /** Makes room for one key: the oldest that is not banned, else simply the oldest. */
  private evictOne(now: number): void {
    let scanned = 0;
    for (const [key, s] of this.keys) {
      // Bounded scan: at worst a banned key goes, never an O(n) walk per event.
      if (s.bannedUntil <= now || ++scanned > 64) {
        this.keys.delete(key);
        return;
      }
    }
  }
}
