import type { Socket } from 'node:net';
import { BadFrameCode, ConnectionCodec, EMPTY_FRAME, encodeJson, FrameDecoder, FrameSink, FrameTooLargeException, Framing, FramingCodec } from './codec';
import type { ConnectionRates } from '../admission/admission-control';
import { CloseReason, socketErrorReason } from './close-reason';
import { ConnectionStateMachine } from './connection-state';
import type { FrameBudget } from '../admission/frame-budget';
import { FramePacer, PacedConnection } from './frame-pacer';
import type { ConnectionHandler, ConnectionOptions, PendingFrame } from './connection.types';

export type { ConnectionHandler, ConnectionOptions, ConnectionState, PendingFrame } from './connection.types';

/**
 * One accepted socket: framing (through the streaming decoder), the write
 * side with its backpressure and outbound bound, timers, and close. Its
 * state (`state` and the session's facts) lives in ConnectionStateMachine,
 * written only by that class's methods; here it records facts as timestamps
 * (`lastReadAt`, `lastBackpressureAt`) that others read and never write. It
 * knows nothing of heartbeats or statuses; handlers decide what frames mean.
 */
export class Connection extends ConnectionStateMachine implements FrameSink, PacedConnection {
  readonly connectedAt: number;

  /** Server clock of the read that last brought bytes (one clock call per chunk, none per frame). */
  lastReadAt: number;
  /** Server clock of the last write. */
  lastWriteAt: number;
  /** Server clock of the last write the socket could not take at once (a slow reader); 0 before any. */
  lastBackpressureAt = 0;
  /** Server clock of the last HEART (or zero-length frame); 0 before the first. */
  lastHeartbeatAt = 0;
  /** Its frame and byte budgets (CONN_MSG_RATE, CONN_BYTE_RATE), set by the server at accept. */
  rates: ConnectionRates | undefined;
  /** The read being handled went over the byte budget: its frames are refused. */
  overByteRate = false;
  /** FRAME_BUDGET's counters for this connection (BudgetState). */
  budgetTurn = 0;
  budgetUsed = 0;
  private readonly budget: FrameBudget | undefined;
  /** Made when a frame first goes over the budget. */
  private pacer: FramePacer | undefined;

