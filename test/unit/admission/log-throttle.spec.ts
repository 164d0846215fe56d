import { LogThrottle } from '../../../src/admission/log-throttle';

describe('LogThrottle', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes the first line at once and a count per interval, never a line per event', () => {
    const lines: string[] = [];
    const t = new LogThrottle((l) => lines.push(l), 5000);
    for (let i = 0; i < 20_000; i++) t.note('stray ack', () => `ignored ACK for '${i}'`);
    expect(lines).toEqual(["ignored ACK for '0'"]);
    jest.advanceTimersByTime(5000);
    expect(lines).toEqual(["ignored ACK for '0'", "19999 more 'stray ack' in the last 5 s; the last: ignored ACK for '19999'"]);
    // A quiet interval ends the throttling: the next one is written at once.
    jest.advanceTimersByTime(5000);
    expect(lines).toHaveLength(2);
    t.note('stray ack', 'again');
    expect(lines[2]).toBe('again');
  });

  it('throttles each reason on its own', () => {
    const lines: string[] = [];
    const t = new LogThrottle((l) => lines.push(l), 1000);
    t.note('a', 'a1');
    t.note('b', 'b1');
    t.note('a', 'a2');
    expect(lines).toEqual(['a1', 'b1']);
    t.close();
    expect(lines).toEqual(['a1', 'b1', "1 more 'a' in the last 1 s; the last: a2"]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('builds a suppressed line only when it is written', () => {
    const t = new LogThrottle(() => undefined, 1000);
    const build = jest.fn(() => 'x');
    for (let i = 0; i < 100; i++) t.note('r', build);
    jest.advanceTimersByTime(1000);
    expect(build).toHaveBeenCalledTimes(2); // the first, and the last for the summary
    t.close();
  });

  it('writes every line with an interval of 0 (throttling off)', () => {
    const lines: string[] = [];
    const t = new LogThrottle((l) => lines.push(l), 0);
    t.note('r', 'x');
    t.note('r', 'y');
    expect(lines).toEqual(['x', 'y']);
  });
});
