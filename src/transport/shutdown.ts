import type * as net from 'node:net';
import type { Logger } from '@nestjs/common';
import type { AdmissionGate } from './admission-gate';
import { CloseReason } from './close-reason';
import type { Connection } from './connection';
import type { Replies } from './replies';

/** What a graceful shutdown works on: the listener, its connections and the loose sockets. */
export interface ShutdownScope {
  server: net.Server;
  /** Every open connection, live: those still open when the grace is over are destroyed. */
  connections: ReadonlySet<Connection>;
  replies: Replies;
  admission: AdmissionGate;
  graceMs: number;
  logger: Logger;
}

/**
 * Stop accepting, KICK `shutdown` to every connection and wait until they
 * have all closed, at most SHUTDOWN_GRACE_MS; then destroy what is left
 * (connections and loose sockets) and resolve once the listener is closed.
 */
export async function shutDown({ server, connections, replies, admission, graceMs, logger }: ShutdownScope): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  const open = [...connections];
  if (open.length > 0) logger.log(`shutting down: sending KICK shutdown to ${open.length} connections`);
  const allClosed = Promise.all(
    open.map((conn) => (conn.socket.destroyed ? Promise.resolve() : new Promise<void>((r) => conn.socket.once('close', () => r())))),
  );
  for (const conn of open) replies.kick(conn, CloseReason.SHUTDOWN);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([allClosed, grace]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    const left = [...connections];
    logger.warn(`shutdown grace (${graceMs} ms) over: destroying ${left.length} sockets`);
    for (const conn of left) conn.destroy(CloseReason.SHUTDOWN);
  }
  // Sockets that never became connections (a TLS handshake under way, a
  // SERVER_FULL answer being flushed) would hold server.close() open.
  admission.destroyLoose();
  await stopped;
}
