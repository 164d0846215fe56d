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
  CLIENT_ID_PATTERN,
  ErrorCode,
  HeartMessage,
  LoginMessage,
  MsgMessage,
  validateMessage,
} from '../protocol';
import { LimitHits } from '../admission/limit-hits';
import { checkJsonBounds, describeJsonProblem, withinDepth } from '../common/json-bounds';
import { AuthResult, CLIENT_AUTHENTICATOR, ClientAuthenticator } from './client-authenticator';
import { BadFrameCode, detectFraming, encodeJson, FrameTooLargeException, Framing } from './codec';
import { Connection, ConnectionHandler, ConnectionOptions, PendingFrame } from './connection';
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
  /** A bug on our side while handling the connection's frames (logged with its stack). */
  INTERNAL_ERROR: 'internal_error',
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

/** Sockets refused because the server is full wait at most this long for a first byte (it tells their framing). */
const FULL_REJECT_WAIT_MS = 1000;
/** At most this many refused sockets wait for it; beyond, SERVER_FULL goes at once in the default framing. */
const FULL_REJECT_MAX_PENDING = 64;
/** A refused socket is destroyed this long after its SERVER_FULL was written (a peer that never reads). */
const FULL_REJECT_FLUSH_MS = 500;
/** Frames a client may send behind a LOGIN whose asynchronous check is still running. */
const MAX_HELD_FRAMES = 100;
const EMPTY_PENDING: PendingFrame = { kind: 'empty' };

