import { Backoff } from '../../../src/client/backoff';

/** mulberry32: a tiny seeded PRNG, so every run draws the same "random" delays. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Backoff (exponential, full jitter)', () => {
  it('grows the cap by factor per attempt and stops at maxDelayMs', () => {
    const b = new Backoff({ minDelayMs: 100, maxDelayMs: 1000, factor: 2, random: () => 0.5 });
    const caps: number[] = [];
    for (let i = 0; i < 7; i++) {
      caps.push(b.nextCapMs);
      b.duration();
    }
    expect(caps).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(b.attempts).toBe(7);
  });

  it('keeps every delay within [0, cap] for a seeded random, over many attempts', () => {
    const b = new Backoff({ minDelayMs: 50, maxDelayMs: 5000, factor: 3, random: seeded(42) });
    const outOfRange: string[] = [];
    let atCap = 0;
    for (let i = 0; i < 2000; i++) {
      if (i % 40 === 0) b.reset();
      const cap = b.nextCapMs;
      const d = b.duration();
      if (!Number.isInteger(d) || d < 0 || d > cap) outOfRange.push(`attempt ${b.attempts - 1}: ${d} not in [0, ${cap}]`);
      if (cap === 5000) atCap++;
    }
    expect(outOfRange).toEqual([]);
    expect(atCap).toBeGreaterThan(1000); // the loop did reach the max cap
  });

  it('spreads delays over the whole window (jitter is full, not a narrow band)', () => {
    const random = seeded(7);
    const delays: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const b = new Backoff({ minDelayMs: 1000, maxDelayMs: 1000, random });
      delays.push(b.duration());
    }
    const below = delays.filter((d) => d < 250).length;
    const above = delays.filter((d) => d > 750).length;
    // Uniform on [0, 1000]: about a quarter in each end; a "cap ± 10 %" jitter would put none there.
    expect(below).toBeGreaterThan(180);
    expect(above).toBeGreaterThan(180);
    expect(Math.min(...delays)).toBeLessThan(20);
    expect(Math.max(...delays)).toBeGreaterThan(980);
  });

  it('reaches both ends of the range: 0 for random 0 and the cap itself for random just below 1', () => {
    expect(new Backoff({ minDelayMs: 300, random: () => 0 }).duration()).toBe(0);
    expect(new Backoff({ minDelayMs: 300, random: () => 0.9999999 }).duration()).toBe(300);
  });

  it('the same seed gives the same sequence, and the mean grows with attempts until the cap', () => {
    const run = (seed: number) => {
      const b = new Backoff({ minDelayMs: 10, maxDelayMs: 10_000, random: seeded(seed) });
      return Array.from({ length: 12 }, () => b.duration());
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
    const meanAt = (attempt: number) => {
      const random = seeded(attempt + 100);
      let sum = 0;
      for (let i = 0; i < 500; i++) {
        const b = new Backoff({ minDelayMs: 10, maxDelayMs: 10_000, random });
        for (let k = 0; k < attempt; k++) b.duration();
        sum += b.duration();
      }
      return sum / 500;
    };
    // cap 10, 80, 640: means near 5, 40, 320.
    expect(meanAt(0)).toBeLessThan(8);
    expect(meanAt(3)).toBeGreaterThan(30);
    expect(meanAt(3)).toBeLessThan(50);
    expect(meanAt(6)).toBeGreaterThan(280);
  });

  it('reset() goes back to the first cap', () => {
    const b = new Backoff({ minDelayMs: 100, maxDelayMs: 10_000, random: seeded(3) });
    for (let i = 0; i < 5; i++) b.duration();
    expect(b.nextCapMs).toBe(3200);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.nextCapMs).toBe(100);
    expect(b.duration()).toBeLessThanOrEqual(100);
  });

  it('does not overflow after very many attempts, and minDelayMs 0 means no delay', () => {
    const b = new Backoff({ minDelayMs: 100, maxDelayMs: 60_000, random: () => 0.5 });
    for (let i = 0; i < 5000; i++) b.duration();
    expect(b.nextCapMs).toBe(60_000);
    expect(b.duration()).toBe(30_000);
    const zero = new Backoff({ minDelayMs: 0, maxDelayMs: 0, random: () => 0.99 });
    const delays = Array.from({ length: 2000 }, () => zero.duration());
    expect(new Set(delays)).toEqual(new Set([0]));
  });

  it('refuses nonsensical options with the value it got', () => {
    expect(() => new Backoff({ minDelayMs: -1 })).toThrow('minDelayMs must be a finite number >= 0, got -1');
    expect(() => new Backoff({ minDelayMs: 500, maxDelayMs: 100 })).toThrow('maxDelayMs must be a finite number >= minDelayMs (500), got 100');
    expect(() => new Backoff({ factor: 0.5 })).toThrow('factor must be a finite number >= 1, got 0.5');
  });
});
