import * as net from 'node:net';
import { encodeJson, FrameDecoder, Framing } from '../../../src/transport/codec';

export interface FakePeer {
  socket: net.Socket;
  frames: Record<string, unknown>[];
  send(message: object): void;
  /** Resolves with the next frame of `type` (and `match`) this peer sends, or one already received and not yet taken. */
  next(type: string, match?: (f: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  closed: Promise<void>;
}

/**
 * A gateway stand-in on 127.0.0.1:0 that does only what a test tells it:
 * `answerLogin` replies to LOGIN (with `heartbeatMs`), and nothing else is
 * ever answered, so it behaves like a server that went away without a FIN.
 */
export class FakeServer {
  readonly peers: FakePeer[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private peerWaiters: Array<(p: FakePeer) => void> = [];

  private constructor(private readonly options: { answerLogin: boolean; heartbeatMs: number; framing: Framing }) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(options: Partial<{ answerLogin: boolean; heartbeatMs: number; framing: Framing }> = {}): Promise<FakeServer> {
    const fake = new FakeServer({ answerLogin: true, heartbeatMs: 50, framing: 'length', ...options });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The n-th accepted connection (0-based), once it exists. */
  peer(n: number, timeoutMs = 5000): Promise<FakePeer> {
    if (this.peers[n]) return Promise.resolve(this.peers[n]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection #${n} not accepted within ${timeoutMs} ms (${this.peers.length} so far)`)), timeoutMs);
      const waiter = () => {
        if (!this.peers[n]) return;
        clearTimeout(timer);
        this.peerWaiters = this.peerWaiters.filter((w) => w !== waiter);
        resolve(this.peers[n]);
      };
      this.peerWaiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const framing = this.options.framing;
    const frames: Record<string, unknown>[] = [];
    let waiters: Array<{ type: string; match: (f: Record<string, unknown>) => boolean; resolve: (f: Record<string, unknown>) => void }> = [];
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20, framing });
    const peer: FakePeer = {
      socket,
      frames,
      send: (m) => socket.write(encodeJson(framing, JSON.stringify(m))),
      next: (type, match = () => true, timeoutMs = 5000) => {
        const i = frames.findIndex((f) => f.type === type && match(f) && !taken.has(f));
        if (i >= 0) {
          taken.add(frames[i]);
          return Promise.resolve(frames[i]);
        }
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms; got ${JSON.stringify(frames)}`)), timeoutMs);
          waiters.push({
            type,
            match,
            resolve: (f) => {
              clearTimeout(timer);
              resolve(f);
            },
          });
        });
      },
      closed: new Promise((resolve) => socket.once('close', () => resolve())),
    };
    const taken = new Set<Record<string, unknown>>();
    const sink = {
      onMessage: (m: Record<string, unknown>) => {
        frames.push(m);
        const i = waiters.findIndex((w) => w.type === m.type && w.match(m));
        if (i >= 0) {
          taken.add(m);
          const [w] = waiters.splice(i, 1);
          w.resolve(m);
        }
        if (m.type === 'LOGIN' && this.options.answerLogin) {
          peer.send({ type: 'LOGIN', ok: true, clientId: m.clientId, sessionId: `fake-${this.peers.length}`, heartbeatMs: this.options.heartbeatMs, serverTime: Date.now() });
        }
      },
      onEmptyFrame: () => undefined,
      onBadFrame: () => undefined,
    };
    socket.on('data', (chunk: Buffer) => decoder.push(chunk, sink));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      waiters = [];
    });
    this.peers.push(peer);
    for (const w of [...this.peerWaiters]) w(peer);
  }
}
