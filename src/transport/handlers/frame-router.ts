import { withinDepth } from '../../common/json-bounds';
import { CLIENT_ID_RULE, ErrorCode, HeartMessage, isClientId, validateMessage } from '../../protocol';
import type { BadFrameCode } from '../codec';
import { CloseReason } from '../close-reason';
import type { Connection, PendingFrame } from '../connection';
import type { LoginGate } from '../login-gate';
import { describe } from '../replies';
import type { TransportContext } from '../transport-context';
import { handleAck } from './ack.handler';
import { handleBye } from './bye.handler';
import { HeartHandler } from './heart.handler';
import { handleLogin } from './login.handler';
import { handleMsg } from './msg.handler';

const EMPTY_PENDING: PendingFrame = { kind: 'empty' };

/**
 * Every decoded frame of every connection, to its handler (aedes'
 * `handlers/*` behind one switch). The rules that hold for all types live
 * here: frames wait while a LOGIN is checked, a reply (`ok`) is never
 * answered, nothing but LOGIN (or, with AUTH_MODE=none, an implicit login)
 * before a session, bad frames counted in a row.
 */
export class FrameRouter {
  private readonly heart: HeartHandler;

  constructor(
    private readonly ctx: TransportContext,
    private readonly gate: () => LoginGate,
  ) {
    this.heart = new HeartHandler(ctx);
  }

  onMessage(conn: Connection, raw: Record<string, unknown>): void {
    this.ctx.stats.framesIn++;
    if (conn.rates !== undefined && this.rateLimited(conn, raw.type === 'MSG' ? raw.id : undefined)) return;
    this.message(conn, raw);
  }

  onEmptyFrame(conn: Connection): void {
    this.ctx.stats.framesIn++;
    if (conn.rates !== undefined && this.rateLimited(conn, undefined)) return;
    this.empty(conn);
  }

  onBadFrame(conn: Connection, code: BadFrameCode, detail: string): void {
    this.ctx.stats.framesIn++;
    if (conn.rates !== undefined && this.rateLimited(conn, undefined)) return;
    // Its ERROR must not overtake the answers to the frames before it.
    if (conn.authenticating) this.gate().hold(conn, { kind: 'bad', code, detail });
    else this.ctx.replies.badFrame(conn, code, detail);
  }

  /**
   * CONN_MSG_RATE / CONN_BYTE_RATE: a frame over the connection's budget
   * gets ERROR RATE_LIMITED (with the MSG's id, so a caller waiting on it
   * hears) and is not handled; RATE_LIMIT_STRIKES of them in a row close
   * the connection. Every frame counts, HEART too: a million heartbeats from
   * one client used to be handled one by one.
   */
  private rateLimited(conn: Connection, id: unknown): boolean {
    const { admission, replies, limitHits } = this.ctx;
    const rates = conn.rates as NonNullable<Connection['rates']>;
    const refusal = admission.takeFrame(rates, conn.lastReadAt, conn.overByteRate);
    if (refusal === undefined) return false;
    const message = admission.refusalMessage(refusal);
    replies.sendError(conn, ErrorCode.RATE_LIMITED, message, typeof id === 'string' ? id : undefined);
    if (admission.persists(rates)) {
      limitHits.hit('rate_limit_close');
      admission.log.note('rate limited', () => `closing ${describe(conn)}: ${rates.strikes} frames in a row refused, ${message}`);
      conn.close(CloseReason.RATE_LIMITED);
    }
    return true;
  }

  /** A frame held during a LOGIN check, handled now in its turn. */
  replay(conn: Connection, frame: PendingFrame): void {
    if (frame.kind === 'message') this.message(conn, frame.message);
    else if (frame.kind === 'empty') this.empty(conn);
    else if (conn.authenticating) this.gate().hold(conn, frame);
    else this.ctx.replies.badFrame(conn, frame.code, frame.detail);
  }

