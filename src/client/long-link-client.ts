import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AckMessage, ErrorCode, LoginMessage } from '../protocol';
import { Backoff } from './backoff';
import { ClientClosedError, LongLinkClientError, ServerError } from './client-errors';
import { ClientStatus, LongLinkClientEvents, SessionInfo } from './client-events';
import { LongLinkClientOptions, ResolvedClientOptions, resolveClientOptions, CLIENT_DEFAULTS } from './client-options';
import { ClientSocket, ClientSocketHandler } from './client-socket';
import { CommandDispatcher, CommandHandler } from './command-dispatcher';
import { Outbox } from './outbox';

type Listener<K extends keyof LongLinkClientEvents> = (...args: LongLinkClientEvents[K]) => void;

const HEART = { type: 'HEART' } as const;
const HEART_ANSWER = { type: 'HEART', ok: true } as const;

/**
 * A long-link client: one TCP (or TLS) connection to the gateway, kept up.
 *
 * - Logs in on every (re)connect and heartbeats at the interval the gateway
 *   names in its LOGIN reply; answers the gateway's HEART probes.
 * - Takes the server for dead when nothing at all arrives within
 *   heartbeatTimeoutMs of a HEART (this catches half-open connections, where
 *   the server vanished without a FIN and TCP alone would wait for minutes).
 * - Reconnects with exponential backoff and full jitter; never after close(),
 *   a KICK in `stopOnKick` (default: replaced) or a refused LOGIN.
 * - Runs command handlers and ACKs their outcome, once per command id.
 * - send()/emit() reach the gateway's @MessagePattern/@EventPattern handlers;
 *   while offline, frames wait in a bounded queue (or are refused loudly).
 *
 * Timers: connect, heartbeat, dead-server and reconnect, one each, all cleared
 * in cleanup(); send() has one per request, cleared when it settles. After
 * close() nothing of the client keeps the event loop alive.
 */
export class LongLinkClient implements ClientSocketHandler {
  private readonly options: ResolvedClientOptions;
  private readonly events = new EventEmitter();
  private readonly backoff: Backoff;
  private readonly commands: CommandDispatcher;

  private currentStatus: ClientStatus = 'idle';
  private socket: ClientSocket | undefined;
  private sessionInfo: SessionInfo | undefined;
  /** Set when the connection ending now must not be followed by a reconnect (KICK replaced, LOGIN refused). */
  private stopReason: string | undefined;
  private closeReason = 'not closed';
  private closing: Promise<void> | undefined;
  private everOnline = false;
  private onlineAt = 0;
  private failedAttempts = 0;

  // One timer per purpose; cleanup() clears them all.
  private connectTimer: NodeJS.Timeout | undefined;
  private heartTimer: NodeJS.Timeout | undefined;
  private deadTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private heartbeatTimeoutMs: number;
  /** When the oldest HEART that nothing has answered yet was sent (performance.now()); undefined when the server spoke since. */
  private unansweredSince: number | undefined;

  private readonly outbox: Outbox;
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(options: LongLinkClientOptions) {
    this.options = resolveClientOptions(options);
    this.backoff = new Backoff(this.options.reconnect);
    this.commands = new CommandDispatcher(this.options.commandDedupSize);
    this.outbox = new Outbox(this.options.maxQueuedFrames, this.options.requestTimeoutMs);
    this.heartbeatTimeoutMs = this.timeoutFor(this.options.heartbeatMs);
  }

  // ---- public surface --------------------------------------------------------------

  get status(): ClientStatus {
    return this.currentStatus;
  }

  get clientId(): string {
    return this.options.clientId;
  }

  /** The current (or last) LOGIN reply; undefined before the first one. */
  get session(): SessionInfo | undefined {
    return this.sessionInfo;
  }

  /** Frames waiting for the connection. */
  get queuedFrames(): number {
    return this.outbox.queued;
  }

  /** Reconnect attempts in a row without getting online. */
  get reconnectAttempts(): number {
    return this.failedAttempts;
  }

