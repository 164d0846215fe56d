import type { CloseEvent } from '../../../src/transport/long-link.server';
import type { Framing } from '../../../src/transport/codec';
import type { TestGateway } from '../../support/gateway';
import { Frame, RawClient } from '../../support/raw-client';

/** Opens RawClients and closes every one of them in afterEach. */
export class ClientPool {
  private readonly open: RawClient[] = [];

  constructor(private readonly port: () => number) {}

  async connect(framing: Framing = 'length'): Promise<RawClient> {
    const c = await RawClient.connect(this.port(), { framing });
    this.open.push(c);
    return c;
  }

  /** Connect and LOGIN; fails the test unless the LOGIN succeeded. */
  async login(clientId: string, framing: Framing = 'length', extra: Record<string, unknown> = {}): Promise<RawClient> {
    const c = await this.connect(framing);
    const reply = await c.login(clientId, extra);
    if (reply.ok !== true) throw new Error(`LOGIN '${clientId}' refused: ${JSON.stringify(reply)}`);
    return c;
  }

  closeAll(): void {
    for (const c of this.open.splice(0)) c.close();
  }
}

/**
 * Resolves with the server's 'close' event of the first connection (from now
 * on) that matches: the server's side of the story, where the client's socket
 * closing only shows that something closed.
 */
export function serverClose(
  gw: TestGateway,
  match: (event: CloseEvent) => boolean,
  timeoutMs = 5000,
): Promise<{ event: CloseEvent }> {
  return new Promise((resolve, reject) => {
    const listener = (event: CloseEvent) => {
      if (!match(event)) return;
      clearTimeout(timer);
      gw.server.off('close', listener);
      resolve({ event });
    };
    const timer = setTimeout(() => {
      gw.server.off('close', listener);
      reject(new Error(`no matching server 'close' within ${timeoutMs} ms`));
    }, timeoutMs);
    gw.server.on('close', listener);
  });
}

/** The server's connection for this client socket (matched by its local port). */
export function serverSideOf(c: RawClient): (event: CloseEvent) => boolean {
  const port = c.socket.localPort;
  return (event) => event.remotePort === port;
}

/** Frames of a type (or `code` alias) still unclaimed in the client's buffer. */
export function framesOfType(c: RawClient, type: string): Frame[] {
  return c.frames.filter((f) => typeof f === 'object' && ((f as Record<string, unknown>).type === type || (f as Record<string, unknown>).code === type));
}

/** A HEART that went through: sent, and its answer received. */
export async function heartRoundTrip(c: RawClient): Promise<Record<string, unknown>> {
  c.send({ type: 'HEART' });
  return c.nextOfType('HEART');
}

/** A length-prefixed frame around arbitrary bytes (e.g. not JSON at all). */
export function lengthFrame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([header, bytes]);
}

/** Arbitrary bytes as one frame in the client's own framing. */
export function rawFrame(c: RawClient, body: string): Buffer {
  return c.framing === 'line' ? Buffer.from(`${body}\n`) : lengthFrame(body);
}
