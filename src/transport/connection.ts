import type { Socket } from 'node:net';
import { FrameDecoder, FrameSink, Framing, encodeJson, EMPTY_FRAME, BadFrameCode, FrameTooLargeException } from './codec';

/** What a Connection reports to the server that owns it. */
export interface ConnectionHandler {
  onMessage(conn: Connection, message: Record<string, unknown>): void;
  onEmptyFrame(conn: Connection): void;
  onBadFrame(conn: Connection, code: BadFrameCode, detail: string): void;
  onFrameTooLarge(conn: Connection, error: FrameTooLargeException): void;
  /** Something above the decoder threw while handling this connection's bytes (a bug, not the peer's fault). */
  onInternalError(conn: Connection, error: unknown): void;
  /** The unsent bytes queued for this connection went over maxOutboundBytes; it is being destroyed. */
  onOutboundOverflow(conn: Connection, queuedBytes: number): void;
  onClosed(conn: Connection, reason: string): void;
  /** The server's clock (injected, so tests can drive it). */
  now(): number;
}

/** A frame that arrived while an asynchronous LOGIN check was running, kept to be handled in order after it. */
export type PendingFrame =
  | { kind: 'message'; message: Record<string, unknown> }
  | { kind: 'empty' }
  | { kind: 'bad'; code: BadFrameCode; detail: string };

export interface ConnectionOptions {
  /** Frames above this are refused (MAX_FRAME_BYTES). */
  maxFrameBytes: number;
  /** Unsent bytes queued for the socket above this close it (MAX_OUTBOUND_BYTES). */
  maxOutboundBytes: number;
  /** How long a closing socket may take to flush before it is destroyed. */
  closeFlushMs: number;
}

let nextConnectionId = 1;

/**
 * One accepted socket: framing (through the streaming decoder), the write
 * side with its backpressure and outbound bound, timers, and close. It knows
 * nothing of heartbeats or statuses; the server decides what frames mean.
 */
export class Connection implements FrameSink {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt: number;
  /** Key used for the message type in every frame sent: `code` once the client used that alias. */
  typeKey: 'type' | 'code' = 'type';

  clientId: string | undefined;
  sessionId: string | undefined;
  loggedIn = false;
  /** Set while an asynchronous authenticator decides; frames meanwhile wait in `pending`. */
  authenticating = false;
  pending: PendingFrame[] | undefined;

  /** Server clock when bytes last arrived / were last written. */
  lastSeenAt: number;
  lastSentAt: number;
  /** Server clock of the last HEART (or zero-length frame); 0 before the first. */
  lastHeartbeatAt = 0;
  /** Sweep facts for the current liveness window; the heartbeat sweep reads and resets them. */
  activeInWindow = true;
  slowInWindow = false;
  /** Bad frames in a row (reset by a good one). */
  badFrames = 0;
  /** The latest HEART object that carried fields of the client's own (status, ip, pid, …). */
  reported: Record<string, unknown> | undefined;
  /** Free slot for the parts above the transport (e.g. presence keeps its hot state here). */
  attachment: unknown;

  closed = false;
  closeReason: string | undefined;

