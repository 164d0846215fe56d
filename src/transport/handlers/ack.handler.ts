import type { AckMessage } from '../../protocol';
import type { Connection } from '../connection';
import type { TransportContext } from '../transport-context';

/** ACK (docs/PROTOCOL.md §4): handed to whoever records outcomes (the commands part), as plain data. */
export function handleAck(ctx: TransportContext, conn: Connection, ack: AckMessage): void {
  ctx.events.emit('ack', { clientId: conn.clientId as string, sessionId: conn.sessionId as string, ack });
}
