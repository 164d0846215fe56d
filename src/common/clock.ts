/**
 * Time as every time-based part sees it. Injected (token CLOCK) so tests can
 * drive windows, timeouts and expiry by hand instead of sleeping.
 */
export interface Clock {
  /** Wall-clock epoch milliseconds (timestamps, expiry, lag measurement). */
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  constructor(private t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
}
