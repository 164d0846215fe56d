import type { Connection } from './connection';

/** What the registry needs of a connection (a Connection; a plain object in tests). */
export interface SessionEntry {
  readonly clientId: string | undefined;
  readonly closed: boolean;
}

/**
 * clientId → its live connection on this node: one session per client. A
 * login registers the new connection before the old one is told to go, so
 * the old one's close is seen as replaced (not as the client leaving).
 */
export class SessionRegistry<C extends SessionEntry = Connection> {
  private readonly byClient = new Map<string, C>();

  get size(): number {
    return this.byClient.size;
  }

  get(clientId: string): C | undefined {
    return this.byClient.get(clientId);
  }

  /** The live connection of the client, if it is still open. */
  live(clientId: string): C | undefined {
    const conn = this.byClient.get(clientId);
    return conn !== undefined && !conn.closed ? conn : undefined;
  }

  values(): IterableIterator<C> {
    return this.byClient.values();
  }

  /** Makes `conn` the client's session; the connection it replaces, if any (the caller ends it). */
  register(clientId: string, conn: C): C | undefined {
    const previous = this.byClient.get(clientId);
    this.byClient.set(clientId, conn);
    return previous !== conn ? previous : undefined;
  }

  /** Forgets a closed connection; true when it was the client's session (not replaced meanwhile). */
  release(conn: C): boolean {
    if (conn.clientId === undefined || this.byClient.get(conn.clientId) !== conn) return false;
    this.byClient.delete(conn.clientId);
    return true;
  }
}
