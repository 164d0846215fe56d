import type { SessionView } from '../transport/session-view';
import type { WindowFacts } from './heartbeat-counter';

/**
 * What the heartbeat sweep reports when a window closes (Netty's
 * IdleStateHandler: it detects, someone else decides). Presence feeds each
 * of its clients' facts to the liveness counter and owns what follows.
 */
export interface WindowReport {
  /** The clock at the end of the window. */
  readonly now: number;
  /** When the window began (the previous sweep). */
  readonly since: number;
  /** The sweep ran late, or the loop stalled: the window counts neither way. */
  readonly lagged: boolean;
  /**
   * The window's facts of one client, written into `into` and returned (no
   * allocation per client: a sweep walks every record of the node).
   */
  factsOf(clientId: string, into: WindowFacts): WindowFacts;
  /**
   * The same for a session the caller already holds (undefined: none on
   * this node): a sweep over 20,000 records then looks none of them up.
   */
  factsOfSession(session: SessionView | undefined, into: WindowFacts): WindowFacts;
}

/** Returns how many records it looked at (reported in SweepResult.records). */
export type WindowListener = (report: WindowReport) => number;
