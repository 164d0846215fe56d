import type * as net from 'node:net';
import * as tls from 'node:tls';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { LimitHits } from '../admission/limit-hits';
import { CLOCK, Clock } from '../common/clock';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { ErrorCode } from '../protocol';
import { AdmissionControl } from '../admission/admission-control';
import { FrameBudget } from '../admission/frame-budget';
import { AdmissionGate } from './admission-gate';
import { CLIENT_AUTHENTICATOR, ClientAuthenticator } from './client-authenticator';
import { CloseReason } from './close-reason';
import { autoCodec, LONGLINK_CODEC, type BadFrameCode, type Codec, type FrameTooLargeException } from './codec';
import { Connection, ConnectionHandler, ConnectionOptions } from './connection';
import { FrameRouter } from './handlers';
import { createListener } from './listener';
import { LoginGate } from './login-gate';
import { describe, errorText, Replies } from './replies';
import { SessionRegistry } from './session-registry';
import { shutDown } from './shutdown';
import type { SessionView, TransportSessions } from './session-view';
import type { TransportContext } from './transport-context';
import { TransportEventBus } from './transport-event-bus';
import { TransportStats } from './transport-stats';
import type { LongLinkEvents } from './transport.events';

/**
 * The long-link transport: a framed TCP (or TLS) server as a Nest custom
 * transport strategy. It listens, accepts (through the admission gate),
 * hands every frame to the FrameRouter and shuts down; LOGIN, HEART, ACK and
 * BYE stay on the fast path (no Observable, no handler lookup per frame,
 * replies pre-encoded and corked per read), only MSG goes through Nest.
 */
