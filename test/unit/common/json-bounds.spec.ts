import { checkJsonBounds, describeJsonProblem, jsonDepth, withinDepth } from '../../../src/common/json-bounds';

/** `[[[…0…]]]` n deep, parsed from text: building it needs no recursion either. */
const deepArray = (n: number): unknown => JSON.parse(`${'['.repeat(n)}0${']'.repeat(n)}`);
const deepObject = (n: number): unknown => JSON.parse(`${'{"a":'.repeat(n)}0${'}'.repeat(n)}`);

describe('jsonDepth', () => {
  it.each<[unknown, number]>([
    [0, 0],
    ['x', 0],
    [null, 0],
    [{}, 1],
    [[], 1],
    [[1, 'a', null], 1],
    [{ a: [1] }, 2],
    [{ a: { b: {} }, c: [] }, 3],
    [[[], [[[]]], []], 4],
  ])('%j is %i deep', (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('measures 30,000 levels without overflowing the stack (where structuredClone throws)', () => {
    const value = deepArray(30_000);
    expect(() => structuredClone(value)).toThrow(/call stack/);
    expect(jsonDepth(value)).toBe(30_000);
    expect(jsonDepth(deepObject(30_000))).toBe(30_000);
  });

  it('stops at limit + 1', () => {
    expect(jsonDepth(deepArray(1000), 32)).toBe(33);
    expect(withinDepth(deepArray(32), 32)).toBe(true);
    expect(withinDepth(deepArray(33), 32)).toBe(false);
  });
});

describe('checkJsonBounds', () => {
  it('passes a value within both bounds', () => {
    expect(checkJsonBounds({ status: 'ok', pid: 7 }, 32, 4096)).toBeUndefined();
  });

  it('names depth before size (size is only measured on a value that is safe to stringify)', () => {
    expect(checkJsonBounds(deepArray(30_000), 32, 10)).toEqual({ kind: 'depth', limit: 32 });
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 2,000 × 'é' is 2,000 characters but 4,000 bytes (+ 2 quotes).
    expect(checkJsonBounds('é'.repeat(2000), 32, 4001)).toEqual({ kind: 'bytes', bytes: 4002, limit: 4001 });
    expect(checkJsonBounds('é'.repeat(2000), 32, 4002)).toBeUndefined();
  });

  it('says what was refused and which key bounds it', () => {
    expect(describeJsonProblem('HEART fields', { kind: 'bytes', bytes: 60000, limit: 4096 }, 'MAX_JSON_DEPTH', 'MAX_REPORTED_BYTES')).toBe(
      'HEART fields of 60000 bytes exceed MAX_REPORTED_BYTES (4096)',
    );
    expect(describeJsonProblem('frame', { kind: 'depth', limit: 32 }, 'MAX_JSON_DEPTH', 'MAX_FRAME_BYTES')).toBe('frame nest deeper than MAX_JSON_DEPTH (32)');
  });
});
