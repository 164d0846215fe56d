import { CloseReason } from '../close-reason';
import type { Connection } from '../connection';
import type { TransportContext } from '../transport-context';

/**
 * BYE (docs/PROTOCOL.md §2): the client ends its session on purpose. The
 * session ends when the BYE is read, not when the peer's FIN arrives (a
 * client that keeps its socket half-open would otherwise drift to leave);
 * the socket is ended, and destroyed after the close grace if the peer holds it.
 */
export function handleBye(ctx: TransportContext, conn: Connection): void {
  const hadSession = conn.loggedIn;
  conn.close(CloseReason.LOGOUT);
  if (hadSession) ctx.endSession(conn, CloseReason.LOGOUT);
}
