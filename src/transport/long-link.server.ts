import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { CLOCK, Clock } from '../common/clock';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import {
  AckMessage,
  ErrorCode,
  HeartMessage,
  LoginMessage,
  MsgMessage,
  validateMessage,
} from '../protocol';
import { AuthResult, CLIENT_AUTHENTICATOR, ClientAuthenticator } from './client-authenticator';
import { BadFrameCode, encodeJson, FrameTooLargeException, Framing } from './codec';
import { Connection, ConnectionHandler, ConnectionOptions } from './connection';
import { LongLinkContext } from './long-link.context';

/** Why a connection closed; presence maps these to statuses. */
export const CloseReason = {
  LOGOUT: 'logout',
  KICKED: 'kicked',
  REPLACED: 'replaced',
  TIMEOUT: 'timeout',
  SHUTDOWN: 'shutdown',
  LOGIN_TIMEOUT: 'login_timeout',
  NOT_LOGGED_IN: 'not_logged_in',
  AUTH_FAILED: 'auth_failed',
  SERVER_FULL: 'server_full',
  FRAME_TOO_LARGE: 'frame_too_large',
  TOO_MANY_BAD_FRAMES: 'too_many_bad_frames',
  OUTBOUND_OVERFLOW: 'outbound_overflow',
  PEER_CLOSED: 'peer_closed',
} as const;

export interface LoginEvent {
  meta: Record<string, unknown> | undefined;
  /** Logged in by its first HEART (AUTH_MODE=none), without LOGIN. */
  implicit: boolean;
  /** The connection this login took the session over from, if any. */
  replaced: Connection | undefined;
}

export interface CloseEvent {
  reason: string;
  /** The connection was the client's live one when it closed (not replaced by a newer login). */
  wasCurrent: boolean;
}

/** Events of the transport (`server.on(name, listener)`); all synchronous. */
export type LongLinkEvents = {
  connection: (conn: Connection) => void;
  login: (conn: Connection, event: LoginEvent) => void;
  ack: (conn: Connection, ack: AckMessage) => void;
  close: (conn: Connection, event: CloseEvent) => void;
};

/** Plain counters the metrics part reads; plain fields so the hot path pays one add each. */
export class TransportStats {
  accepted = 0;
  rejectedFull = 0;
  framesIn = 0;
  framesOut = 0;
  badFrames = 0;
  heartbeats = 0;
  logins = 0;
  loginFailures = 0;
  messages = 0;
}

/** Sockets refused because the server is full wait at most this long for a first byte. */
const FULL_REJECT_WAIT_MS = 1000;
/** At most this many refused sockets are held for that wait; more are dropped at once. */
const FULL_REJECT_MAX_PENDING = 64;

/**
 * The long-link transport: a framed TCP (or TLS) server as a Nest custom
 * transport strategy. LOGIN, HEART, ACK and BYE are handled here, on the fast
 * path (no Observable, no handler lookup per frame, replies pre-encoded and
 * corked per read); only MSG goes through the Nest handler pipeline.
 */
