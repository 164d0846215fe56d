import { FlapDetector } from '../../../src/admission/flap-detector';

const EMQX = { max: 15, windowMs: 60_000, banMs: 300_000, maxKeys: 1000 };

describe('FlapDetector', () => {
  it('bans the 16th login within a minute for 5 minutes (EMQX defaults), then forgives', () => {
    const d = new FlapDetector(EMQX);
    const t0 = 1_000_000;
    for (let i = 0; i < 15; i++) expect(d.hit('dev-1', t0 + i * 1000)).toBe(0);
    const until = d.hit('dev-1', t0 + 15_000);
    expect(until).toBe(t0 + 15_000 + 300_000);
    // Banned: refused, and the ban is not extended by trying.
    expect(d.hit('dev-1', t0 + 200_000)).toBe(until);
    expect(d.bannedUntil('dev-1', t0 + 200_000)).toBe(until);
    // Another key is not affected.
    expect(d.hit('dev-2', t0 + 16_000)).toBe(0);
    // After the ban a fresh count starts.
    expect(d.bannedUntil('dev-1', until)).toBe(0);
    expect(d.hit('dev-1', until)).toBe(0);
  });

  it('lets a steady 15 a minute through indefinitely', () => {
    const d = new FlapDetector(EMQX);
    for (let i = 0; i < 15 * 10; i++) expect(d.hit('dev', i * 4000)).toBe(0); // one every 4 s = 15/min
  });

  it('does not let 2 × max through across a window edge', () => {
    const d = new FlapDetector(EMQX);
    // 14 at the end of one window, then more right after the edge.
    for (let i = 0; i < 14; i++) expect(d.hit('dev', 59_000 + i)).toBe(0);
    let banned = false;
    for (let i = 0; i < 14 && !banned; i++) banned = d.hit('dev', 60_100 + i) !== 0;
    expect(banned).toBe(true);
  });

  it('stays bounded: past maxKeys the oldest unbanned key is forgotten, bans are kept', () => {
    const d = new FlapDetector({ max: 1, windowMs: 1000, banMs: 10_000, maxKeys: 3 });
    d.hit('banned', 0);
    expect(d.hit('banned', 1)).toBe(10_001);
    d.hit('a', 2);
    d.hit('b', 3);
    d.hit('c', 4); // evicts 'a', the oldest unbanned
    expect(d.size).toBe(3);
    expect(d.bannedUntil('banned', 5)).toBe(10_001);
    expect(d.count('a', 5)).toBe(0);
    expect(d.count('c', 5)).toBe(1);
  });

  it('sweep forgets idle keys but not banned ones', () => {
    const d = new FlapDetector({ max: 1, windowMs: 1000, banMs: 10_000, maxKeys: 100 });
    d.hit('idle', 0);
    d.hit('banned', 0);
    d.hit('banned', 1);
    expect(d.sweep(5000)).toBe(1);
    expect(d.size).toBe(1);
    expect(d.banned(5000)).toBe(1);
    expect(d.sweep(20_000)).toBe(1);
    expect(d.size).toBe(0);
  });
});

describe('FlapDetector above 64 (estimated count, for a whole peer host)', () => {
  it('bans a burst over max and lets a steady rate below it through', () => {
    const d = new FlapDetector({ max: 1000, windowMs: 60_000, banMs: 300_000, maxKeys: 10 });
    for (let i = 0; i < 10 * 900; i++) expect(d.hit('10.0.0.1', i * (60_000 / 900))).toBe(0); // 900 a minute for 10 minutes
    let refusedAt = -1;
    for (let i = 0; i < 2000 && refusedAt < 0; i++) if (d.hit('10.0.0.2', i) !== 0) refusedAt = i;
    expect(refusedAt).toBe(1000);
  });
});
