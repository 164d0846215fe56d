import { CounterParams, initialLiveness, LivenessState, nextWindow, WindowFacts } from '../../../src/heartbeat/heartbeat-counter';

const params: CounterParams = { cursorStart: 3, cursorLimit: 5, leaveStrikes: 3, recoverWindows: 3, leaveTimeoutMs: 60_000 };
const W = 10_000;

/** One letter a window: A active, S silent, L lagged (and silent), R slow reader (silent), D disconnected. */
function run(script: string, start: LivenessState = initialLiveness(params, 0), p: CounterParams = params) {
  let state = start;
  const trace: string[] = [];
  const transitions: string[] = [];
  [...script].forEach((w, i) => {
    const facts: WindowFacts = {
      active: w === 'A',
      connected: w !== 'D',
      lagged: w === 'L',
      slowReader: w === 'R',
      now: (i + 1) * W,
    };
    state = nextWindow(state, facts, p);
    if (state.transition) transitions.push(`${i + 1}:${state.transition.to}(${state.transition.reason})`);
    trace.push(`${state.status[0]}${state.cursor}/${state.strikes}`);
  });
  return { state, trace: trace.join(' '), transitions };
}

describe('heartbeat counter (docs/PROTOCOL.md §3)', () => {
  it.each([
    // The seed scenario: cursor 3, limit 5, 3 strikes. Two silent windows per strike.
    ['silent client goes to leave after 6 windows', 'SSSSSS', 'a4/0 a3/1 a4/1 a3/2 a4/2 l3/3', ['6:leave(3 strikes)']],
    ['healthy client walks the cursor down to 0 and stays', 'AAAAA', 'a2/0 a1/0 a0/0 a0/0 a0/0', []],
    ['flapping S/A around the start never strikes', 'SASASASASA', 'a4/0 a3/0 a4/0 a3/0 a4/0 a3/0 a4/0 a3/0 a4/0 a3/0', []],
    ['flapping S,S,A gains a strike per 5 windows', 'SSASSASSA', 'a4/0 a3/1 a2/1 a3/1 a4/1 a3/1 a4/1 a3/2 a2/2', []],
    ['flapping just under the limit: strikes forgiven once the cursor is back at 0', 'SSAAAASSAAAASS', 'a4/0 a3/1 a2/1 a1/1 a0/0 a0/0 a1/0 a2/0 a1/0 a0/0 a0/0 a0/0 a1/0 a2/0', []],
    ['lagged windows count neither way', 'SLLLLLLS', 'a4/0 a4/0 a4/0 a4/0 a4/0 a4/0 a4/0 a3/1', []],
    ['a slow reader is not counted silent', 'RRRRRRRRRR', 'a3/0 a3/0 a3/0 a3/0 a3/0 a3/0 a3/0 a3/0 a3/0 a3/0', []],
    ['recovery: 3 active windows in a row in leave -> alive, strikes reset', 'SSSSSSAAA', 'a4/0 a3/1 a4/1 a3/2 a4/2 l3/3 l2/3 l1/3 a0/0', ['6:leave(3 strikes)', '9:alive(recovered)']],
    ['recovery run is broken by a silent window', 'SSSSSSASAAA', 'a4/0 a3/1 a4/1 a3/2 a4/2 l3/3 l2/3 l3/3 l2/3 l1/3 a0/0', ['6:leave(3 strikes)', '11:alive(recovered)']],
  ])('%s', (_name, script, trace, transitions) => {
    const result = run(script);
    expect(result.trace).toBe(trace);
    expect(result.transitions).toEqual(transitions);
  });

  it('the README timing: a healthy client (cursor 0) is leave after 9 silent windows', () => {
    const healthy: LivenessState = { status: 'alive', cursor: 0, strikes: 0, recoverRun: 0, statusSince: 0 };
    expect(run('SSSSSSSS', healthy).state.status).toBe('alive');
    expect(run('SSSSSSSSS', healthy).transitions).toEqual(['9:leave(3 strikes)']);
  });

  it('leave times out to close after LEAVE_TIMEOUT_MS, connected or not', () => {
    // leave at window 6 (t=60s), timeout 60s -> close at t=120s (window 12)
    const connected = run('SSSSSSSSSSSS');
    expect(connected.transitions).toEqual(['6:leave(3 strikes)', '12:close(timeout)']);
    const dropped = run('SSSSSSDDDDDD');
    expect(dropped.transitions).toEqual(['6:leave(3 strikes)', '12:close(timeout)']);
  });

  it('the leave timeout is time-based, so it fires even in a lagged window', () => {
    const result = run('SSSSSSLLLLLL');
    expect(result.transitions).toEqual(['6:leave(3 strikes)', '12:close(timeout)']);
  });

  it('a disconnected alive record does not move (the socket close already made it leave)', () => {
    expect(run('DDDDDDDDDD').trace).toBe(Array(10).fill('a3/0').join(' '));
  });

  it('close is terminal for the counter', () => {
    const closed: LivenessState = { status: 'close', cursor: 3, strikes: 3, recoverRun: 0, statusSince: 0 };
    expect(run('AAAAASSSSS', closed).state).toBe(closed);
  });

  it('returns the same object when nothing moved (no allocation on the healthy path)', () => {
    const healthy: LivenessState = { status: 'alive', cursor: 0, strikes: 0, recoverRun: 0, statusSince: 0 };
    expect(nextWindow(healthy, { active: true, connected: true, lagged: false, slowReader: false, now: W }, params)).toBe(healthy);
  });

  it('does not mutate its input', () => {
    const start = Object.freeze(initialLiveness(params, 0));
    expect(() => run('SSSSSSAAA', start)).not.toThrow();
    expect(start).toEqual(initialLiveness(params, 0));
  });

  it('takes every parameter from config', () => {
    const tight: CounterParams = { cursorStart: 0, cursorLimit: 1, leaveStrikes: 1, recoverWindows: 1, leaveTimeoutMs: 5 * W };
    expect(run('SAS', initialLiveness(tight, 0), tight).transitions).toEqual(['1:leave(1 strikes)', '2:alive(recovered)', '3:leave(1 strikes)']);
  });
});
