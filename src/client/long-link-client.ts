import type { AckMessage } from '../protocol';
import { ClientClosedError } from './client-errors';
import { ClientEmitter } from './client-emitter';
import { ClientStatus, SessionInfo } from './client-events';
import { ClientHeartbeat } from './client-heartbeat';
import { LongLinkClientOptions, ResolvedClientOptions, resolveClientOptions } from './client-options';
import { ClientSession } from './client-session';
import { ClientSocket } from './client-socket';
import { CommandDispatcher, CommandHandler } from './command-dispatcher';
import type { CommandReceiverHost } from './command-receiver';
import { Outbox } from './outbox';
import { ReconnectLoop } from './reconnect-loop';

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
 * Beside it: the event surface (ClientEmitter), what the gateway's frames
 * mean on a connection (ClientSession), the attempts with their backoff and
 * timers (ReconnectLoop), heartbeat and dead-server timers (ClientHeartbeat);
 * this class owns the status and the connection lifecycle.
 */
export class LongLinkClient extends ClientEmitter {
  private readonly options: ResolvedClientOptions;
  private readonly attempts: ReconnectLoop;
  private readonly commands: CommandDispatcher;
  private readonly heartbeat: ClientHeartbeat;
  private readonly sessionHandler: ClientSession;

  private currentStatus: ClientStatus = 'idle';
  private socket: ClientSocket | undefined;
  private sessionInfo: SessionInfo | undefined;
  /** Set when the connection ending now must not be followed by a reconnect (KICK replaced, LOGIN refused). */
  private stopReason: string | undefined;
  private closeReason = 'not closed';
  private closing: Promise<void> | undefined;
  private everOnline = false;

  private readonly outbox: Outbox;
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(options: LongLinkClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    this.attempts = new ReconnectLoop(this.options, {
      reconnect: () => this.openSocket(),
      reconnectScheduled: (attempt, delayMs, reason) => {
        this.setStatus('reconnecting', reason);
        // A status listener may have closed the client: then nothing is scheduled any more.
        if (this.currentStatus === 'reconnecting') this.fire('reconnect_scheduled', { attempt, delayMs, reason });
      },
      reconnectFailed: (attempts, reason, why) => {
        this.fire('reconnect_failed', { attempts, reason });
        this.finish(why);
      },
    });
    this.commands = new CommandDispatcher(this.options.commandDedupSize);
    this.outbox = new Outbox(this.options.maxQueuedFrames, this.options.requestTimeoutMs);
    this.heartbeat = new ClientHeartbeat(this.options, () => this.liveSocket(), () => this.socket, (error) => this.fire('error', error));
    const receiver = {
      fireCommand: (event) => this.fire('command', event),
      fireAck: (event) => this.fire('ack', event),
      fireError: (error) => this.fire('error', error),
      sendAck: (ack) => this.sendAck(ack),
    } satisfies CommandReceiverHost;
    this.sessionHandler = new ClientSession(this.options, this.commands, this.outbox, this.heartbeat, receiver, {
      current: () => this.socket,
      isOnline: () => this.currentStatus === 'online',
      loggedIn: (socket, session) => this.onLoggedIn(socket, session),
      stopAfter: (reason) => (this.stopReason = reason),
      closed: (socket, reason) => this.onClosed(socket, reason),
      fireError: (error) => this.fire('error', error),
      fireKicked: (event) => this.fire('kicked', event),
    });
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
    return this.attempts.attempts;
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
      this.sessionHandler,
    );
    this.socket = socket;
    this.attempts.opened(socket);
  }

  private onClosed(socket: ClientSocket, reason: string): void {
    // A socket we already let go of (close(), or superseded): nothing to decide.
    if (socket !== this.socket) return;
    this.socket = undefined;
    const wasOnline = this.currentStatus === 'online';
    this.cleanup(reason);
    if (this.stopReason !== undefined) {
      this.finish(this.stopReason);
      return;
    }
    this.attempts.ended(wasOnline, reason);
  }

  private onLoggedIn(socket: ClientSocket, session: SessionInfo): void {
    this.attempts.online();
    this.sessionInfo = session;
    this.heartbeat.start(session.heartbeatMs);
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
    this.attempts.stop();
    this.heartbeat.stop();
    if (this.currentStatus !== 'closed') {
      this.outbox.connectionLost(reason);
      return;
    }
    this.outbox.close(reason);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new ClientClosedError('connect()', reason));
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
