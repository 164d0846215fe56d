import { Logger } from '@nestjs/common';
import type { ConnectionState, PendingFrame } from './connection.types';

let nextConnectionId = 1;
const logger = new Logger('Connection');

/**
 * The state half of a Connection: the `state` union (engine.io's
 * `readyState`) and the facts of its session (clientId, sessionId, the type
 * key it speaks, what it reported, one-way, frames held during a LOGIN
 * check, bad frames in a row). No socket here; every field is written only
 * by the methods below, which handlers call and never bypass. The socket
 * half (bytes in, bytes out, timers, close) is Connection, which extends it.
 */
export abstract class ConnectionStateMachine {
  readonly id = nextConnectionId++;

  // Read (never written) by the socket half on its per-frame paths: fields, not getters.
  protected _state: ConnectionState = 'open';
  protected _typeKey: 'type' | 'code' = 'type';
  private _closeReason: string | undefined;
  private _clientId: string | undefined;
  private _sessionId: string | undefined;
  private _reported: Record<string, unknown> | undefined;
  private held: PendingFrame[] | undefined;
  private badInARow = 0;
  private _oneWay = false;
  private _sessionEnded = false;

  protected constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

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

  /** A socket error seen ahead of the socket's 'close': the reason close() will report. */
  protected noteCloseCause(reason: string): void {
    if (this._state !== 'closed') this._closeReason = reason;
  }

  /** any → closed, for `reason`; what was held is dropped. The socket half calls it once, from close(). */
  protected enterClosed(reason: string): void {
    this.setState('closed');
    this._closeReason = reason;
    this.held = undefined;
  }

  private setState(next: ConnectionState): void {
    const from = this._state;
    if (from === next || from === 'closed') return;
    this._state = next;
    // Checked first: at 15,000 logins a second the unused string is not free.
    if (Logger.isLevelEnabled('verbose')) logger.verbose(`#${this.id} ${this.remoteAddress}:${this.remotePort} ${from} -> ${next}`);
  }
}