@Injectable()
export class LongLinkServer extends Server<LongLinkEvents> implements CustomTransportStrategy, ConnectionHandler, TransportSessions {
  protected override readonly logger = new Logger('LongLinkServer');
  readonly stats = new TransportStats();
  /** clientId → its live connection (the one session per client). */
  readonly sessions = new SessionRegistry();
  readonly replies: Replies;
  private readonly events = new TransportEventBus(this.logger);
  private readonly admission: AdmissionGate;
  private readonly admissionControl: AdmissionControl;
  private readonly router: FrameRouter;
  private readonly loginGate: LoginGate;
  private server: net.Server | undefined;
  /** Every open socket, logged in or not. */
  private readonly connections = new Set<Connection>();
  private readonly connectionOptions: ConnectionOptions;
  private shuttingDown = false;
  private closing: Promise<void> | undefined;

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CLIENT_AUTHENTICATOR) authenticator: ClientAuthenticator,
    limitHits: LimitHits,
    admission: AdmissionControl,
    // The listener's wire format; optional so the server can be built without the module.
    @Optional() @Inject(LONGLINK_CODEC) codec: Codec = autoCodec,
  ) {
    super();
    this.replies = new Replies(config, this.stats, this.logger);
    this.admission = new AdmissionGate(config, this.stats, admission);
    const ctx: TransportContext = {
      config,
      clock,
      stats: this.stats,
      logger: this.logger,
      sessions: this.sessions,
      replies: this.replies,
      events: this.events,
      patterns: this,
      limitHits,
      admission,
      endSession: (conn, reason) => this.endSession(conn, reason),
    };
    this.router = new FrameRouter(ctx, () => this.loginGate);
    this.loginGate = new LoginGate(ctx, authenticator, (conn, frame) => this.router.replay(conn, frame));
    this.connectionOptions = {
      maxFrameBytes: config.maxFrameBytes,
      maxOutboundBytes: config.maxOutboundBytes,
      closeFlushMs: Math.max(100, Math.min(2000, config.shutdownGraceMs)),
      stats: this.stats,
      frameBudget: new FrameBudget(config.admission.frameBudget),
      onBudgetSpent: () => limitHits.hit('frame_budget'),
      codec,
    };
    this.admissionControl = admission;
  }

  // ---- Nest Server contract -------------------------------------------------

  listen(callback: (error?: unknown, info?: unknown) => void): void {
    const { host, port, tlsCertFile } = this.config.tcp;
    let server: net.Server;
    try {
      server = createListener(this.config, (socket) => this.accept(socket), this.admission, this.logger);
    } catch (error) {
      callback(error);
      return;
    }
    this.server = server;
    const onListenError = (error: Error) => callback(error);
    server.once('error', onListenError);
    server.listen(port, host, () => {
      server.off('error', onListenError);
      server.on('error', (error) => this.logger.error(`listener error: ${error.message}`));
      const address = this.address();
      this.logger.log(
        `long-link listening on ${tlsCertFile ? 'tls' : 'tcp'}://${address?.address}:${address?.port} (AUTH_MODE=${this.config.auth.mode})`,
      );
      callback(undefined, address);
    });
  }

  /** Graceful shutdown: stop accepting, KICK shutdown to everyone, wait up to SHUTDOWN_GRACE_MS. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  on<K extends keyof LongLinkEvents = keyof LongLinkEvents, C extends LongLinkEvents[K] = LongLinkEvents[K]>(event: K, callback: C): this {
    this.events.on(event, callback);
    return this;
  }

  off<K extends keyof LongLinkEvents>(event: K, callback: LongLinkEvents[K]): this {
    this.events.off(event, callback);
    return this;
  }

  unwrap<T>(): T {
    if (!this.server) throw new Error('LongLinkServer is not listening yet: call listen() first');
    return this.server as T;
  }

  // ---- what the other parts read ------------------------------------------------

  /** host/port actually bound (port 0 resolves to a free port). */
  address(): net.AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  getConnection(clientId: string): Connection | undefined {
    return this.sessions.get(clientId);
  }

  /** Logged-in connections (the heartbeat probes walk these). */
  liveConnections(): IterableIterator<Connection> {
    return this.sessions.values();
  }

  // TransportSessions: the read-only view of the parts above.
  session(clientId: string): SessionView | undefined {
    return this.sessions.get(clientId);
  }

  sessionViews(): IterableIterator<SessionView> {
    return this.sessions.values();
  }

  now(): number {
    return this.clock.now();
  }

  // ---- accept --------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (!this.admission.admit(socket, this.connections.size, this.shuttingDown, this.server instanceof tls.Server)) return;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.config.tcp.keepAliveMs);
    const conn = new Connection(socket, this, this.connectionOptions);
    conn.rates = this.admissionControl.connectionRates();
    this.connections.add(conn);
    this.stats.accepted++;
    conn.startLoginTimer(this.config.loginTimeoutMs, () => {
      if (conn.loggedIn || conn.closed) return;
      this.replies.sendError(conn, ErrorCode.LOGIN_TIMEOUT, `no LOGIN within LOGIN_TIMEOUT_MS (${this.config.loginTimeoutMs} ms)`);
      conn.close(CloseReason.LOGIN_TIMEOUT);
    });
    if (!this.events.idle('connection')) {
      this.events.emit('connection', { connectionId: conn.id, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort });
    }
  }

  // ---- ConnectionHandler -----------------------------------------------------------

  onMessage(conn: Connection, raw: Record<string, unknown>): void {
    this.router.onMessage(conn, raw);
  }

  onEmptyFrame(conn: Connection): void {
    this.router.onEmptyFrame(conn);
  }

  onBadFrame(conn: Connection, code: BadFrameCode, detail: string): void {
    this.router.onBadFrame(conn, code, detail);
  }

  onFrameTooLarge(conn: Connection, error: FrameTooLargeException): void {
    this.stats.badFrames++;
    this.logger.warn(`closing ${describe(conn)}: ${error.message}`);
    this.replies.sendError(conn, ErrorCode.FRAME_TOO_LARGE, error.message);
    conn.close(CloseReason.FRAME_TOO_LARGE);
  }

  onInternalError(conn: Connection, error: unknown): void {
    // The rest of the read was lost with the exception: the stream can't be trusted any more.
    this.logger.error(
      `closing ${describe(conn)}: internal error while handling its frames: ${errorText(error)}`,
      error instanceof Error ? error.stack : undefined,
    );
    conn.close(CloseReason.INTERNAL_ERROR);
  }

  onOutboundOverflow(conn: Connection, queuedBytes: number): void {
    this.logger.warn(
      `closing ${describe(conn)}: ${queuedBytes} unsent bytes queued exceed MAX_OUTBOUND_BYTES (${this.config.maxOutboundBytes}); the client does not read`,
    );
  }

  onClosed(conn: Connection, reason: string): void {
    this.connections.delete(conn);
    this.logger.debug?.(`closed ${describe(conn)}: ${reason}`);
    // Reported already, when its session ended (BYE).
    if (conn.sessionEnded) return;
    this.reportClose(conn, reason, this.sessions.release(conn));
  }

  /** The session ends now, ahead of the socket: released and reported once (BYE). */
  private endSession(conn: Connection, reason: string): void {
    if (conn.sessionEnded) return;
    conn.markSessionEnded();
    this.reportClose(conn, reason, this.sessions.release(conn));
  }

  private reportClose(conn: Connection, reason: string, wasCurrent: boolean): void {
    this.events.emit('close', {
      connectionId: conn.id,
      clientId: conn.clientId,
      sessionId: conn.sessionId,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      reason,
      wasCurrent,
      lastReadAt: conn.lastReadAt,
      lastHeartbeatAt: conn.lastHeartbeatAt,
      reported: conn.reported,
    });
  }

  // ---- shutdown ------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const server = this.server;
    if (!server) return;
    const { replies, admission, logger, connections } = this;
    await shutDown({ server, connections, replies, admission, graceMs: this.config.shutdownGraceMs, logger });
  }
}

// Where they were always imported from (the parts above, tests, apps).
export { CloseReason } from './close-reason';
export { TransportStats } from './transport-stats';
export type { AckEvent, CloseEvent, ConnectionEvent, LoginEvent, LongLinkEvents } from './transport.events';