  private message(conn: Connection, raw: Record<string, unknown>): void {
    if (conn.authenticating) {
      this.gate().hold(conn, { kind: 'message', message: raw });
      return;
    }
    // Fast path: a HEART from a logged-in client (by far the most common frame).
    const t = raw.type;
    if (t === 'HEART' && conn.loggedIn) {
      this.heart.handle(conn, raw as HeartMessage);
      return;
    }
    // Whatever we keep or hand on (meta, ACK results, MSG data) is walked recursively
    // further on (structuredClone, JSON.stringify, handlers): the depth is checked first, iteratively.
    const { maxJsonDepth } = this.ctx.config.limits;
    if (!withinDepth(raw, maxJsonDepth)) {
      this.ctx.limitHits.hit('json_depth');
      this.ctx.replies.badFrame(conn, ErrorCode.BAD_MESSAGE, `frame nests deeper than MAX_JSON_DEPTH (${maxJsonDepth})`);
      return;
    }
    if (raw.ok !== undefined && isUnansweredReply(t === undefined ? raw.code : t)) {
      // §2: a frame with `ok` is a reply and is never answered, not even with
      // UNKNOWN_TYPE (e.g. a client answering our KICK or ERROR). It was a sign of life.
      conn.resetBadFrames();
      return;
    }
    if (t === undefined && raw.code === undefined) {
      this.typeless(conn, raw);
      return;
    }
    const checked = validateMessage(raw);
    if (!checked.ok) {
      this.ctx.replies.badFrame(conn, checked.code, checked.message, checked.id);
      return;
    }
    conn.resetBadFrames();
    if (checked.useCode) conn.useTypeKey('code');
    const message = checked.message;
    if (message.type === 'LOGIN') {
      handleLogin(this.ctx, this.gate(), conn, message);
      return;
    }
    if (!conn.loggedIn) {
      if (message.type === 'BYE') {
        handleBye(this.ctx, conn);
        return;
      }
      // Under the HEART's clientId when it carries one.
      const id = raw.clientId;
      if (this.ctx.config.auth.mode === 'none' && id !== undefined && !isClientId(id)) {
        this.ctx.replies.badFrame(conn, ErrorCode.BAD_MESSAGE, `clientId must be ${CLIENT_ID_RULE}`);
        return;
      }
      if (!this.implicitLogin(conn, { clientId: id as string | undefined }, `${message.type} before LOGIN`, { kind: 'message', message: raw })) return;
    }
    switch (message.type) {
      case 'HEART':
        this.heart.handle(conn, message);
        return;
      case 'ACK':
        handleAck(this.ctx, conn, message);
        return;
      case 'MSG':
        handleMsg(this.ctx, conn, message);
        return;
      case 'BYE':
        handleBye(this.ctx, conn);
        return;
    }
  }

  /**
   * An object with neither `type` nor `code` is a heartbeat of a one-way
   * client (docs/PROTOCOL.md §2.2): its fields are its reported state,
   * with AUTH_MODE=none the first one logs it in as ip:port, and it is never
   * answered (such a client never reads).
   */
  private typeless(conn: Connection, raw: Record<string, unknown>): void {
    if (!conn.loggedIn && !this.implicitLogin(conn, {}, 'heartbeat before LOGIN', { kind: 'message', message: raw })) return;
    conn.markOneWay();
    this.heart.handleTypeless(conn, raw);
  }

  private empty(conn: Connection): void {
    if (conn.authenticating) {
      this.gate().hold(conn, EMPTY_PENDING);
      return;
    }
    if (!conn.loggedIn && !this.implicitLogin(conn, {}, 'heartbeat before LOGIN', EMPTY_PENDING)) return;
    conn.resetBadFrames();
    this.heart.handleEmpty(conn);
  }

  /**
   * A frame before LOGIN: NOT_LOGGED_IN with auth on; with AUTH_MODE=none
   * the first frame logs the client in implicitly. True when the frame may
   * be handled now; otherwise it was refused, or held to be handled, in
   * order, once the authenticator has answered.
   */
  private implicitLogin(conn: Connection, login: { clientId?: string }, what: string, frame: PendingFrame): boolean {
    if (this.ctx.config.auth.mode !== 'none') {
      this.ctx.replies.sendError(conn, ErrorCode.NOT_LOGGED_IN, what);
      conn.close(CloseReason.NOT_LOGGED_IN);
      return false;
    }
    this.gate().authenticate(conn, login, true);
    if (conn.authenticating) {
      this.gate().hold(conn, frame);
      return false;
    }
    return conn.loggedIn && !conn.closed;
  }
}

/** HEART replies are heartbeats and ACK's `ok` is its payload; any other frame with `ok` is left alone. */
function isUnansweredReply(type: unknown): boolean {
  return type !== 'HEART' && type !== 'ACK';
}
