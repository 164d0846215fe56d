import { checkJsonBounds, describeJsonProblem } from '../../common/json-bounds';
import { ErrorCode, HeartMessage } from '../../protocol';
import { encodeJson } from '../codec';
import type { Connection } from '../connection';
import type { TransportContext } from '../transport-context';

/**
 * HEART (docs/PROTOCOL.md §2/§3) and the zero-length frame: the hot path.
 * The reply is pre-encoded once per millisecond per framing and type key,
 * and its serverTime is the time of the read that carried the HEART, so no
 * clock call per heartbeat.
 */
export class HeartHandler {
  private replyAt = -1;
  /** The HEART answer of the current millisecond, by framing × type key (4 slots). */
  private readonly replies: Array<Buffer | undefined> = [undefined, undefined, undefined, undefined];

  constructor(private readonly ctx: TransportContext) {}

  handle(conn: Connection, heart: HeartMessage): void {
    // (`ok` marks the client's answer to our probe: a reply is never answered, nor kept.)
    if (heart.ok === undefined && hasOwnFields(heart)) {
      // Kept as the record's `reported` for as long as the record lives: bounded like LOGIN meta.
      const { maxJsonDepth, maxReportedBytes } = this.ctx.config.limits;
      const problem = checkJsonBounds(heart, maxJsonDepth, maxReportedBytes);
      if (problem) {
        this.ctx.limitHits.hit(problem.kind === 'depth' ? 'json_depth' : 'reported_bytes');
        // Refused as a whole (not counted as a heartbeat); the previous `reported` stays.
        this.ctx.replies.badFrame(conn, ErrorCode.BAD_MESSAGE, describeJsonProblem('HEART fields', problem, 'MAX_JSON_DEPTH', 'MAX_REPORTED_BYTES'));
        return;
      }
      conn.report(heart);
    }
    conn.resetBadFrames();
    this.ctx.stats.heartbeats++;
    conn.noteHeartbeat();
    if (heart.ok !== undefined) return;
    conn.write(this.reply(conn));
  }

  /** A typeless heartbeat (a one-way client's): its fields kept, bounded, and no reply. */
  handleTypeless(conn: Connection, fields: Record<string, unknown>): void {
    const { maxJsonDepth, maxReportedBytes } = this.ctx.config.limits;
    const problem = checkJsonBounds(fields, maxJsonDepth, maxReportedBytes);
    if (problem) {
      this.ctx.limitHits.hit(problem.kind === 'depth' ? 'json_depth' : 'reported_bytes');
      // Counted as a bad frame but not answered: the client does not read.
      this.ctx.stats.badFrames++;
      return;
    }
    conn.resetBadFrames();
    conn.report(fields);
    this.ctx.stats.heartbeats++;
    conn.noteHeartbeat();
  }

  /** A zero-length frame: the cheapest heartbeat, answered by one. */
  handleEmpty(conn: Connection): void {
    this.ctx.stats.heartbeats++;
    conn.noteHeartbeat();
    conn.writeEmptyFrame();
  }

  /** `{"type":"HEART","ok":true,"serverTime":…}`, encoded once per millisecond per framing and type key. */
  private reply(conn: Connection): Buffer {
    const now = conn.lastReadAt;
    if (now !== this.replyAt) {
      this.replies.fill(undefined);
      this.replyAt = now;
    }
    const slot = (conn.framing === 'line' ? 2 : 0) + (conn.typeKey === 'code' ? 1 : 0);
    let frame = this.replies[slot];
    if (frame === undefined) {
      frame = encodeJson(conn.framing, `{"${conn.typeKey}":"HEART","ok":true,"serverTime":${now}}`);
      this.replies[slot] = frame;
    }
    return frame;
  }
}

function hasOwnFields(message: Record<string, unknown>): boolean {
  for (const key in message) {
    if (key !== 'type' && key !== 'code') return true;
  }
  return false;
}