@Injectable()
export class LongLinkServer extends Server<LongLinkEvents> implements CustomTransportStrategy, ConnectionHandler {
  protected override readonly logger = new Logger('LongLinkServer');
  readonly stats = new TransportStats();
  private server: net.Server | undefined;
  private readonly emitter = new EventEmitter();
  /** Every open socket, logged in or not. */
  private readonly connections = new Set<Connection>();
  /** clientId → its live connection. */
  private readonly clients = new Map<string, Connection>();
  private readonly connectionOptions: ConnectionOptions;
  private pendingRejects = 0;
  private shuttingDown = false;
  private closing: Promise<void> | undefined;
  private heartReplyAt = -1;
  private readonly heartReplies = new Map<string, Buffer>();

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CLIENT_AUTHENTICATOR) private readonly authenticator: ClientAuthenticator,
  ) {
    super();
    this.emitter.setMaxListeners(50);
    this.connectionOptions = {
      maxFrameBytes: config.maxFrameBytes,
      maxOutboundBytes: config.maxOutboundBytes,
      closeFlushMs: Math.max(100, Math.min(2000, config.shutdownGraceMs)),
    };
  }

  // ---- Nest Server contract -------------------------------------------------

  listen(callback: (error?: unknown, info?: unknown) => void): void {
    const { host, port, tlsCertFile, tlsKeyFile } = this.config.tcp;
    const onSocket = (socket: net.Socket) => this.accept(socket);
    let server: net.Server;
    try {
      server =
        tlsCertFile && tlsKeyFile
          ? tls.createServer({ cert: readFileSync(tlsCertFile), key: readFileSync(tlsKeyFile) }, onSocket)
          : net.createServer(onSocket);
    } catch (error) {
      callback(error);
      return;
    }
    this.server = server;
    if (server instanceof tls.Server) {
      // A failed handshake must not reach 'error' on the server.
      server.on('tlsClientError', (error) => this.logger.debug(`TLS handshake failed: ${error.message}`));
    }
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

  on<K extends keyof LongLinkEvents = keyof LongLinkEvents, C extends LongLinkEvents[K] = LongLinkEvents[K]>(
    event: K,
    callback: C,
  ): this {
    this.emitter.on(event, callback as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof LongLinkEvents>(event: K, callback: LongLinkEvents[K]): this {
    this.emitter.off(event, callback as (...args: unknown[]) => void);
    return this;
  }

  unwrap<T>(): T {
    if (!this.server) throw new Error('LongLinkServer is not listening yet: call listen() first');
    return this.server as T;
  }

  // ---- what the other parts use ------------------------------------------------

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
    return this.clients.size;
  }

  getConnection(clientId: string): Connection | undefined {
    return this.clients.get(clientId);
  }

  /** Logged-in connections (the sweep walks these). */
  liveConnections(): IterableIterator<Connection> {
    return this.clients.values();
  }

  /** Send `KICK {reason}` then close; false when the client has no live connection. */
  kick(clientId: string, reason: string): boolean {
    const conn = this.clients.get(clientId);
    if (!conn) return false;
    this.kickConnection(conn, reason);
    return true;
  }

  kickConnection(conn: Connection, reason: string): void {
    if (conn.closed) return;
    conn.send('KICK', { reason });
    conn.close(reason);
  }

  /** Send an ERROR frame in the shape this connection expects. */
  sendError(conn: Connection, code: string, message: string, id?: string): void {
    if (conn.typeKey === 'type') conn.send('ERROR', id === undefined ? { code, message } : { code, message, id });
    else {
      // With the `code` alias the type sits in `code`, so the error code moves into `error`.
      const error = { code, message };
      conn.send('ERROR', id === undefined ? { error, message } : { error, message, id });
    }
    this.stats.framesOut++;
  }

  now(): number {
    return this.clock.now();
  }

  // ---- accept --------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.config.maxConnections) {
      this.rejectFull(socket);
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.config.tcp.keepAliveMs);
    const conn = new Connection(socket, this, this.connectionOptions);
    this.connections.add(conn);
    this.stats.accepted++;
    conn.startLoginTimer(this.config.loginTimeoutMs, () => {
      if (conn.loggedIn || conn.closed) return;
      this.sendError(conn, ErrorCode.LOGIN_TIMEOUT, `no LOGIN within LOGIN_TIMEOUT_MS (${this.config.loginTimeoutMs} ms)`);
      conn.close(CloseReason.LOGIN_TIMEOUT);
    });
    this.emitter.emit('connection', conn);
  }

  /**
   * One socket over MAX_CONNECTIONS: answer SERVER_FULL in the framing the
   * client speaks (its first byte tells), then close. Bounded, so a flood of
   * connects cannot hold file descriptors here.
   */
  private rejectFull(socket: net.Socket): void {
    this.stats.rejectedFull++;
    if (this.pendingRejects >= FULL_REJECT_MAX_PENDING) {
      socket.destroy();
      return;
    }
    this.pendingRejects++;
    let done = false;
    const message = `server holds MAX_CONNECTIONS (${this.config.maxConnections}) connections`;
    const finish = (framing: Framing) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.pendingRejects--;
      socket.removeAllListeners('data');
      socket.on('error', () => undefined);
      socket.end(encodeJson(framing, JSON.stringify({ type: 'ERROR', code: ErrorCode.SERVER_FULL, message })));
      setTimeout(() => socket.destroy(), 500).unref();
    };
    const timer = setTimeout(() => finish('length'), FULL_REJECT_WAIT_MS);
    socket.once('data', (chunk: Buffer) => finish(chunk[0] === 0x7b || chunk[0] <= 0x20 ? 'line' : 'length'));
    socket.on('error', () => finish('length'));
    socket.on('close', () => finish('length'));
  }

  // ---- ConnectionHandler: frames ---------------------------------------------------

  onMessage(conn: Connection, raw: Record<string, unknown>): void {
    this.stats.framesIn++;
    if (conn.authenticating) {
      this.holdWhileAuthenticating(conn, raw);
      return;
    }
    // Fast path: a HEART from a logged-in client (by far the most common frame).
    const t = raw.type;
    if (t === 'HEART' && conn.loggedIn) {
      if (conn.badFrames !== 0) conn.badFrames = 0;
      this.onHeart(conn, raw as HeartMessage);
      return;
    }
    const checked = validateMessage(raw);
    if (!checked.ok) {
      this.badFrame(conn, checked.code, checked.message, checked.id);
      return;
    }
    conn.badFrames = 0;
    if (checked.useCode) conn.typeKey = 'code';
    const message = checked.message;
    if (message.type === 'LOGIN') {
      this.onLogin(conn, message);
      return;
    }
    if (!conn.loggedIn) {
      if (message.type === 'BYE') {
        conn.close(CloseReason.LOGOUT);
        return;
      }
      if (this.config.auth.mode !== 'none') {
        this.sendError(conn, ErrorCode.NOT_LOGGED_IN, `${message.type} before LOGIN`);
        conn.close(CloseReason.NOT_LOGGED_IN);
        return;
      }
      // AUTH_MODE=none: the first message logs the client in implicitly.
      const id = (raw as { clientId?: unknown }).clientId;
      this.completeLogin(conn, {
        clientId: typeof id === 'string' && id.length > 0 ? id : undefined,
        meta: undefined,
        implicit: true,
      });
      if (conn.closed) return;
    }
    switch (message.type) {
      case 'HEART':
        this.onHeart(conn, message);
        return;
      case 'ACK':
        this.emitter.emit('ack', conn, message);
        return;
      case 'MSG':
        this.onMsg(conn, message);
        return;
      case 'BYE':
        conn.close(CloseReason.LOGOUT);
        return;
    }
  }

  onEmptyFrame(conn: Connection): void {
    this.stats.framesIn++;
    if (conn.authenticating) {
      this.holdWhileAuthenticating(conn, { type: 'HEART' });
      return;
    }
    if (!conn.loggedIn) {
      if (this.config.auth.mode !== 'none') {
        this.sendError(conn, ErrorCode.NOT_LOGGED_IN, 'heartbeat before LOGIN');
        conn.close(CloseReason.NOT_LOGGED_IN);
        return;
      }
      this.completeLogin(conn, { clientId: undefined, meta: undefined, implicit: true });
      if (conn.closed) return;
    }
    this.stats.heartbeats++;
    conn.lastHeartbeatAt = conn.lastSeenAt;
    this.stats.framesOut++;
    conn.writeEmptyFrame();
  }

  onBadFrame(conn: Connection, code: BadFrameCode, detail: string): void {
    this.stats.framesIn++;
    this.badFrame(conn, code, detail);
  }

  onFrameTooLarge(conn: Connection, error: Error): void {
    this.stats.badFrames++;
    const message = error instanceof FrameTooLargeException ? error.message : String(error);
    this.logger.warn(`closing ${this.describe(conn)}: ${message}`);
    this.sendError(conn, ErrorCode.FRAME_TOO_LARGE, message);
    conn.close(CloseReason.FRAME_TOO_LARGE);
  }

  onClosed(conn: Connection, reason: string): void {
    this.connections.delete(conn);
    let wasCurrent = false;
    if (conn.clientId !== undefined && this.clients.get(conn.clientId) === conn) {
      this.clients.delete(conn.clientId);
      wasCurrent = true;
    }
    this.logger.debug?.(`closed ${this.describe(conn)}: ${reason}`);
    this.emitter.emit('close', conn, { reason, wasCurrent });
  }

  // ---- message handlers ----------------------------------------------------------

  private badFrame(conn: Connection, code: string, detail: string, id?: string): void {
    this.stats.badFrames++;
    conn.badFrames++;
    this.sendError(conn, code, detail, id);
    if (conn.badFrames > this.config.maxBadFrames) {
      this.logger.warn(`closing ${this.describe(conn)}: ${conn.badFrames} bad frames in a row (MAX_BAD_FRAMES ${this.config.maxBadFrames})`);
      conn.close(CloseReason.TOO_MANY_BAD_FRAMES);
    }
  }

  private onHeart(conn: Connection, heart: HeartMessage): void {
    this.stats.heartbeats++;
    conn.lastHeartbeatAt = conn.lastSeenAt;
    // `ok` marks the client's answer to our probe: a reply is never answered.
    if (heart.ok !== undefined) return;
    if (hasOwnFields(heart)) conn.reported = heart;
    this.stats.framesOut++;
    conn.write(this.heartReply(conn));
  }

  /** `{"type":"HEART","ok":true,"serverTime":…}`, encoded once per millisecond per framing and type key. */
  private heartReply(conn: Connection): Buffer {
    const now = this.clock.now();
    if (now !== this.heartReplyAt) {
      this.heartReplies.clear();
      this.heartReplyAt = now;
    }
    const key = conn.framing + conn.typeKey;
    let frame = this.heartReplies.get(key);
    if (frame === undefined) {
      frame = encodeJson(conn.framing, `{"${conn.typeKey}":"HEART","ok":true,"serverTime":${now}}`);
      this.heartReplies.set(key, frame);
    }
    return frame;
  }

  private onLogin(conn: Connection, login: LoginMessage): void {
    this.stats.logins++;
    if (conn.loggedIn) {
      if (login.clientId === undefined || login.clientId === conn.clientId) {
        // A repeated LOGIN on the same connection: answer it again, nothing changes.
        this.sendLoginReply(conn);
      } else {
        this.badFrame(conn, ErrorCode.BAD_MESSAGE, `already logged in as '${conn.clientId}' on this connection`);
      }
      return;
    }
    let result: AuthResult | Promise<AuthResult>;
    try {
      result = this.authenticator.authenticate({
        clientId: login.clientId,
        token: login.token,
        meta: login.meta,
        remoteAddress: conn.remoteAddress,
        remotePort: conn.remotePort,
      });
    } catch (error) {
      result = { ok: false, message: `authenticator failed: ${(error as Error).message}` };
    }
    if (result instanceof Promise) {
      conn.authenticating = true;
      result
        .catch((error: Error): AuthResult => ({ ok: false, message: `authenticator failed: ${error.message}` }))
        .then((outcome) => {
          conn.authenticating = false;
          const held = conn.pending;
          conn.pending = undefined;
          if (conn.closed) return;
          conn.socket.cork();
          try {
            this.finishLogin(conn, login, outcome);
            for (const raw of held ?? []) {
              if (conn.closed) break;
              this.onMessage(conn, raw);
            }
          } finally {
            conn.socket.uncork();
          }
        });
      return;
    }
    this.finishLogin(conn, login, result);
  }

  private holdWhileAuthenticating(conn: Connection, raw: Record<string, unknown>): void {
    conn.pending ??= [];
    if (conn.pending.length >= 100) {
      this.sendError(conn, ErrorCode.RATE_LIMITED, 'more than 100 frames while LOGIN is being checked');
      conn.close(CloseReason.TOO_MANY_BAD_FRAMES);
      return;
    }
    conn.pending.push(raw);
  }

  private finishLogin(conn: Connection, login: LoginMessage, result: AuthResult): void {
    if (!result.ok) {
      this.stats.loginFailures++;
      this.logger.warn(`LOGIN refused for ${login.clientId ?? this.describe(conn)}: ${result.message}`);
      conn.send('LOGIN', { ok: false, error: { code: ErrorCode.AUTH_FAILED, message: result.message } });
      conn.close(CloseReason.AUTH_FAILED);
      return;
    }
    this.completeLogin(conn, { clientId: result.clientId, meta: login.meta, implicit: false });
  }

  private completeLogin(
    conn: Connection,
    login: { clientId: string | undefined; meta: Record<string, unknown> | undefined; implicit: boolean },
  ): void {
    const clientId = login.clientId ?? `${conn.remoteAddress}:${conn.remotePort}`;
    conn.clearLoginTimer();
    conn.clientId = clientId;
    conn.sessionId = randomUUID();
    conn.loggedIn = true;
    const previous = this.clients.get(clientId);
    // Register the new connection first, so that the old one's close is seen as replaced.
    this.clients.set(clientId, conn);
    if (previous !== undefined && previous !== conn) {
      this.logger.log(`session of '${clientId}' taken over by ${this.describe(conn)}`);
      this.kickConnection(previous, CloseReason.REPLACED);
    }
    if (!login.implicit) this.sendLoginReply(conn);
    this.emitter.emit('login', conn, { meta: login.meta, implicit: login.implicit, replaced: previous });
  }

  private sendLoginReply(conn: Connection): void {
    this.stats.framesOut++;
    conn.send('LOGIN', {
      ok: true,
      clientId: conn.clientId,
      sessionId: conn.sessionId,
      heartbeatMs: this.config.heartbeat.heartbeatMs,
      serverTime: this.clock.now(),
    });
  }

  private onMsg(conn: Connection, msg: MsgMessage): void {
    this.stats.messages++;
    const handler = this.getHandlerByPattern(msg.pattern);
    if (!handler) {
      this.sendError(conn, ErrorCode.NO_HANDLER, `no handler for pattern '${msg.pattern.slice(0, 128)}'`, msg.id);
      return;
    }
    const context = new LongLinkContext([conn, msg.pattern]);
    if (msg.id === undefined || handler.isEventHandler) {
      const id = msg.id;
      this.handleEvent(msg.pattern, { pattern: msg.pattern, data: msg.data }, context)
        .then(() => {
          // An event handler reached with an id is acknowledged once it has run.
          if (id !== undefined) conn.send('MSG', { id, ok: true });
        })
        .catch((error: unknown) => {
          this.logger.error(`event handler for '${msg.pattern}' failed: ${errorText(error)}`);
          if (id !== undefined) this.replyError(conn, id, error);
        });
      return;
    }
    const id = msg.id;
    Promise.resolve()
      .then(async () => {
        const result = this.transformToObservable(await handler(msg.data, context));
        return lastValueFrom(result, { defaultValue: undefined });
      })
      .then(
        (data) => {
          this.stats.framesOut++;
          conn.send('MSG', data === undefined ? { id, ok: true } : { id, ok: true, data });
        },
        (error: unknown) => this.replyError(conn, id, error),
      );
  }

  private replyError(conn: Connection, id: string, error: unknown): void {
    this.stats.framesOut++;
    conn.send('MSG', { id, ok: false, error: { code: ErrorCode.HANDLER_ERROR, message: errorText(error) } });
  }

  // ---- shutdown ------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const server = this.server;
    if (!server) return;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    const open = [...this.connections];
    if (open.length > 0) this.logger.log(`shutting down: sending KICK shutdown to ${open.length} connections`);
    const allClosed = Promise.all(
      open.map((conn) => (conn.socket.destroyed ? Promise.resolve() : new Promise<void>((r) => conn.socket.once('close', () => r())))),
    );
    for (const conn of open) this.kickConnection(conn, CloseReason.SHUTDOWN);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.shutdownGraceMs);
    });
    const outcome = await Promise.race([allClosed, grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const left = [...this.connections];
      this.logger.warn(`shutdown grace (${this.config.shutdownGraceMs} ms) over: destroying ${left.length} sockets`);
      for (const conn of left) conn.destroy(CloseReason.SHUTDOWN);
    }
    await stopped;
  }

  private describe(conn: Connection): string {
    return conn.clientId !== undefined
      ? `'${conn.clientId}' (${conn.remoteAddress}:${conn.remotePort})`
      : `${conn.remoteAddress}:${conn.remotePort}`;
  }
}

function hasOwnFields(message: Record<string, unknown>): boolean {
  for (const key in message) {
    if (key !== 'type' && key !== 'code') return true;
  }
  return false;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const e = error as { message?: unknown; error?: unknown };
    if (typeof e.message === 'string') return e.message;
    if (typeof e.error === 'string') return e.error;
    try {
      return JSON.stringify(error);
    } catch {
      return String(error);
    }
  }
  return String(error);
}
