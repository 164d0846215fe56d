import * as net from 'node:net';
import * as tls from 'node:tls';
import { BadFrameCode, encodeJson, FrameDecoder, FrameSink, FrameTooLargeException, Framing } from '../transport/codec';

/** What one ClientSocket reports to the client that owns it. */
export interface ClientSocketHandler {
  /** TCP (and TLS) is up: time to LOGIN. */
  onOpen(socket: ClientSocket): void;
  /** Bytes arrived (any frame, even a partial one, is a sign of life). */
  onBytes(socket: ClientSocket): void;
  onMessage(socket: ClientSocket, message: Record<string, unknown>): void;
  onEmptyFrame(socket: ClientSocket): void;
  onBadFrame(socket: ClientSocket, code: BadFrameCode, detail: string): void;
  /** Called once, whatever closed it. */
  onClosed(socket: ClientSocket, reason: string): void;
}

export interface ClientSocketOptions {
  host: string;
  port: number;
  framing: Framing;
  tls: tls.ConnectionOptions | undefined;
  maxFrameBytes: number;
  tcpKeepAliveMs: number;
  closeTimeoutMs: number;
}

/**
 * One attempt's socket: connect, framing both ways, close. It knows nothing of
 * LOGIN or heartbeats (the client decides what frames mean), and owns only
 * the flush timer of its own graceful end, cleared when the socket closes.
 */
export class ClientSocket implements FrameSink {
  closed = false;
  private reason: string | undefined;
  private readonly socket: net.Socket;
  private readonly decoder: FrameDecoder;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly closedPromise: Promise<void>;

  constructor(
    private readonly options: ClientSocketOptions,
    private readonly handler: ClientSocketHandler,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes, framing: options.framing });
    const { host, port } = options;
    this.socket = options.tls
      ? tls.connect({ servername: net.isIP(host) ? undefined : host, ...options.tls, host, port }, () => this.onConnected())
      : net.connect({ host, port }, () => this.onConnected());
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      // 'close' always follows; the first cause wins.
      this.reason ??= error.code ? `${error.code}: ${error.message}` : error.message;
    });
    this.closedPromise = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.onSocketClosed();
        resolve();
      }),
    );
  }

  /** Resolves once the socket is fully closed (handler already told). */
  get whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /** Frame and write one message; false when this socket is closing or closed. */
  send(message: object): boolean {
    if (this.closed || this.socket.writableEnded) return false;
    this.socket.write(encodeJson(this.options.framing, JSON.stringify(message)));
    return true;
  }

  /** Graceful end: write the last message (BYE), FIN, and destroy if the peer takes longer than closeTimeoutMs. */
  end(reason: string, last?: object): void {
    if (this.closed || this.socket.writableEnded) return;
    this.reason ??= reason;
    if (last !== undefined && this.socket.writable) this.socket.write(encodeJson(this.options.framing, JSON.stringify(last)));
    this.socket.end();
    this.flushTimer = setTimeout(() => this.socket.destroy(), this.options.closeTimeoutMs);
  }

  /** Close at once, dropping unsent bytes. */
  destroy(reason: string): void {
    if (this.closed) return;
    this.reason ??= reason;
    this.socket.destroy();
  }

  private onConnected(): void {
    if (this.closed) return;
    this.socket.setNoDelay(true);
    if (this.options.tcpKeepAliveMs > 0) this.socket.setKeepAlive(true, this.options.tcpKeepAliveMs);
    this.handler.onOpen(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.handler.onBytes(this);
    try {
      this.decoder.push(chunk, this);
    } catch (error) {
      if (!(error instanceof FrameTooLargeException)) throw error;
      // The stream can't be resynchronised after a refused frame.
      this.destroy(`bad stream from server: ${error.message}`);
    }
  }

  // FrameSink: the decoder calls these synchronously inside push().
  onMessage(message: Record<string, unknown>): void {
    this.handler.onMessage(this, message);
  }
  onEmptyFrame(): void {
    this.handler.onEmptyFrame(this);
  }
  onBadFrame(code: BadFrameCode, detail: string): void {
    this.handler.onBadFrame(this, code, detail);
  }

  private onSocketClosed(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.closed = true;
    this.decoder.stop();
    this.handler.onClosed(this, this.reason ?? 'server closed the connection');
  }
}
