/** Default pause between two lines of one reason. */
export const DEFAULT_LOG_THROTTLE_MS = 5000;

interface ReasonState {
  /** Occurrences not logged since the last line. */
  suppressed: number;
  /** The last suppressed one's text (built only if the summary is written). */
  last: string | (() => string);
  timer: NodeJS.Timeout | undefined;
}

/**
 * Log lines per reason, throttled: the first occurrence is logged at once,
 * the next ones within `intervalMs` only counted, and one summary line says
 * how many there were (`19999 more 'stray ack' in the last 5 s; the last: …`). So a peer can
 * make us log at most one line per reason per interval, never one per frame.
 */
export class LogThrottle {
  private readonly reasons = new Map<string, ReasonState>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs = DEFAULT_LOG_THROTTLE_MS,
  ) {}

  /** `text` may be a function so that a suppressed line is never built. */
  note(reason: string, text: string | (() => string)): void {
    if (this.intervalMs <= 0) {
      this.write(typeof text === 'function' ? text() : text);
      return;
    }
    const state = this.reasons.get(reason);
    if (state === undefined) {
      this.write(typeof text === 'function' ? text() : text);
      this.reasons.set(reason, { suppressed: 0, last: '', timer: this.arm(reason) });
      return;
    }
    state.suppressed++;
    state.last = text;
  }

  /** Logs what is pending and stops every timer (shutdown). */
  close(): void {
    for (const reason of [...this.reasons.keys()]) this.flush(reason, false);
  }

  private arm(reason: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.flush(reason, true), this.intervalMs);
    timer.unref();
    return timer;
  }

  private flush(reason: string, rearm: boolean): void {
    const state = this.reasons.get(reason);
    if (!state) return;
    clearTimeout(state.timer);
    if (state.suppressed === 0) {
      // A quiet interval: the next occurrence is logged at once again.
      this.reasons.delete(reason);
      return;
    }
    const last = typeof state.last === 'function' ? state.last() : state.last;
    this.write(`${state.suppressed} more '${reason}' in the last ${this.intervalMs / 1000} s; the last: ${last}`);
    state.suppressed = 0;
    if (rearm) state.timer = this.arm(reason);
    else this.reasons.delete(reason);
  }
}
