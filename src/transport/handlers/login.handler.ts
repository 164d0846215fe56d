import { ErrorCode, LoginMessage } from '../../protocol';
import type { Connection } from '../connection';
import type { LoginGate } from '../login-gate';
import type { TransportContext } from '../transport-context';

/** LOGIN (docs/PROTOCOL.md §2): through the login gate; a repeated one on the same connection is answered again. */
export function handleLogin(ctx: TransportContext, gate: LoginGate, conn: Connection, login: LoginMessage): void {
  ctx.stats.logins++;
  if (!conn.loggedIn) {
    gate.authenticate(conn, login, false);
    return;
  }
  if (login.clientId === undefined || login.clientId === conn.clientId) {
    // Nothing changes: same session, same answer.
    gate.sendLoginReply(conn);
    return;
  }
  ctx.replies.badFrame(conn, ErrorCode.BAD_MESSAGE, `already logged in as '${conn.clientId}' on this connection`);
}
