import { KeyedTokenBuckets } from '../../../src/admission/keyed-buckets';

describe('KeyedTokenBuckets', () => {
  it('rates each key on its own', () => {
    const b = new KeyedTokenBuckets(10, 2);
    expect(b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    expect(b.take('b', 0)).toBe(true);
    expect(b.take('a', 100)).toBe(true);
  });

  it('forgets buckets that had time to refill, and stays within maxKeys', () => {
    const b = new KeyedTokenBuckets(10, 2, 3); // full again 200 ms after the last take
    b.take('a', 0);
    b.take('b', 150);
    expect(b.sweep(200)).toBe(1);
    expect(b.size).toBe(1);
    b.take('c', 160);
    b.take('d', 170);
    b.take('e', 180); // past maxKeys with nothing refilled: the coldest ('b') goes
    expect(b.size).toBe(3);
    // 'b' starts over with a full bucket
    expect(b.take('b', 181)).toBe(true);
  });
});