  private readonly decoder: FrameDecoder;
  private loginTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly handler: ConnectionHandler,
    private readonly options: ConnectionOptions,
  ) {
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.connectedAt = this.lastSeenAt = this.lastSentAt = handler.now();
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // 'close' follows every 'error'; the reason is reported there.
      if (!this.closed) this.closeReason = `socket_error${error.code ? `:${error.code}` : ''}`;
    });
    socket.on('close', () => this.onSocketClosed());
  }

  /** Framing of this connection: detected from the first byte; length-prefixed until then. */
  get framing(): Framing {
    return this.decoder.framing ?? 'length';
  }

  /** Framing once the client has sent a byte, else undefined. */
  get detectedFraming(): Framing | undefined {
    return this.decoder.framing;
  }

  /** Unsent bytes queued in the socket. */
  get outboundBytes(): number {
    return this.socket.writableLength;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastSeenAt = this.handler.now();
    this.activeInWindow = true;
    // All replies produced by this read leave in one write.
    this.cork();
    try {
      this.decoder.push(chunk, this);
    } catch (error) {
      // Thrown out of a socket 'data' listener it would take the whole process down.
      if (error instanceof FrameTooLargeException) this.handler.onFrameTooLarge(this, error);
      else this.handler.onInternalError(this, error);
    } finally {
      this.uncork();
    }
  }

  // FrameSink: the decoder calls these; forwarded without allocation.
  onMessage(message: Record<string, unknown>): void {
    this.handler.onMessage(this, message);
  }
  onEmptyFrame(): void {
    this.handler.onEmptyFrame(this);
  }
  onBadFrame(code: BadFrameCode, detail: string): void {
    this.handler.onBadFrame(this, code, detail);
  }

  /** Serialise and send one message, with the type under this connection's type key. */
  send(type: string, body?: Record<string, unknown>): boolean {
    let json: string;
    if (body === undefined) json = `{"${this.typeKey}":"${type}"}`;
    else {
      const s = JSON.stringify(body);
      json = s.length > 2 ? `{"${this.typeKey}":"${type}",${s.slice(1)}` : `{"${this.typeKey}":"${type}"}`;
    }
    return this.write(encodeJson(this.framing, json));
  }

  /** Send an already framed buffer (pre-encoded replies). */
  write(frame: Buffer): boolean {
    if (this.closed) return false;
    const flushed = this.socket.write(frame);
    // Inside a read (corked: replies) the read's own time will do; no clock call per reply.
    this.lastSentAt = this.socket.writableCorked > 0 ? this.lastSeenAt : this.handler.now();
    if (!flushed) this.slowInWindow = true;
    // While corked everything is queued on purpose; uncork() checks once the batch went out.
    if (this.socket.writableCorked === 0 && !this.withinOutboundBound()) return false;
    return flushed;
  }

  /** Hold writes to send them as one (the replies to one read); pair with uncork(). */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
    if (!this.closed && this.socket.writableCorked === 0) this.withinOutboundBound();
  }

  /**
   * writableLength is what the kernel has not taken yet (a write it accepted at
   * once is not counted), so this bounds exactly the memory a slow reader makes
   * us hold, whatever the socket's highWaterMark. Over the bound: destroyed.
   */
  private withinOutboundBound(): boolean {
    const queued = this.socket.writableLength;
    if (queued <= this.options.maxOutboundBytes) return true;
    this.handler.onOutboundOverflow(this, queued);
    this.destroy('outbound_overflow');
    return false;
  }

  /** The zero-length frame (answer to a zero-length heartbeat). */
  writeEmptyFrame(): boolean {
    return this.write(EMPTY_FRAME);
  }

  startLoginTimer(ms: number, onTimeout: () => void): void {
    this.loginTimer = setTimeout(onTimeout, ms);
    this.loginTimer.unref();
  }

  clearLoginTimer(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
  }

  /**
   * Close after flushing what was written (a KICK or ERROR just sent).
   * Idempotent; the one place a connection's timers are cleared.
   */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.clearLoginTimer();
    this.pending = undefined;
    this.decoder.stop();
    if (this.socket.destroyed) return;
    this.socket.end();
    // A peer that never reads would keep the socket half-closed: bound it.
    this.flushTimer = setTimeout(() => this.socket.destroy(), this.options.closeFlushMs);
    this.flushTimer.unref();
  }

  /** Close at once, dropping unsent bytes. */
  destroy(reason: string): void {
    if (!this.closed) {
      this.close(reason);
    }
    this.socket.destroy();
  }

  private onSocketClosed(): void {
    // The peer closed (FIN/RST/error) without our asking: same bookkeeping as ours.
    this.close(this.closeReason ?? 'peer_closed');
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.handler.onClosed(this, this.closeReason ?? 'peer_closed');
  }
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
