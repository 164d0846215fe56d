export interface BackoffOptions {
  /** Ceiling of the first delay (the cap grows from here). @default 1000 */
  minDelayMs?: number;
  /** Largest ceiling, whatever the number of attempts. @default 30000 */
  maxDelayMs?: number;
  /** Growth of the ceiling per attempt. @default 2 */
  factor?: number;
  /** Uniform random source in [0, 1); tests pass a seeded one. @default Math.random */
  random?: () => number;
}

export const BACKOFF_DEFAULTS = { minDelayMs: 1000, maxDelayMs: 30_000, factor: 2 } as const;

/**
 * Exponential backoff with full jitter: attempt n (from 0) waits a uniformly
 * random whole number of milliseconds in [0, cap(n)], with
 * cap(n) = min(maxDelayMs, minDelayMs × factor^n).
 *
 * Full jitter (rather than "cap ± 50 %") is what spreads a herd: when a
 * gateway restarts, 10,000 devices that lost it at the same instant come back
 * spread over the whole window instead of in synchronised waves.
 */
export class Backoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  private readonly random: () => number;
  private n = 0;

  constructor(options: BackoffOptions = {}) {
    const min = options.minDelayMs ?? BACKOFF_DEFAULTS.minDelayMs;
    const max = options.maxDelayMs ?? BACKOFF_DEFAULTS.maxDelayMs;
    const factor = options.factor ?? BACKOFF_DEFAULTS.factor;
    if (!(Number.isFinite(min) && min >= 0)) throw new RangeError(`backoff minDelayMs must be a finite number >= 0, got ${min}`);
    if (!(Number.isFinite(max) && max >= min)) {
      throw new RangeError(`backoff maxDelayMs must be a finite number >= minDelayMs (${min}), got ${max}`);
    }
    if (!(Number.isFinite(factor) && factor >= 1)) throw new RangeError(`backoff factor must be a finite number >= 1, got ${factor}`);
    this.minDelayMs = min;
    this.maxDelayMs = max;
    this.factor = factor;
    this.random = options.random ?? Math.random;
  }

  /** Delays handed out since the last reset(). */
  get attempts(): number {
    return this.n;
  }

  /** Ceiling of the next duration(), without consuming an attempt. */
  get nextCapMs(): number {
    return this.capFor(this.n);
  }

  /** The next delay in ms, an integer in [0, cap(attempts)]; counts one attempt. */
  duration(): number {
    const cap = this.capFor(this.n);
    this.n++;
    // floor(r × (cap + 1)) with r in [0, 1) covers 0..cap inclusive, each with
    // equal weight; floor(r × cap) would never return the cap itself.
    const r = this.random();
    return Math.min(cap, Math.floor(r * (cap + 1)));
  }

  /** Back to the first attempt (after a connection that stayed up). */
  reset(): void {
    this.n = 0;
  }

  private capFor(n: number): number {
    if (this.minDelayMs === 0) return 0;
    // factor^n overflows to Infinity after ~1000 doublings; the cap is then max.
    const grown = this.minDelayMs * Math.pow(this.factor, n);
    return Math.floor(Number.isFinite(grown) ? Math.min(this.maxDelayMs, grown) : this.maxDelayMs);
  }
}
