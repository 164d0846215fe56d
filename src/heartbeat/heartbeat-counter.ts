/**
 * The three statuses of docs/PROTOCOL.md §3, as the counter moves between
 * them. Presence names them LivenessStatus; defined here so that the
 * counter depends on nothing above it.
 */
export type LivenessStatus = 'alive' | 'leave' | 'close';

/** Hysteresis parameters (docs/PROTOCOL.md §3); all from config. */
export interface CounterParams {
  /** @default 3 */
  cursorStart: number;
  /** @default 5 */
  cursorLimit: number;
  /** @default 3 */
  leaveStrikes: number;
  /** @default 3 */
  recoverWindows: number;
  /** @default 1800000 */
  leaveTimeoutMs: number;
}

/** A client's liveness counter. Never mutated: each step returns a new one, or the same one when nothing moved. */
export interface LivenessState {
  readonly status: LivenessStatus;
  readonly cursor: number;
  readonly strikes: number;
  /** Windows with frames in a row while in `leave`. */
  readonly recoverRun: number;
  /** When `status` was entered (epoch ms). */
  readonly statusSince: number;
  /** Set only on the state a step returned when it changed the status. */
  readonly transition?: { readonly to: LivenessStatus; readonly reason: string };
}

/** What one window looked like for one client. */
export interface WindowFacts {
  /** The client sent at least one frame in the window. */
  active: boolean;
  /** The client has an open socket. A disconnected record only ages towards its leave timeout. */
  connected: boolean;
  /** The sweep closing this window ran late by more than half a window: the window counts neither way. */
  lagged: boolean;
  /** The socket still had unsent outbound bytes in the window: a slow reader, not a dead one. */
  slowReader: boolean;
  /** The clock at the end of the window. */
  now: number;
}

export function initialLiveness(params: CounterParams, now: number): LivenessState {
  return { status: 'alive', cursor: params.cursorStart, strikes: 0, recoverRun: 0, statusSince: now };
}

/**
 * One window of docs/PROTOCOL.md §3, as a pure function:
 * - a window with frames moves the cursor down by 1 (not below 0), a silent
 *   one up by 1; reaching `cursorLimit` counts a strike and resets the cursor
 *   to `cursorStart`; `leaveStrikes` strikes take `alive` to `leave`;
 * - in `leave`, `recoverWindows` windows with frames in a row bring it back
 *   to `alive` (strikes reset); `leaveTimeoutMs` in `leave` means `close`;
 * - a lagged window, or a silent one of a slow reader, counts neither way.
 * Our own addition (the protocol is silent on it): an `alive` client whose
 * cursor gets back to 0 has its strikes forgiven, so three silent spells
 * weeks apart do not add up to `leave`.
 */
export function nextWindow(input: LivenessState, facts: WindowFacts, params: CounterParams): LivenessState {
  // A transition marks only the step that made it.
  const state: LivenessState = input.transition
    ? { status: input.status, cursor: input.cursor, strikes: input.strikes, recoverRun: input.recoverRun, statusSince: input.statusSince }
    : input;
  if (state.status === 'close') return state;
  if (state.status === 'leave' && facts.now - state.statusSince >= params.leaveTimeoutMs) {
    return {
      status: 'close',
      cursor: state.cursor,
      strikes: state.strikes,
      recoverRun: 0,
      statusSince: facts.now,
      transition: { to: 'close', reason: 'timeout' },
    };
  }
  // Without a socket there is nothing to count; a new LOGIN is the way back.
  if (!facts.connected || facts.lagged) return state;

  if (facts.active) {
    const cursor = state.cursor > 0 ? state.cursor - 1 : 0;
    if (state.status === 'leave') {
      const recoverRun = state.recoverRun + 1;
      if (recoverRun >= params.recoverWindows) {
        return { status: 'alive', cursor, strikes: 0, recoverRun: 0, statusSince: facts.now, transition: { to: 'alive', reason: 'recovered' } };
      }
      return { status: 'leave', cursor, strikes: state.strikes, recoverRun, statusSince: state.statusSince };
    }
    const strikes = cursor === 0 ? 0 : state.strikes;
    if (cursor === state.cursor && strikes === state.strikes) return state; // the steady, healthy case: no allocation
    return { status: 'alive', cursor, strikes, recoverRun: 0, statusSince: state.statusSince };
  }

  if (facts.slowReader) return state;

  let cursor = state.cursor + 1;
  let strikes = state.strikes;
  if (cursor >= params.cursorLimit) {
    strikes = Math.min(strikes + 1, params.leaveStrikes);
    cursor = params.cursorStart;
  }
  if (state.status === 'alive' && strikes >= params.leaveStrikes) {
    return {
      status: 'leave',
      cursor,
      strikes,
      recoverRun: 0,
      statusSince: facts.now,
      transition: { to: 'leave', reason: `${strikes} strikes` },
    };
  }
  return { status: state.status, cursor, strikes, recoverRun: 0, statusSince: state.statusSince };
}