  /** The built-in framings' decoder (the fast path); undefined with an app's own codec. */
  private readonly decoder: FrameDecoder | undefined;
  /** An app's own codec (docs/PROTOCOL.md §1.1): the generic, slower path. */
  private readonly custom: ConnectionCodec | undefined;
  /** Whichever of the two decodes this connection's bytes. */
  private readonly stream: Pick<ConnectionCodec, 'push' | 'stop'>;
  private loginTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly handler: ConnectionHandler,
    private readonly options: ConnectionOptions,
  ) {
    super(normaliseAddress(socket.remoteAddress), socket.remotePort ?? 0);
    this.connectedAt = this.lastReadAt = this.lastWriteAt = handler.now();
    const codec = options.codec;
    if (codec === undefined || codec instanceof FramingCodec) {
      this.stream = this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes, framing: codec?.framing });
    } else {
      this.stream = this.custom = codec.create({ maxFrameBytes: options.maxFrameBytes });
    }
    this.budget = options.frameBudget?.enabled ? options.frameBudget : undefined;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // 'close' follows every 'error'; the reason is reported there.
      this.noteCloseCause(socketErrorReason(error.code));
    });
    socket.on('close', () => this.onSocketClosed());
  }

  // ---- the socket's facts ------------------------------------------------------------

  /** Framing of this connection: detected from the first byte; length-prefixed until then. */
  get framing(): Framing {
    return this.decoder?.framing ?? 'length';
  }

  /** The app's own codec of this connection; undefined on the built-in framings (whose replies are pre-encoded). */
  get customCodec(): ConnectionCodec | undefined {
    return this.custom;
  }

  /** Framing once the client has sent a byte, else undefined. */
  get detectedFraming(): Framing | undefined {
    return this.decoder?.framing;
  }

  /** Unsent bytes queued in the socket. */
  get outboundBytes(): number {
    return this.socket.writableLength;
  }

  /** A HEART arrived: at the time of its read (no clock call per frame). */
  noteHeartbeat(): void {
    this.lastHeartbeatAt = this.lastReadAt;
  }

  /** open | authenticating → ready (see ConnectionStateMachine.login); the login deadline is over. */
  override login(clientId: string, sessionId: string): void {
    this.clearLoginTimer();
    super.login(clientId, sessionId);
  }

  // ---- bytes in ------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this._state === 'closed') return;
    this.lastReadAt = this.handler.now();
    const bytes = this.rates?.bytes;
    // Per read, not per frame: the decoder does not tell a frame's size, and a read is what costs us.
    this.overByteRate = bytes !== undefined && !bytes.take(this.lastReadAt, chunk.length);
    // All replies produced by this read leave in one write.
    this.cork();
    try {
      this.stream.push(chunk, this);
    } catch (error) {
      // Thrown out of a socket 'data' listener it would take the whole process down.
      if (error instanceof FrameTooLargeException) this.handler.onFrameTooLarge(this, error);
      else this.handler.onInternalError(this, error);
    } finally {
      this.uncork();
    }
  }

  // FrameSink: the decoder calls these; forwarded without allocation while within FRAME_BUDGET.
  onMessage(message: Record<string, unknown>): void {
    if (this.admit()) this.handler.onMessage(this, message);
    else this.paced().defer({ kind: 'message', message });
  }
  onEmptyFrame(): void {
    if (this.admit()) this.handler.onEmptyFrame(this);
    else this.paced().defer({ kind: 'empty' });
  }
  onBadFrame(code: BadFrameCode, detail: string): void {
    if (this.admit()) this.handler.onBadFrame(this, code, detail);
    else this.paced().defer({ kind: 'bad', code, detail });
  }

  /** May the next frame be handled now? Frames keep their order: once one waits, all after it do. */
  private admit(): boolean {
    const budget = this.budget;
    return budget === undefined || (this.pacer?.waiting !== true && budget.take(this));
  }

  private paced(): FramePacer {
    return (this.pacer ??= new FramePacer(this.budget as FrameBudget, this, this.options.onBudgetSpent ?? (() => undefined)));
  }

  // PacedConnection: what the pacer does with this connection.
  pauseReading(): void {
    this.socket.pause();
  }
  resumeReading(): void {
    this.socket.resume();
  }
  dispatchHeld(frame: PendingFrame): void {
    if (frame.kind === 'message') this.handler.onMessage(this, frame.message);
    else if (frame.kind === 'empty') this.handler.onEmptyFrame(this);
    else this.handler.onBadFrame(this, frame.code, frame.detail);
  }
  onPacingError(error: unknown): void {
    this.handler.onInternalError(this, error);
  }

  // ---- bytes out -----------------------------------------------------------------------

  /** Serialise and send one message, with the type under this connection's type key. */
  send(type: string, body?: Record<string, unknown>): boolean {
    let json: string;
    if (body === undefined) json = `{"${this._typeKey}":"${type}"}`;
    else {
      const s = JSON.stringify(body);
      json = s.length > 2 ? `{"${this._typeKey}":"${type}",${s.slice(1)}` : `{"${this._typeKey}":"${type}"}`;
    }
    return this.sendJson(json);
  }

  /** Send an already serialised JSON text in this connection's framing (or its codec's). */
  sendJson(json: string): boolean {
    return this.write(this.custom !== undefined ? this.custom.encode(json) : encodeJson(this.framing, json));
  }

  /** Send an already framed buffer (pre-encoded replies). Counted here, where the bytes go out. */
  write(frame: Buffer): boolean {
    if (this._state === 'closed') return false;
    this.options.stats.framesOut++;
    const flushed = this.socket.write(frame);
    // Inside a read (corked: replies) the read's own time will do; no clock call per reply.
    this.lastWriteAt = this.socket.writableCorked > 0 ? this.lastReadAt : this.handler.now();
    if (!flushed) this.lastBackpressureAt = this.lastWriteAt;
    // While corked everything is queued on purpose; uncork() checks once the batch went out.
    if (this.socket.writableCorked === 0 && !this.withinOutboundBound()) return false;
    return flushed;
  }

  /** The zero-length frame (answer to a zero-length heartbeat). */
  writeEmptyFrame(): boolean {
    if (this.custom === undefined) return this.write(EMPTY_FRAME);
    const answer = this.custom.encodeEmpty();
    return answer === undefined || this.write(answer);
  }

  /** Hold writes to send them as one (the replies to one read); pair with uncork(). */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
    if (this._state !== 'closed' && this.socket.writableCorked === 0) this.withinOutboundBound();
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
    this.destroy(CloseReason.OUTBOUND_OVERFLOW);
    return false;
  }

  // ---- timers and close ------------------------------------------------------------------

  startLoginTimer(ms: number, onTimeout: () => void): void {
    this.loginTimer = setTimeout(onTimeout, ms);
    this.loginTimer.unref();
  }

  private clearLoginTimer(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
  }

  /**
   * Close after flushing what was written (a KICK or ERROR just sent).
   * Idempotent; the one place a connection's timers are cleared.
   */
  close(reason: string): void {
    if (this._state === 'closed') return;
    this.enterClosed(reason);
    this.clearLoginTimer();
    this.pacer?.stop();
    this.stream.stop();
    if (this.socket.destroyed) return;
    this.socket.end();
    // A peer that never reads would keep the socket half-closed: bound it.
    this.flushTimer = setTimeout(() => this.socket.destroy(), this.options.closeFlushMs);
    this.flushTimer.unref();
  }

  /** Close at once, dropping unsent bytes. */
  destroy(reason: string): void {
    this.close(reason);
    this.socket.destroy();
  }

  private onSocketClosed(): void {
    // The peer closed (FIN/RST/error) without our asking: same bookkeeping as ours.
    this.close(this.closeReason ?? CloseReason.PEER_CLOSED);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.handler.onClosed(this, this.closeReason ?? CloseReason.PEER_CLOSED);
  }
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
