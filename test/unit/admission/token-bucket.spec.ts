import { TokenBucket } from '../../../src/admission/token-bucket';

describe('TokenBucket', () => {
  it('lets a burst through, then the rate', () => {
    const t0 = 1_000_000;
    const b = new TokenBucket(10, 5, t0); // 10/s, burst 5
    for (let i = 0; i < 5; i++) expect(b.take(t0)).toBe(true);
    expect(b.take(t0)).toBe(false);
    // 100 ms = 1 token at 10/s
    expect(b.take(t0 + 99)).toBe(false);
    expect(b.take(t0 + 100)).toBe(true);
    expect(b.take(t0 + 100)).toBe(false);
  });

  it('saves up at most `burst`', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) b.take(0);
    let taken = 0;
    while (b.take(60_000)) taken++;
    expect(taken).toBe(5);
  });

  it('takes n at once (bytes) and refuses without spending when short', () => {
    const b = new TokenBucket(1000, 1000, 0);
    expect(b.take(0, 600)).toBe(true);
    expect(b.take(0, 600)).toBe(false);
    expect(b.level).toBe(400);
    expect(b.take(200, 600)).toBe(true);
  });

  it('ignores a clock that goes backwards', () => {
    const b = new TokenBucket(10, 1, 1000);
    expect(b.take(1000)).toBe(true);
    expect(b.take(500)).toBe(false);
    expect(b.take(1100)).toBe(true);
  });
});