/** What is checked at login: a LOGIN's fields, or none of them for an implicit login. */
type LoginRequest = Pick<LoginMessage, 'clientId' | 'token' | 'meta'>;

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
  /**
   * Sockets that are not (or not yet) a Connection: TLS handshakes under way,
   * refused ones still flushing SERVER_FULL. Plain accepted sockets are not
   * tracked here: they are Connections from the first tick.
   */
  private readonly sockets = new Set<net.Socket>();
  /** clientId → its live connection. */
  private readonly clients = new Map<string, Connection>();
  private readonly connectionOptions: ConnectionOptions;
  private pendingRejects = 0;
  private shuttingDown = false;
  private closing: Promise<void> | undefined;
  private heartReplyAt = -1;
  /** The HEART answer of the current millisecond, by framing × type key (4 slots). */
  private readonly heartReplies: Array<Buffer | undefined> = [undefined, undefined, undefined, undefined];

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CLIENT_AUTHENTICATOR) private readonly authenticator: ClientAuthenticator,
    private readonly limitHits: LimitHits,
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
          ? tls.createServer(
              // A handshake counts against the login deadline (Node's default would allow 120 s).
              { cert: readFileSync(tlsCertFile), key: readFileSync(tlsKeyFile), handshakeTimeout: this.config.loginTimeoutMs },
              onSocket,
            )
          : net.createServer(onSocket);
    } catch (error) {
      callback(error);
      return;
    }
    this.server = server;
    if (server instanceof tls.Server) {
      // A socket mid-handshake is no Connection yet: tracked so shutdown can end it.
      server.on('connection', (socket: net.Socket) => this.trackLoose(socket));
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
    this.emit('connection', conn);
  }

  /**
   * One socket over MAX_CONNECTIONS: answer SERVER_FULL in the framing the
   * client speaks (its first byte tells), then close. Bounded, so a flood of
   * connects cannot hold file descriptors here.
   */
  private trackLoose(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private rejectFull(socket: net.Socket): void {
    this.stats.rejectedFull++;
    if (!(this.server instanceof tls.Server)) this.trackLoose(socket); // TLS ones are tracked since 'connection'
    socket.on('error', () => undefined);
    const message = `server holds MAX_CONNECTIONS (${this.config.maxConnections}) connections`;
    const answer = (framing: Framing) => {
      if (socket.destroyed) return;
      socket.end(encodeJson(framing, JSON.stringify({ type: 'ERROR', code: ErrorCode.SERVER_FULL, message })));
      // Whatever else the client sends is read and dropped: unread bytes at close would mean an RST,
      // which can reach the client before our answer does.
      socket.resume();
      setTimeout(() => socket.destroy(), FULL_REJECT_FLUSH_MS).unref();
    };
    if (this.pendingRejects >= FULL_REJECT_MAX_PENDING) {
      // Too many refused sockets waiting already: answer at once, in the default framing.
      answer('length');
      return;
    }
    this.pendingRejects++;
    let done = false;
    const finish = (framing: Framing) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.pendingRejects--;
      socket.removeListener('data', onFirstData);
      answer(framing);
    };
    const onFirstData = (chunk: Buffer) => finish(detectFraming(chunk[0]));
    const timer = setTimeout(() => finish('length'), FULL_REJECT_WAIT_MS);
    timer.unref();
    // Same rule as the decoder: a length header starts with 0x00, which is not whitespace.
    socket.once('data', onFirstData);
    socket.on('close', () => finish('length'));
  }

  // ---- ConnectionHandler: frames ---------------------------------------------------

  onMessage(conn: Connection, raw: Record<string, unknown>): void {
    this.stats.framesIn++;
    this.handleMessage(conn, raw);
  }

  onEmptyFrame(conn: Connection): void {
    this.stats.framesIn++;
    this.handleEmptyFrame(conn);
  }

  onBadFrame(conn: Connection, code: BadFrameCode, detail: string): void {
    this.stats.framesIn++;
    if (conn.authenticating) {
      // Its ERROR must not overtake the answers to the frames before it.
      this.holdWhileAuthenticating(conn, { kind: 'bad', code, detail });
      return;
    }
    this.badFrame(conn, code, detail);
  }

  onFrameTooLarge(conn: Connection, error: FrameTooLargeException): void {
    this.stats.badFrames++;
    this.logger.warn(`closing ${this.describe(conn)}: ${error.message}`);
    this.sendError(conn, ErrorCode.FRAME_TOO_LARGE, error.message);
    conn.close(CloseReason.FRAME_TOO_LARGE);
  }

  onInternalError(conn: Connection, error: unknown): void {
    // The rest of the read was lost with the exception: the stream can't be trusted any more.
    this.logger.error(
      `closing ${this.describe(conn)}: internal error while handling its frames: ${errorText(error)}`,
      error instanceof Error ? error.stack : undefined,
    );
    conn.close(CloseReason.INTERNAL_ERROR);
  }

  onOutboundOverflow(conn: Connection, queuedBytes: number): void {
    this.logger.warn(
      `closing ${this.describe(conn)}: ${queuedBytes} unsent bytes queued exceed MAX_OUTBOUND_BYTES (${this.config.maxOutboundBytes}); the client does not read`,
    );
  }

  onClosed(conn: Connection, reason: string): void {
    this.connections.delete(conn);
    let wasCurrent = false;
    if (conn.clientId !== undefined && this.clients.get(conn.clientId) === conn) {
      this.clients.delete(conn.clientId);
      wasCurrent = true;
    }
    this.logger.debug?.(`closed ${this.describe(conn)}: ${reason}`);
    this.emit('close', conn, { reason, wasCurrent });
  }

  // ---- message handlers ----------------------------------------------------------

  private handleMessage(conn: Connection, raw: Record<string, unknown>): void {
    if (conn.authenticating) {
      this.holdWhileAuthenticating(conn, { kind: 'message', message: raw });
      return;
    }
    // Fast path: a HEART from a logged-in client (by far the most common frame).
    const t = raw.type;
    if (t === 'HEART' && conn.loggedIn) {
      this.onHeart(conn, raw as HeartMessage);
      return;
    }
    // Whatever we keep or hand on (meta, ACK results, MSG data) is walked recursively
    // further on (structuredClone, JSON.stringify, handlers): the depth is checked first, iteratively.
    if (!withinDepth(raw, this.config.limits.maxJsonDepth)) {
      this.limitHits.hit('json_depth');
      this.badFrame(conn, ErrorCode.BAD_MESSAGE, `frame nests deeper than MAX_JSON_DEPTH (${this.config.limits.maxJsonDepth})`);
      return;
    }
    if (raw.ok !== undefined && isUnansweredReply(t === undefined ? raw.code : t)) {
      // §2: a frame with `ok` is a reply and is never answered, not even with
      // UNKNOWN_TYPE (e.g. a client answering our KICK or ERROR). It was a sign of life.
      conn.badFrames = 0;
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
      // AUTH_MODE=none: the first message logs the client in implicitly,
      // under the HEART's clientId when it carries one.
      const id = raw.clientId;
      if (id !== undefined && (typeof id !== 'string' || !CLIENT_ID_PATTERN.test(id))) {
        this.badFrame(conn, ErrorCode.BAD_MESSAGE, 'clientId must be 1-128 characters of [A-Za-z0-9._:@-]');
        return;
      }
      this.authenticate(conn, { clientId: id }, true);
      if (conn.authenticating) {
        // Handled again, in order, once the authenticator has answered.
        this.holdWhileAuthenticating(conn, { kind: 'message', message: raw });
        return;
      }
      if (!conn.loggedIn || conn.closed) return;
    }
    switch (message.type) {
      case 'HEART':
        this.onHeart(conn, message);
        return;
      case 'ACK':
        this.emit('ack', conn, message);
        return;
      case 'MSG':
        this.onMsg(conn, message);
        return;
      case 'BYE':
        conn.close(CloseReason.LOGOUT);
        return;
    }
  }

  private handleEmptyFrame(conn: Connection): void {
    if (conn.authenticating) {
      this.holdWhileAuthenticating(conn, EMPTY_PENDING);
      return;
    }
    if (!conn.loggedIn) {
      if (this.config.auth.mode !== 'none') {
        this.sendError(conn, ErrorCode.NOT_LOGGED_IN, 'heartbeat before LOGIN');
        conn.close(CloseReason.NOT_LOGGED_IN);
        return;
      }
      this.authenticate(conn, {}, true);
      if (conn.authenticating) {
        this.holdWhileAuthenticating(conn, EMPTY_PENDING);
        return;
      }
      if (!conn.loggedIn || conn.closed) return;
    }
    // A good frame: the bad ones are no longer "in a row".
    if (conn.badFrames !== 0) conn.badFrames = 0;
    this.stats.heartbeats++;
    conn.lastHeartbeatAt = conn.lastSeenAt;
    this.stats.framesOut++;
    conn.writeEmptyFrame();
  }

  private badFrame(conn: Connection, code: string, detail: string, id?: string): void {
    this.stats.badFrames++;
    conn.badFrames++;
    this.sendError(conn, code, detail, id);
    // MAX_BAD_FRAMES are tolerated; the one after them closes.
    if (conn.badFrames > this.config.maxBadFrames) {
      this.logger.warn(`closing ${this.describe(conn)}: ${conn.badFrames} bad frames in a row (MAX_BAD_FRAMES ${this.config.maxBadFrames})`);
      conn.close(CloseReason.TOO_MANY_BAD_FRAMES);
    }
  }

  private onHeart(conn: Connection, heart: HeartMessage): void {
    // (`ok` marks the client's answer to our probe: a reply is never answered, nor kept.)
    if (heart.ok === undefined && hasOwnFields(heart)) {
      // Kept as the record's `reported` for as long as the record lives: bounded like LOGIN meta.
      const { maxJsonDepth, maxReportedBytes } = this.config.limits;
      const problem = checkJsonBounds(heart, maxJsonDepth, maxReportedBytes);
      if (problem) {
        this.limitHits.hit(problem.kind === 'depth' ? 'json_depth' : 'reported_bytes');
        // Refused as a whole (not counted as a heartbeat); the previous `reported` stays.
        this.badFrame(conn, ErrorCode.BAD_MESSAGE, describeJsonProblem('HEART fields', problem, 'MAX_JSON_DEPTH', 'MAX_REPORTED_BYTES'));
        return;
      }
      conn.reported = heart;
    }
    if (conn.badFrames !== 0) conn.badFrames = 0;
    this.stats.heartbeats++;
    conn.lastHeartbeatAt = conn.lastSeenAt;
    // `ok` marks the client's answer to our probe: a reply is never answered.
    if (heart.ok !== undefined) return;
    this.stats.framesOut++;
    conn.write(this.heartReply(conn));
  }

  /** `{"type":"HEART","ok":true,"serverTime":…}`, encoded once per millisecond per framing and type key. */
  private heartReply(conn: Connection): Buffer {
    // serverTime is the time of the read that carried the HEART: no clock call per heartbeat.
    const now = conn.lastSeenAt;
    if (now !== this.heartReplyAt) {
      this.heartReplies.fill(undefined);
      this.heartReplyAt = now;
    }
    const slot = (conn.framing === 'line' ? 2 : 0) + (conn.typeKey === 'code' ? 1 : 0);
    let frame = this.heartReplies[slot];
    if (frame === undefined) {
      frame = encodeJson(conn.framing, `{"${conn.typeKey}":"HEART","ok":true,"serverTime":${now}}`);
      this.heartReplies[slot] = frame;
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
    this.authenticate(conn, login, false);
  }

  /**
   * Asks the ClientAuthenticator, for a LOGIN or (implicit) for the first
   * frame of a client that skipped it. A synchronous answer completes the
   * login before this returns; a Promise sets `conn.authenticating`, and the
   * frames that arrive meanwhile are held and handled, in order, after it.
   */
  private authenticate(conn: Connection, login: LoginRequest, implicit: boolean): void {
    let result: AuthResult | PromiseLike<AuthResult>;
    try {
      result = this.authenticator.authenticate({
        clientId: login.clientId,
        token: login.token,
        meta: login.meta,
        remoteAddress: conn.remoteAddress,
        remotePort: conn.remotePort,
      });
    } catch (error) {
      result = { ok: false, message: `authenticator failed: ${errorText(error)}` };
    }
    if (!isPromiseLike(result)) {
      this.finishLogin(conn, login, implicit, result);
      return;
    }
    conn.authenticating = true;
    Promise.resolve(result)
      .catch((error: unknown): AuthResult => ({ ok: false, message: `authenticator failed: ${errorText(error)}` }))
      .then((outcome) => this.afterAsyncAuth(conn, login, implicit, outcome))
      .catch((error: unknown) => this.onInternalError(conn, error));
  }

  private afterAsyncAuth(conn: Connection, login: LoginRequest, implicit: boolean, outcome: AuthResult): void {
    conn.authenticating = false;
    const held = conn.pending;
    conn.pending = undefined;
    if (conn.closed) return;
    // The LOGIN answer and the answers to the held frames leave in one write.
    conn.cork();
    try {
      this.finishLogin(conn, login, implicit, outcome);
      for (const frame of held ?? []) {
        if (conn.closed) break;
        if (frame.kind === 'message') this.handleMessage(conn, frame.message);
        else if (frame.kind === 'empty') this.handleEmptyFrame(conn);
        else if (conn.authenticating) this.holdWhileAuthenticating(conn, frame);
        else this.badFrame(conn, frame.code, frame.detail);
      }
    } finally {
      conn.uncork();
    }
  }

  private holdWhileAuthenticating(conn: Connection, frame: PendingFrame): void {
    conn.pending ??= [];
    if (conn.pending.length >= MAX_HELD_FRAMES) {
      this.sendError(conn, ErrorCode.RATE_LIMITED, `more than ${MAX_HELD_FRAMES} frames while LOGIN is being checked`);
      conn.close(CloseReason.TOO_MANY_BAD_FRAMES);
      return;
    }
    conn.pending.push(frame);
  }

  private finishLogin(conn: Connection, login: LoginRequest, implicit: boolean, result: AuthResult): void {
    if (!result.ok) {
      this.stats.loginFailures++;
      this.logger.warn(`${implicit ? 'implicit login' : 'LOGIN'} refused for ${login.clientId ?? this.describe(conn)}: ${result.message}`);
      // A client that sent no LOGIN expects no LOGIN answer: it gets an ERROR.
      if (implicit) this.sendError(conn, ErrorCode.AUTH_FAILED, result.message);
      else conn.send('LOGIN', { ok: false, error: { code: ErrorCode.AUTH_FAILED, message: result.message } });
      conn.close(CloseReason.AUTH_FAILED);
      return;
    }
    this.completeLogin(conn, { clientId: result.clientId, meta: login.meta, implicit });
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
    this.emit('login', conn, { meta: login.meta, implicit: login.implicit, replaced: previous });
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
    const id = msg.id;
    if (id === undefined || handler.isEventHandler) {
      this.handleEvent(msg.pattern, { pattern: msg.pattern, data: msg.data }, context)
        .then(() => {
          // An event handler reached with an id is acknowledged once it has run.
          if (id !== undefined) this.replyData(conn, id, undefined);
        })
        .catch((error: unknown) => {
          this.logger.error(`event handler for '${msg.pattern}' failed: ${errorText(error)}`);
          if (id !== undefined) this.replyError(conn, id, error);
        });
      return;
    }
    Promise.resolve()
      .then(async () => {
        const result = this.transformToObservable(await handler(msg.data, context));
        return lastValueFrom(result, { defaultValue: undefined });
      })
      .then(
        (data) => this.replyData(conn, id, data),
        (error: unknown) => this.replyError(conn, id, error),
      )
      .catch((error: unknown) => this.logger.error(`reply to MSG '${msg.pattern}' failed: ${errorText(error)}`));
  }

  private replyData(conn: Connection, id: string, data: unknown): void {
    this.stats.framesOut++;
    try {
      conn.send('MSG', data === undefined ? { id, ok: true } : { id, ok: true, data });
    } catch (error) {
      // e.g. a BigInt or a cycle in what the handler returned: the client still gets an answer.
      this.replyError(conn, id, new Error(`handler result is not serialisable as JSON: ${errorText(error)}`));
    }
  }

  private replyError(conn: Connection, id: string, error: unknown): void {
    this.stats.framesOut++;
    conn.send('MSG', { id, ok: false, error: { code: ErrorCode.HANDLER_ERROR, message: errorText(error) } });
  }

  /**
   * Events are synchronous and run inside socket callbacks: a listener that
   * throws is logged and must neither crash the process nor keep the other
   * listeners from seeing the event.
   */
  private emit<K extends keyof LongLinkEvents>(event: K, ...args: Parameters<LongLinkEvents[K]>): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        this.logger.error(`'${event}' listener failed: ${errorText(error)}`, error instanceof Error ? error.stack : undefined);
      }
    }
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
    // Sockets that never became connections (a TLS handshake under way, a
    // SERVER_FULL answer being flushed) would hold server.close() open.
    for (const socket of this.sockets) socket.destroy();
    await stopped;
  }

  private describe(conn: Connection): string {
    return conn.clientId !== undefined
      ? `'${conn.clientId}' (${conn.remoteAddress}:${conn.remotePort})`
      : `${conn.remoteAddress}:${conn.remotePort}`;
  }
}

/** HEART replies are heartbeats and ACK's `ok` is its payload; any other frame with `ok` is left alone. */
function isUnansweredReply(type: unknown): boolean {
  return type !== 'HEART' && type !== 'ACK';
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
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
