import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeJson, FrameDecoder, Framing } from '../../src/transport/codec';

export type Frame = Record<string, unknown> | 'EMPTY' | { bad: string; detail: string };

/**
 * A hand-written protocol peer over a real socket: sends raw bytes or framed
 * JSON and lets a test await the frames the gateway sends back.
 */
export class RawClient {
  readonly frames: Frame[] = [];
  closed = false;
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void }> = [];
  private readonly decoder: FrameDecoder;
  private readonly closedPromise: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    readonly framing: Framing,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024, framing });
    const sink = {
      onMessage: (m: Record<string, unknown>) => this.push(m),
      onEmptyFrame: () => this.push('EMPTY'),
      onBadFrame: (code: string, detail: string) => this.push({ bad: code, detail }),
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, sink);
      } catch (error) {
        // Bytes that aren't frames in this client's framing (e.g. the server answered in the other one):
        // record them for the test to see instead of throwing out of a socket listener.
        this.push({ bad: 'UNDECODABLE', detail: (error as Error).message });
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        for (const w of this.waiters) w.reject(new Error(`socket closed; frames so far: ${JSON.stringify(this.frames)}`));
        this.waiters = [];
        resolve();
      }),
    );
  }

  static async connect(port: number, options: { framing?: Framing; tls?: tls.ConnectionOptions; host?: string } = {}): Promise<RawClient> {
    const host = options.host ?? '127.0.0.1';
    const socket = options.tls
      ? tls.connect({ port, host, ...options.tls })
      : net.connect({ port, host });
    await once(socket, options.tls ? 'secureConnect' : 'connect');
    return new RawClient(socket, options.framing ?? 'length');
  }

  /** Frame and send one message in this client's framing. */
  send(message: unknown): void {
    this.socket.write(encodeJson(this.framing, JSON.stringify(message)));
  }

  writeRaw(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Wait for the next frame (from now on, or already received and not yet taken) that matches. */
  next(match: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    if (this.closed) return Promise.reject(new Error(`socket already closed; frames: ${JSON.stringify(this.frames)}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Wait for the next frame whose type (or `code` alias) is `type`. */
  nextOfType(type: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.next((f) => typeof f === 'object' && ('type' in f ? f.type === type : (f as Record<string, unknown>).code === type), timeoutMs) as Promise<
      Record<string, unknown>
    >;
  }

  /** LOGIN and wait for its answer. */
  async login(clientId?: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    this.send({ type: 'LOGIN', ...(clientId === undefined ? {} : { clientId }), ...extra });
    return this.nextOfType('LOGIN');
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout;
    return Promise.race([
      this.closedPromise.then(() => clearTimeout(timer)),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  }

  close(): void {
    this.socket.destroy();
  }

  private push(frame: Frame): void {
    const i = this.waiters.findIndex((w) => w.match(frame));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w.resolve(frame);
    } else {
      this.frames.push(frame);
    }
  }
}
