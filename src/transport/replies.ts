import type { Logger } from '@nestjs/common';
import type { LongLinkConfig } from '../config';
import { CloseReason } from './close-reason';
import type { Connection } from './connection';
import type { TransportStats } from './transport-stats';

/**
 * The answers every handler gives the same way: ERROR frames, bad frames in
 * a row, KICK. None of them is written to a one-way connection
 * (docs/PROTOCOL.md §2.2): it never reads, so an ERROR or a KICK would only
 * sit in its buffers. What they would have said is counted instead
 * (`framesWithheld`), and what follows them (a close) still happens.
 */
export class Replies {
  constructor(
    private readonly config: LongLinkConfig,
    private readonly stats: TransportStats,
    private readonly logger: Logger,
  ) {}

  /** An ERROR frame in the shape this connection expects. */
  sendError(conn: Connection, code: string, message: string, id?: string): void {
    if (conn.oneWay) {
      this.stats.framesWithheld++;
      return;
    }
    if (conn.typeKey === 'type') conn.send('ERROR', id === undefined ? { code, message } : { code, message, id });
    else {
      // With the `code` alias the type sits in `code`, so the error code moves into `error`.
      const error = { code, message };
      conn.send('ERROR', id === undefined ? { error, message } : { error, message, id });
    }
  }

  /** ERROR for a bad frame; MAX_BAD_FRAMES in a row are tolerated, the one after them closes. */
  badFrame(conn: Connection, code: string, detail: string, id?: string): void {
    this.stats.badFrames++;
    const inARow = conn.countBadFrame();
    this.sendError(conn, code, detail, id);
    if (inARow > this.config.maxBadFrames) {
      this.logger.warn(`closing ${describe(conn)}: ${inARow} bad frames in a row (MAX_BAD_FRAMES ${this.config.maxBadFrames})`);
      conn.close(CloseReason.TOO_MANY_BAD_FRAMES);
    }
  }

  /** `KICK {reason}` then close (a one-way connection is closed without the KICK). */
  kick(conn: Connection, reason: string): void {
    if (conn.closed) return;
    if (conn.oneWay) this.stats.framesWithheld++;
    else conn.send('KICK', { reason });
    conn.close(reason);
  }
}

/** `'dev-1' (10.0.0.7:53122)`, or the address alone before login: for log lines. */
export function describe(conn: Connection): string {
  return conn.clientId !== undefined
    ? `'${conn.clientId}' (${conn.remoteAddress}:${conn.remotePort})`
    : `${conn.remoteAddress}:${conn.remotePort}`;
}

export function errorText(error: unknown): string {
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
