/** What a connection keeps of its budget: the turn it last counted in and the frames counted there. */
export interface BudgetState {
  budgetTurn: number;
  budgetUsed: number;
}

/**
 * FRAME_BUDGET: the frames one connection may have handled per turn of the
 * event loop. libuv reads a ready socket up to 32 times (64 KiB each) in one
 * go, so a single flooding client could get 2 MiB of frames (tens of
 * thousands) handled before any other socket's read: the others' p99 RTT
 * went from 0.6 to 136 ms. A connection over its budget pauses its socket
 * and finishes on the next turn, after everyone else had theirs.
 *
 * "A turn" is one counter shared by all connections, bumped by one
 * setImmediate armed on first use: one timer per busy turn, not one per
 * connection or per frame (this is the hot path).
 */
export class FrameBudget {
  private turn = 1;
  private armed = false;
  private readonly bump = () => {
    this.turn++;
    this.armed = false;
  };

  constructor(readonly perTurn: number) {}

  get enabled(): boolean {
    return this.perTurn > 0;
  }

  /** Counts one frame; false when the connection has used up this turn's budget. */
  take(state: BudgetState): boolean {
    if (this.perTurn <= 0) return true;
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.bump);
    }
    if (state.budgetTurn !== this.turn) {
      state.budgetTurn = this.turn;
      state.budgetUsed = 0;
    }
    return ++state.budgetUsed <= this.perTurn;
  }
}
