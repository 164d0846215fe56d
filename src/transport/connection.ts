import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import { BadFrameCode, ConnectionCodec, EMPTY_FRAME, encodeJson, FrameDecoder, FrameSink, FrameTooLargeException, Framing, FramingCodec } from './codec';
import type { ConnectionRates } from '../admission/admission-control';
import { CloseReason, socketErrorReason } from './close-reason';
import { FramePacer } from './frame-pacer';
import type { ConnectionHandler, ConnectionOptions, ConnectionState, PendingFrame } from './connection.types';

export type { ConnectionHandler, ConnectionOptions, ConnectionState, PendingFrame } from './connection.types';

let nextConnectionId = 1;
const logger = new Logger('Connection');

/**
 * One accepted socket: framing (through the streaming decoder), the write
 * side with its backpressure and outbound bound, timers, and close. It owns
 * its state (`state`, written only by its own methods) and records facts as
 * timestamps (`lastReadAt`, `lastBackpressureAt`) that others read and never
 * write. It knows nothing of heartbeats or statuses; handlers decide what
 * frames mean.
 */
export class Connection implements FrameSink {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt: number;

  private _state: ConnectionState = 'open';
  private _clientId: string | undefined;
  private _sessionId: string | undefined;
  private _typeKey: 'type' | 'code' = 'type';
  private _closeReason: string | undefined;
  private _reported: Record<string, unknown> | undefined;
  private held: PendingFrame[] | undefined;
  private badInARow = 0;
  private _oneWay = false;
  private _sessionEnded = false;

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
  private readonly pacer: FramePacer | undefined;

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
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.connectedAt = this.lastReadAt = this.lastWriteAt = handler.now();
    const codec = options.codec;
    if (codec === undefined || codec instanceof FramingCodec) {
      this.stream = this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes, framing: codec?.framing });
    } else {
      this.stream = this.custom = codec.create({ maxFrameBytes: options.maxFrameBytes });
    }
    const budget = options.frameBudget;
    if (budget?.enabled) {
      this.pacer = new FramePacer(budget, {
        isClosed: () => this._state === 'closed',
        pause: () => this.socket.pause(),
        resume: () => this.socket.resume(),
        dispatch: (frame) => {
          if (frame.kind === 'message') handler.onMessage(this, frame.message);
          else if (frame.kind === 'empty') handler.onEmptyFrame(this);
          else handler.onBadFrame(this, frame.code, frame.detail);
        },
        cork: () => this.cork(),
        uncork: () => this.uncork(),
        onInternalError: (error) => handler.onInternalError(this, error),
      }, options.onBudgetSpent ?? (() => undefined));
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // 'close' follows every 'error'; the reason is reported there.
      if (this._state !== 'closed') this._closeReason = socketErrorReason(error.code);
    });
    socket.on('close', () => this.onSocketClosed());
  }

  // ---- state (read) ---------------------------------------------------------------

  get state(): ConnectionState {
    return this._state;
  }
  get loggedIn(): boolean {
    return this._state === 'ready';
  }
  get authenticating(): boolean {
    return this._state === 'authenticating';
  }
  get closed(): boolean {
    return this._state === 'closed';
  }
  get clientId(): string | undefined {
    return this._clientId;
  }
  get sessionId(): string | undefined {
    return this._sessionId;
  }
  get closeReason(): string | undefined {
    return this._closeReason;
  }
  /** Key used for the message type in every frame sent: `code` once the client used that alias. */
  get typeKey(): 'type' | 'code' {
    return this._typeKey;
  }
  /** The latest HEART object that carried fields of the client's own (status, ip, pid, …). */
  get reported(): Record<string, unknown> | undefined {
    return this._reported;
  }
  /** Bad frames in a row (reset by a good one). */
  get badFrames(): number {
    return this.badInARow;
  }
  /**
   * The client sends typeless heartbeats and never reads (docs/PROTOCOL.md §2.2):
   * its heartbeats get no reply and it gets no probes; liveness is judged from its frames.
   */
  get oneWay(): boolean {
    return this._oneWay;
  }
  /** Its session was ended (and reported) before the socket closed: BYE. */
  get sessionEnded(): boolean {
    return this._sessionEnded;
  }

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

  // ---- state (the only writers) ------------------------------------------------------

  /** open → authenticating: an asynchronous LOGIN check started. */
  beginAuthentication(): void {
    this.setState('authenticating');
  }

  /** authenticating → open: the check refused (a close follows). */
  endAuthentication(): void {
    if (this._state === 'authenticating') this.setState('open');
  }

  /** open | authenticating → ready, as `clientId` in a new session. */
  login(clientId: string, sessionId: string): void {
    this.clearLoginTimer();
    this._clientId = clientId;
    this._sessionId = sessionId;
    this.setState('ready');
  }

  /** A typeless heartbeat arrived: from now on the connection is one-way. */
  markOneWay(): void {
    this._oneWay = true;
  }

  /** The session is over ahead of the socket (BYE); the transport reported it already. */
  markSessionEnded(): void {
    this._sessionEnded = true;
  }

  /** The client spelled the message type `code`: every frame to it does too. */
  useTypeKey(key: 'type' | 'code'): void {
    this._typeKey = key;
  }

  report(fields: Record<string, unknown>): void {
    this._reported = fields;
  }

  /** A HEART arrived: at the time of its read (no clock call per frame). */
  noteHeartbeat(): void {
    this.lastHeartbeatAt = this.lastReadAt;
  }

  /** One more bad frame in a row; how many now. */
  countBadFrame(): number {
    return ++this.badInARow;
  }

  /** A good frame: the bad ones are no longer "in a row". */
  resetBadFrames(): void {
    if (this.badInARow !== 0) this.badInARow = 0;
  }

  /** Keeps a frame that arrived during an asynchronous LOGIN check; false when `max` are held already. */
  hold(frame: PendingFrame, max: number): boolean {
    this.held ??= [];
    if (this.held.length >= max) return false;
    this.held.push(frame);
    return true;
  }

  /** The held frames, in order; none are held afterwards. */
  takeHeld(): PendingFrame[] {
    const held = this.held ?? [];
    this.held = undefined;
    return held;
  }

  private setState(next: ConnectionState): void {
    const from = this._state;
    if (from === next || from === 'closed') return;
    this._state = next;
    // Checked first: at 15,000 logins a second the unused string is not free.
    if (Logger.isLevelEnabled('verbose')) logger.verbose(`#${this.id} ${this.remoteAddress}:${this.remotePort} ${from} -> ${next}`);
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
    if (this.pacer === undefined || this.pacer.admit()) this.handler.onMessage(this, message);
    else this.pacer.defer({ kind: 'message', message });
  }
  onEmptyFrame(): void {
    if (this.pacer === undefined || this.pacer.admit()) this.handler.onEmptyFrame(this);
    else this.pacer.defer({ kind: 'empty' });
  }
  onBadFrame(code: BadFrameCode, detail: string): void {
    if (this.pacer === undefined || this.pacer.admit()) this.handler.onBadFrame(this, code, detail);
    else this.pacer.defer({ kind: 'bad', code, detail });
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
    this.setState('closed');
    this._closeReason = reason;
    this.clearLoginTimer();
    this.held = undefined;
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
    this.close(this._closeReason ?? CloseReason.PEER_CLOSED);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.handler.onClosed(this, this._closeReason ?? CloseReason.PEER_CLOSED);
  }
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
