/**
 * A token bucket: `rate` tokens a second, at most `burst` saved up. One per
 * connection and direction sits on the hot path, so it is plain fields and
 * arithmetic (no timers, no allocation): it refills lazily from the time the
 * caller passes in, which is the read's time already taken for the frame.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  /** @param rate tokens per second @param burst bucket size (and the start level) */
  constructor(
    rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.perMs = rate / 1000;
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `n` tokens if there are that many (after refilling up to `now`); false leaves the bucket as it was. */
  take(now: number, n = 1): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Clock of the last refill (the last take). */
  get lastTake(): number {
    return this.last;
  }

  /** Tokens left as of the last take (for tests and logs). */
  get level(): number {
    return this.tokens;
  }
}
