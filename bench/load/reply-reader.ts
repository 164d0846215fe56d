import { Buffer } from 'node:buffer';

/** What the reader found in the server's byte stream. */
export interface ReplySink {
  /** A `{"type":"HEART","ok":true,…}` reply (recognised by its first bytes, not parsed). */
  onHeartOk(): void;
  /** Any other frame, JSON-parsed. */
  onMessage(message: Record<string, unknown>): void;
  /** A zero-length frame (the answer to an empty-frame heartbeat). */
  onEmptyFrame(): void;
  onBadFrame(detail: string): void;
}

/** The gateway and the baseline both start a HEART reply with exactly these bytes. */
const HEART_OK = Buffer.from('{"type":"HEART","ok":true');

/**
 * The load generator's decoder for length-prefixed frames (docs/PROTOCOL.md §1).
 * Not the gateway's FrameDecoder on purpose: on this 2-core machine the
 * clients share the CPU with the server, and in S3 they read ~10^5-10^6
 * replies per second, so a HEART reply is recognised by comparing its first
 * 25 bytes instead of being JSON-parsed. Every other frame is parsed.
 */
export class ReplyReader {
  private rest: Buffer | null = null;

  push(chunk: Buffer, sink: ReplySink): void {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const end = buf.length;
    let pos = 0;
    while (end - pos >= 4) {
      const n = buf.readUInt32BE(pos);
      const start = pos + 4;
      if (end - start < n) break;
      pos = start + n;
      if (n === 0) {
        sink.onEmptyFrame();
      } else if (n >= HEART_OK.length && buf.compare(HEART_OK, 0, HEART_OK.length, start, start + HEART_OK.length) === 0) {
        sink.onHeartOk();
      } else {
        let message: unknown;
        try {
          message = JSON.parse(buf.toString('utf8', start, pos));
        } catch (error) {
          sink.onBadFrame(`invalid JSON in a ${n}-byte frame: ${(error as Error).message}`);
          continue;
        }
        if (typeof message === 'object' && message !== null && !Array.isArray(message)) sink.onMessage(message as Record<string, unknown>);
        else sink.onBadFrame(`a ${n}-byte frame is JSON but not an object`);
      }
    }
    // A partial frame: copied so the (possibly large) chunk is not kept alive.
    if (pos < end) this.rest = Buffer.from(buf.subarray(pos));
  }
}
