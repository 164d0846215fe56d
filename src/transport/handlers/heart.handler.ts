import type { HeartMessage } from '../../protocol';
import { encodeJson } from '../codec';
import type { Connection } from '../connection';
import type { TransportStats } from '../transport-stats';

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

  constructor(private readonly stats: TransportStats) {}

  handle(conn: Connection, heart: HeartMessage): void {
    this.stats.heartbeats++;
    conn.noteHeartbeat();
    // `ok` marks the client's answer to our probe: a reply is never answered.
    if (heart.ok !== undefined) return;
    if (hasOwnFields(heart)) conn.report(heart);
    conn.write(this.reply(conn));
  }

  /** A zero-length frame: the cheapest heartbeat, answered by one. */
  handleEmpty(conn: Connection): void {
    this.stats.heartbeats++;
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
