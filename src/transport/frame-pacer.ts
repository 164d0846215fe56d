import type { BudgetState, FrameBudget } from '../admission/frame-budget';
import type { PendingFrame } from './connection.types';

/** What the pacer needs of its connection. */
export interface PacedConnection {
  isClosed(): boolean;
  /** Stop reading the socket / start again. */
  pause(): void;
  resume(): void;
  /** Handle one frame now (as the decoder would have had it handled). */
  dispatch(frame: PendingFrame): void;
  /** Replies of one batch leave in one write. */
  cork(): void;
  uncork(): void;
  onInternalError(error: unknown): void;
}

/**
 * FRAME_BUDGET for one connection: within the budget a frame is handled at
 * once (no allocation); over it, the socket pauses (Node then stops reading
 * it after at most one more buffered chunk) and the frames already decoded
 * wait, in order, for the next turn of the loop, after every other
 * connection had its read handled. Then `budget` more, and so on, until the
 * queue is empty and the socket reads again.
 */
export class FramePacer implements BudgetState {
  budgetTurn = 0;
  budgetUsed = 0;
  private deferred: PendingFrame[] | undefined;
  private readonly drain = () => this.drainDeferred();

  constructor(
    private readonly budget: FrameBudget,
    private readonly conn: PacedConnection,
    private readonly onSpent: () => void,
  ) {}

  /** May the next frame be handled now? Frames keep their order: once one waits, all after it do. */
  admit(): boolean {
    return this.deferred === undefined && this.budget.take(this);
  }

  defer(frame: PendingFrame): void {
    if (this.deferred === undefined) {
      this.deferred = [];
      this.onSpent();
      this.conn.pause();
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
    if (queue === undefined || this.conn.isClosed()) return;
    let i = 0;
    this.conn.cork();
    try {
      for (; i < queue.length && !this.conn.isClosed(); i++) {
        if (!this.budget.take(this)) break;
        this.conn.dispatch(queue[i]);
      }
    } catch (error) {
      this.conn.onInternalError(error);
    } finally {
      this.conn.uncork();
    }
    if (this.conn.isClosed()) return;
    if (i < queue.length) {
      this.deferred = queue.slice(i);
      setImmediate(this.drain);
      return;
    }
    this.conn.resume();
  }
}
