import { performance } from 'node:perf_hooks';
import { AckMessage, LoginMessage } from '../protocol';
import { Backoff } from './backoff';
import { ClientClosedError, LongLinkClientError, ServerError } from './client-errors';
import { ClientEmitter } from './client-emitter';
import { ClientStatus, SessionInfo } from './client-events';
import { ClientHeartbeat } from './client-heartbeat';
import { LongLinkClientOptions, ResolvedClientOptions, resolveClientOptions } from './client-options';
import { ClientSocket, ClientSocketHandler } from './client-socket';
import { CommandDispatcher, CommandHandler } from './command-dispatcher';
import { CommandReceiverHost, receiveCommand } from './command-receiver';
import { Outbox } from './outbox';
import { errorBody, settleError, settleReply } from './server-replies';

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
 *
 * Beside it: the event surface (ClientEmitter), heartbeat and dead-server
 * timers (ClientHeartbeat), CMD handling (command-receiver) and reply
 * settling (server-replies); this class owns the status and the connection lifecycle.
 */
export class LongLinkClient extends ClientEmitter implements ClientSocketHandler {
  private readonly options: ResolvedClientOptions;
  private readonly backoff: Backoff;
  private readonly commands: CommandDispatcher;
  private readonly heartbeat: ClientHeartbeat;

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

  // One timer per purpose (the heartbeat's two in ClientHeartbeat); cleanup() clears them all.
  private connectTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private readonly outbox: Outbox;
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly receiver: CommandReceiverHost = {
    fireCommand: (event) => this.fire('command', event),
    fireAck: (event) => this.fire('ack', event),
    fireError: (error) => this.fire('error', error),
    sendAck: (ack) => this.sendAck(ack),
  };

  constructor(options: LongLinkClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    this.backoff = new Backoff(this.options.reconnect);
    this.commands = new CommandDispatcher(this.options.commandDedupSize);
    this.outbox = new Outbox(this.options.maxQueuedFrames, this.options.requestTimeoutMs);
    this.heartbeat = new ClientHeartbeat(this.options, () => this.liveSocket(), () => this.socket, (error) => this.fire('error', error));
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


  // ---- status ----------------------------------------------------------------------

  /** The only writer of the status. */
  private setStatus(to: ClientStatus, reason: string): void {
    const from = this.currentStatus;
    if (from === to) return;
    this.currentStatus = to;
    this.fire('status', { from, to, reason });
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
    this.failedAttempts = 0;
    this.onlineAt = performance.now();
    this.heartbeat.start(heartbeatMs);
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
    this.heartbeat.stop();
    clearTimeout(this.reconnectTimer);
    this.connectTimer = this.reconnectTimer = undefined;
    if (this.currentStatus !== 'closed') {
      this.outbox.connectionLost(reason);
      return;
    }
    this.outbox.close(reason);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new ClientClosedError('connect()', reason));
  }


  // ---- inbound frames ---------------------------------------------------------------

  onBytes(socket: ClientSocket): void {
    if (socket === this.socket) this.heartbeat.heard();
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
        receiveCommand(socket, m, this.commands, this.receiver);
        return;
      case 'MSG':
        settleReply(this.outbox, m);
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
        settleError(this.outbox, m, (error) => this.fire('error', error));
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
