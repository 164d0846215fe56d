import { randomUUID } from 'node:crypto';
import type { LoginMessage } from '../protocol';
import { ErrorCode } from '../protocol';
import type { AuthResult, ClientAuthenticator } from './client-authenticator';
import { CloseReason } from './close-reason';
import type { Connection, PendingFrame } from './connection';
import { describe, errorText } from './replies';
import type { TransportContext } from './transport-context';

/** Frames a client may send behind a LOGIN whose asynchronous check is still running. */
export const MAX_HELD_FRAMES = 100;

/** What is checked at login: a LOGIN's fields, or none of them for an implicit login. */
export type LoginRequest = Pick<LoginMessage, 'clientId' | 'token' | 'meta'>;

/**
 * The way into a session: asks the ClientAuthenticator (for a LOGIN, or
 * for the first frame of a client that skipped it), holds the frames that
 * arrive while an asynchronous answer is pending and replays them in order,
 * then registers the session (taking it over from an older connection).
 */
export class LoginGate {
  constructor(
    private readonly ctx: TransportContext,
    private readonly authenticator: ClientAuthenticator,
    /** Handles a held frame again once the check has answered. */
    private readonly replay: (conn: Connection, frame: PendingFrame) => void,
  ) {}

  /**
   * A synchronous answer completes the login before this returns; a Promise
   * puts the connection in `authenticating`, and frames meanwhile are held.
   */
  authenticate(conn: Connection, login: LoginRequest, implicit: boolean): void {
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
      this.finish(conn, login, implicit, result);
      return;
    }
    conn.beginAuthentication();
    Promise.resolve(result)
      .catch((error: unknown): AuthResult => ({ ok: false, message: `authenticator failed: ${errorText(error)}` }))
      .then((outcome) => this.afterAsync(conn, login, implicit, outcome))
      .catch((error: unknown) => {
        this.ctx.logger.error(`closing ${describe(conn)}: internal error after its LOGIN check: ${errorText(error)}`);
        conn.close(CloseReason.INTERNAL_ERROR);
      });
  }

  /** Keeps a frame until the check answers; too many close the connection. */
  hold(conn: Connection, frame: PendingFrame): void {
    if (conn.hold(frame, MAX_HELD_FRAMES)) return;
    this.ctx.replies.sendError(conn, ErrorCode.RATE_LIMITED, `more than ${MAX_HELD_FRAMES} frames while LOGIN is being checked`);
    conn.close(CloseReason.TOO_MANY_BAD_FRAMES);
  }

  sendLoginReply(conn: Connection): void {
    conn.send('LOGIN', {
      ok: true,
      clientId: conn.clientId,
      sessionId: conn.sessionId,
      heartbeatMs: this.ctx.config.heartbeat.heartbeatMs,
      serverTime: this.ctx.clock.now(),
    });
  }

  private afterAsync(conn: Connection, login: LoginRequest, implicit: boolean, outcome: AuthResult): void {
    const held = conn.takeHeld();
    if (conn.closed) return;
    conn.endAuthentication();
    // The LOGIN answer and the answers to the held frames leave in one write.
    conn.cork();
    try {
      this.finish(conn, login, implicit, outcome);
      for (const frame of held) {
        if (conn.closed) break;
        this.replay(conn, frame);
      }
    } finally {
      conn.uncork();
    }
  }

  private finish(conn: Connection, login: LoginRequest, implicit: boolean, result: AuthResult): void {
    const { stats, admission } = this.ctx;
    if (!result.ok) {
      stats.loginFailures++;
      // Throttled: a peer trying tokens must not write a line per attempt.
      admission.log.note('login refused', () => `${implicit ? 'implicit login' : 'LOGIN'} refused for ${login.clientId ?? describe(conn)}: ${result.message}`);
      this.refuse(conn, implicit, ErrorCode.AUTH_FAILED, result.message, CloseReason.AUTH_FAILED);
      return;
    }
    const clientId = result.clientId ?? `${conn.remoteAddress}:${conn.remotePort}`;
    // After authentication: flapping (per clientId and per host), then MAX_CLIENT_RECORDS.
    const flapping = admission.admitLogin(clientId, conn.remoteAddress);
    if (flapping !== undefined) {
      stats.loginFailures++;
      this.refuse(conn, implicit, ErrorCode.RATE_LIMITED, flapping, CloseReason.RATE_LIMITED);
      return;
    }
    const full = admission.admitRecord(clientId);
    if (full !== undefined) {
      stats.loginFailures++;
      this.refuse(conn, implicit, ErrorCode.SERVER_FULL, full, CloseReason.SERVER_FULL);
      return;
    }
    this.complete(conn, clientId, login.meta, implicit);
  }

  /** A refused login: LOGIN `{ok:false, error}`, or an ERROR for a client that sent no LOGIN; then close. */
  private refuse(conn: Connection, implicit: boolean, code: string, message: string, reason: string): void {
    if (implicit) this.ctx.replies.sendError(conn, code, message);
    else conn.send('LOGIN', { ok: false, error: { code, message } });
    conn.close(reason);
  }

  private complete(conn: Connection, clientId: string, meta: Record<string, unknown> | undefined, implicit: boolean): void {
    const { sessions, replies, logger, events } = this.ctx;
    conn.login(clientId, randomUUID());
    // Registered first, so that the old connection's close is seen as replaced.
    const previous = sessions.register(clientId, conn);
    if (previous !== undefined) {
      logger.log(`session of '${clientId}' taken over by ${describe(conn)}`);
      replies.kick(previous, CloseReason.REPLACED);
    }
    if (!implicit) this.sendLoginReply(conn);
    events.emit('login', {
      connectionId: conn.id,
      clientId,
      sessionId: conn.sessionId as string,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      meta,
      implicit,
      replacedSessionId: previous?.sessionId,
      at: conn.lastReadAt,
    });
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