  /**
   * Starts connecting (once) and resolves when the client is online, now or
   * at its next LOGIN. Rejects when it closes first: close(), KICK replaced,
   * a refused LOGIN (fatal: the same credentials would be refused again) or
   * reconnect_failed.
   */
  connect(): Promise<void> {
    if (this.currentStatus === 'closed') return Promise.reject(new ClientClosedError('connect()', this.closeReason));
    if (this.currentStatus === 'online') return Promise.resolve();
    const online = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.currentStatus === 'idle') {
      this.setStatus('connecting', 'connect() called');
      this.openSocket();
    }
    return online;
  }

  /**
   * Says BYE (when online) and closes for good: no reconnect, every timer
   * cleared, queued frames and pending requests rejected with
   * ClientClosedError. Resolves when the socket is closed. Safe to call twice.
   */
  close(reason = 'closed by the application'): Promise<void> {
    if (this.currentStatus === 'closed') return this.closing ?? Promise.resolve();
    const socket = this.socket;
    const wasOnline = this.currentStatus === 'online';
    this.socket = undefined;
    this.finish(reason);
    if (socket === undefined) return (this.closing = Promise.resolve());
    if (wasOnline) socket.end(reason, { type: 'BYE' });
    else socket.destroy(reason);
    return (this.closing = socket.whenClosed);
  }

  /** Handles the commands named `name`; returns a function that unregisters it. */
  onCommand(name: string, handler: CommandHandler): () => void {
    return this.commands.register(name, handler);
  }

  /**
   * Request/reply to the gateway's `@MessagePattern(pattern)`: resolves with
   * the handler's data; rejects with ServerError (handler failed or no
   * handler), RequestTimeoutError (requestTimeoutMs after the call),
   * ConnectionLostError (written, then the connection dropped),
   * QueueFullError or ClientClosedError.
   */
  send<T = unknown>(pattern: string, data?: unknown): Promise<T> {
    if (this.currentStatus === 'closed') return Promise.reject(new ClientClosedError(`send('${pattern}')`, this.closeReason));
    return this.outbox.request<T>(pattern, data, this.liveSocket(), this.currentStatus);
  }

  /**
   * Fire-and-forget to the gateway's `@EventPattern(pattern)`. Written at
   * once when online, else queued; throws QueueFullError or ClientClosedError
   * instead of dropping it.
   */
  emit(pattern: string, data?: unknown): void {
    const what = `emit('${pattern}')`;
    if (this.currentStatus === 'closed') throw new ClientClosedError(what, this.closeReason);
    this.outbox.post({ type: 'MSG', pattern, data }, what, this.liveSocket(), this.currentStatus);
  }

  on<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    this.events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Same as off(); what node:events helpers call to detach (events.once/on in plain JS). */
  removeListener<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    return this.off(event, listener);
  }

  listenerCount(event: keyof LongLinkClientEvents): number {
    return this.events.listenerCount(event);
  }

  // ---- status ----------------------------------------------------------------------

  /** The only writer of the status. */
  private setStatus(to: ClientStatus, reason: string): void {
    const from = this.currentStatus;
    if (from === to) return;
    this.currentStatus = to;
    this.fire('status', { from, to, reason });
  }

  private fire<K extends keyof LongLinkClientEvents>(event: K, ...args: LongLinkClientEvents[K]): void {
    // An unheard 'error' would throw out of a socket callback and kill the process.
    if (event === 'error' && this.events.listenerCount('error') === 0) return;
    try {
      this.events.emit(event, ...args);
    } catch (error) {
      // A throwing listener is the application's bug: let it surface as an
      // uncaught exception, but not from inside the SDK halfway through a
      // frame or a state change, which would leave both inconsistent.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  // ---- connection lifecycle ------------------------------------------------------

  private openSocket(): void {
    const o = this.options;
    const socket = new ClientSocket(
      {
        host: o.host,
        port: o.port,
        framing: o.framing,
        tls: o.tls,
        maxFrameBytes: o.maxFrameBytes,
        tcpKeepAliveMs: o.tcpKeepAliveMs,
        closeTimeoutMs: o.closeTimeoutMs,
      },
      this,
    );
    this.socket = socket;
    this.connectTimer = setTimeout(
      () => socket.destroy(`not logged in within connectTimeoutMs (${o.connectTimeoutMs} ms)`),
      o.connectTimeoutMs,
    );
  }

  onOpen(socket: ClientSocket): void {
    if (socket !== this.socket) return;
    const { clientId, token, meta } = this.options;
    const login: LoginMessage = { type: 'LOGIN', clientId };
    if (token !== undefined) login.token = token;
    if (meta !== undefined) login.meta = meta;
    socket.send(login);
  }

  onClosed(socket: ClientSocket, reason: string): void {
    // A socket we already let go of (close(), or superseded): nothing to decide.
    if (socket !== this.socket) return;
    this.socket = undefined;
    const wasOnline = this.currentStatus === 'online';
    this.cleanup(reason);
    if (this.stopReason !== undefined) {
      this.finish(this.stopReason);
      return;
    }
    if (wasOnline && performance.now() - this.onlineAt >= this.options.stableAfterMs) this.backoff.reset();
    const { maxAttempts } = this.options.reconnect;
    if (this.failedAttempts >= maxAttempts) {
      const why = `gave up after ${this.failedAttempts} reconnect attempts (maxAttempts ${maxAttempts}); last: ${reason}`;
      this.fire('reconnect_failed', { attempts: this.failedAttempts, reason });
      this.finish(why);
      return;
    }
    this.failedAttempts++;
    const delayMs = this.backoff.duration();
    this.setStatus('reconnecting', reason);
    this.fire('reconnect_scheduled', { attempt: this.failedAttempts, delayMs, reason });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.openSocket();
    }, delayMs);
  }

  private onLoggedIn(socket: ClientSocket, reply: Record<string, unknown>): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    const heartbeatMs = typeof reply.heartbeatMs === 'number' && reply.heartbeatMs > 0 ? reply.heartbeatMs : this.options.heartbeatMs;
    this.sessionInfo = {
      clientId: typeof reply.clientId === 'string' ? reply.clientId : this.options.clientId,
      sessionId: String(reply.sessionId ?? ''),
      heartbeatMs,
      serverTime: Number(reply.serverTime ?? 0),
    };
    this.heartbeatTimeoutMs = this.timeoutFor(heartbeatMs);
    this.failedAttempts = 0;
    this.onlineAt = performance.now();
    this.heartTimer = setInterval(() => this.sendHeart(), heartbeatMs);
    // Queued frames go before anything a status listener may send.
    this.outbox.flush(socket);
    const reason = this.everOnline ? 'logged in again' : 'logged in';
    this.everOnline = true;
    this.setStatus('online', reason);
    this.fire('online', this.sessionInfo);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }

  /** Final: status closed, everything released. */
  private finish(reason: string): void {
    this.closeReason = reason;
    this.setStatus('closed', reason);
    this.cleanup(reason);
  }

  /**
   * The one place timers die. Called when a connection ends (reconnect may
   * follow) and when the client closes (then everything waiting is rejected).
   * Safe to call twice.
   */
  private cleanup(reason: string): void {
    clearTimeout(this.connectTimer);
    clearInterval(this.heartTimer);
    clearTimeout(this.deadTimer);
    clearTimeout(this.reconnectTimer);
    this.connectTimer = this.heartTimer = this.deadTimer = this.reconnectTimer = undefined;
    this.unansweredSince = undefined;
    if (this.currentStatus !== 'closed') {
      this.outbox.connectionLost(reason);
      return;
    }
    this.outbox.close(reason);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new ClientClosedError('connect()', reason));
  }

  // ---- heartbeat and dead-server detection ----------------------------------------

  private timeoutFor(heartbeatMs: number): number {
    return this.options.heartbeatTimeoutMs ?? Math.round(heartbeatMs * CLIENT_DEFAULTS.heartbeatTimeoutFactor);
  }

  private sendHeart(): void {
    const socket = this.socket;
    if (socket === undefined || this.currentStatus !== 'online') return;
    socket.send(this.heartMessage());
    this.unansweredSince ??= performance.now();
    if (this.deadTimer === undefined) this.armDeadTimer(this.heartbeatTimeoutMs);
  }

  private heartMessage(): object {
    const build = this.options.heartbeatFields;
    if (build === undefined) return HEART;
    try {
      return { ...build(), type: 'HEART' };
    } catch (error) {
      // A broken reporter must not cost the connection its heartbeat.
      this.fire('error', new LongLinkClientError('HEARTBEAT_FIELDS', `heartbeatFields() threw: ${(error as Error).message}`));
      return HEART;
    }
  }

  private armDeadTimer(ms: number): void {
    this.deadTimer = setTimeout(() => this.checkDead(), ms);
  }

  /**
   * One timer, re-armed with the time left (not rescheduled per frame): any
   * bytes from the server clear `unansweredSince`, and the next HEART arms
   * the timer again.
   */
  private checkDead(): void {
    this.deadTimer = undefined;
    const since = this.unansweredSince;
    if (since === undefined || this.socket === undefined) return;
    const silentMs = Math.round(performance.now() - since);
    if (silentMs < this.heartbeatTimeoutMs) {
      this.armDeadTimer(this.heartbeatTimeoutMs - silentMs);
      return;
    }
    this.socket.destroy(`no frame from the server within heartbeatTimeoutMs (${this.heartbeatTimeoutMs} ms) after a HEART (silent for ${silentMs} ms)`);
  }

  // ---- inbound frames ---------------------------------------------------------------

  onBytes(socket: ClientSocket): void {
    if (socket === this.socket) this.unansweredSince = undefined;
  }

  onEmptyFrame(): void {
    // The answer to a zero-length heartbeat; its bytes already counted as life.
  }

  onBadFrame(socket: ClientSocket, code: string, detail: string): void {
    if (socket === this.socket) this.fire('error', new LongLinkClientError(code, `bad frame from the server: ${detail}`));
  }

  onMessage(socket: ClientSocket, m: Record<string, unknown>): void {
    if (socket !== this.socket) return;
    const type = m.type ?? m.code;
    switch (type) {
      case 'HEART':
        // A reply has `ok`; a probe of the server's own is answered.
        if (m.ok === undefined) socket.send(HEART_ANSWER);
        return;
      case 'CMD':
        this.onCmd(socket, m);
        return;
      case 'MSG':
        this.onReply(m);
        return;
      case 'LOGIN':
        if (this.currentStatus === 'online') return;
        if (m.ok === true) this.onLoggedIn(socket, m);
        else this.onLoginRefused(socket, m);
        return;
      case 'KICK':
        this.onKick(socket, m);
        return;
      case 'ERROR':
        this.onError(m);
        return;
      default:
        // Unknown types are ignored: a newer gateway may send more than this SDK knows.
        return;
    }
  }

  private onLoginRefused(socket: ClientSocket, m: Record<string, unknown>): void {
    const error = errorBody(m.error);
    const message = `LOGIN refused for '${this.options.clientId}': ${error.code}: ${error.message}`;
    this.stopReason = message;
    this.fire('error', new ServerError(error.code, message));
    socket.end(message);
  }

  private onKick(socket: ClientSocket, m: Record<string, unknown>): void {
    const reason = typeof m.reason === 'string' ? m.reason : 'unknown';
    const stop = this.options.stopOnKick.includes(reason);
    if (stop) this.stopReason = `kicked: ${reason}`;
    this.fire('kicked', { reason, willReconnect: !stop });
    // The gateway closes right after a KICK; end our side too.
    socket.end(`kicked: ${reason}`);
  }

  private onError(m: Record<string, unknown>): void {
    const code = typeof m.code === 'string' && m.code !== 'ERROR' ? m.code : errorBody(m.error).code;
    const message = typeof m.message === 'string' ? m.message : errorBody(m.error).message;
    const id = typeof m.id === 'string' ? m.id : undefined;
    const request = id === undefined ? undefined : this.outbox.take(id);
    if (request !== undefined) {
      request.reject(new ServerError(code, `MSG '${request.pattern}' failed: ${code}: ${message}`));
      return;
    }
    this.fire('error', new ServerError(code, `gateway sent ERROR ${code}: ${message}`));
  }

  private onReply(m: Record<string, unknown>): void {
    const id = typeof m.id === 'string' ? m.id : undefined;
    const request = id === undefined ? undefined : this.outbox.take(id);
    // A reply nobody waits for any more (timed out): dropped.
    if (request === undefined) return;
    if (m.ok === true) request.resolve(m.data);
    else {
      const error = errorBody(m.error);
      request.reject(new ServerError(error.code, `MSG '${request.pattern}' failed: ${error.code}: ${error.message}`));
    }
  }

  // ---- commands ----------------------------------------------------------------------

  private onCmd(socket: ClientSocket, m: Record<string, unknown>): void {
    const { id, name } = m;
    if (typeof id !== 'string' || id.length === 0 || typeof name !== 'string') {
      if (typeof id === 'string' && id.length > 0) {
        socket.send({ type: 'ACK', id, ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: 'CMD needs a "name" string' } });
      }
      this.fire('error', new LongLinkClientError(ErrorCode.BAD_MESSAGE, `CMD without a valid id and name: ${JSON.stringify(m).slice(0, 200)}`));
      return;
    }
    const expiresAt = typeof m.expiresAt === 'number' ? m.expiresAt : undefined;
    const receipt = this.commands.receive({ id, name, data: m.data, expiresAt });
    this.fire('command', { id, name, data: m.data, duplicate: receipt.kind !== 'new' });
    if (receipt.kind === 'repeat') {
      socket.send(receipt.ack);
      return;
    }
    if (receipt.kind === 'running') return;
    const started = performance.now();
    void receipt.done.then((ack) => {
      const sent = this.sendAck(ack);
      this.fire('ack', {
        id,
        name,
        ok: ack.ok,
        result: ack.result,
        error: ack.error,
        durationMs: Math.round(performance.now() - started),
        sent,
      });
    });
  }

  /**
   * On the live connection, whichever it is now. While offline the ACK is not
   * queued: the gateway sends an unacked command again after the next LOGIN
   * and the dispatcher answers that with this same ACK.
   */
  private sendAck(ack: AckMessage): boolean {
    return this.liveSocket()?.send(ack) ?? false;
  }

  /** The socket to write on now, or undefined when frames must wait for the next LOGIN. */
  private liveSocket(): ClientSocket | undefined {
    return this.currentStatus === 'online' ? this.socket : undefined;
  }
}

function errorBody(value: unknown): { code: string; message: string } {
  if (value && typeof value === 'object') {
    const e = value as Record<string, unknown>;
    return { code: typeof e.code === 'string' ? e.code : 'ERROR', message: typeof e.message === 'string' ? e.message : '' };
  }
  return { code: 'ERROR', message: value === undefined ? 'no details' : String(value) };
}
