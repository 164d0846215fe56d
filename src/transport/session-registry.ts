import type { Connection } from './connection';

/**
 * clientId → its live connection on this node: one session per client. A
 * login registers the new connection before the old one is told to go, so
 * the old one's close is seen as replaced (not as the client leaving).
 */
export class SessionRegistry {
  private readonly byClient = new Map<string, Connection>();

  get size(): number {
    return this.byClient.size;
  }

  get(clientId: string): Connection | undefined {
    return this.byClient.get(clientId);
  }

  /** The live connection of the client, if it is still open. */
  live(clientId: string): Connection | undefined {
    const conn = this.byClient.get(clientId);
    return conn !== undefined && !conn.closed ? conn : undefined;
  }

  values(): IterableIterator<Connection> {
    return this.byClient.values();
  }

  /** Makes `conn` the client's session; the connection it replaces, if any (the caller ends it). */
  register(clientId: string, conn: Connection): Connection | undefined {
    const previous = this.byClient.get(clientId);
    this.byClient.set(clientId, conn);
    return previous !== conn ? previous : undefined;
  }

  /** Forgets a closed connection; true when it was the client's session (not replaced meanwhile). */
  release(conn: Connection): boolean {
    if (conn.clientId === undefined || this.byClient.get(conn.clientId) !== conn) return false;
    this.byClient.delete(conn.clientId);
    return true;
  }
}
