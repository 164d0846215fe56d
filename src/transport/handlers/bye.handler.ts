import { CloseReason } from '../close-reason';
import type { Connection } from '../connection';

/** BYE (docs/PROTOCOL.md §2): the client ends its session on purpose. */
export function handleBye(conn: Connection): void {
  conn.close(CloseReason.LOGOUT);
}
