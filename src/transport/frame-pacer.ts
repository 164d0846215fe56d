import type { BudgetState, FrameBudget } from '../admission/frame-budget';
import type { PendingFrame } from './connection.types';

/** What the pacer needs of its connection; the connection also keeps the budget's counters (BudgetState). */
export interface PacedConnection extends BudgetState {
  readonly closed: boolean;
  /** Stop reading the socket / start again. */
  pauseReading(): void;
  resumeReading(): void;
  /** Handle one frame now (as the decoder would have had it handled). */
  dispatchHeld(frame: PendingFrame): void;
  /** Replies of one batch leave in one write. */
  cork(): void;
  uncork(): void;
  onPacingError(error: unknown): void;
}

/**
 * FRAME_BUDGET for one connection: within the budget a frame is handled at
 * once (no allocation); over it, the socket pauses (Node then stops reading
 * it after at most one more buffered chunk) and the frames already decoded
 * wait, in order, for the next turn of the loop, after every other
 * connection had its read handled. Then `budget` more, and so on, until the
 * queue is empty and the socket reads again. A connection makes its pacer
 * only when a frame first goes over the budget (most never do): until then
 * it costs the connection two numbers, not an object with closures.
 */
export class FramePacer {
  private deferred: PendingFrame[] | undefined;
  private readonly drain = () => this.drainDeferred();

  constructor(
    private readonly budget: FrameBudget,
    private readonly conn: PacedConnection,
    private readonly onSpent: () => void,
  ) {}

  /** Frames are waiting: the next one must wait behind them (order per connection). */
  get waiting(): boolean {
    return this.deferred !== undefined;
  }

  defer(frame: PendingFrame): void {
    if (this.deferred === undefined) {
      this.deferred = [];
      this.onSpent();
      this.conn.pauseReading();
      setImmediate(this.drain);
    }
    this.deferred.push(frame);
  }

  /** The connection closed: what waits is dropped with it. */
  stop(): void {
    this.deferred = undefined;
  }

  private drainDeferred(): void {
    const queue = this.deferred;
    this.deferred = undefined;
    if (queue === undefined || this.conn.closed) return;
    let i = 0;
    this.conn.cork();
    try {
      for (; i < queue.length && !this.conn.closed; i++) {
        if (!this.budget.take(this.conn)) break;
        this.conn.dispatchHeld(queue[i]);
      }
    } catch (error) {
      this.conn.onPacingError(error);
    } finally {
      this.conn.uncork();
    }
    if (this.conn.closed) return;
    if (i < queue.length) {
      this.deferred = queue.slice(i);
      setImmediate(this.drain);
      return;
    }
    this.conn.resumeReading();
  }
}
