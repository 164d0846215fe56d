import { Buffer } from 'node:buffer';
import type { Framing } from './framing';

/**
 * The 4 zero bytes of a length-prefixed empty frame (the cheapest heartbeat
 * answer). Shared by every connection: never write into it.
 */
export const EMPTY_FRAME: Buffer = Buffer.alloc(4);

/**
 * Frames an already-serialised JSON text. For 'line' the text must be on one
 * line (JSON.stringify without indentation never emits a raw '\n'); a raw
 * newline would split the frame in two on the peer, so it is refused.
 * The caller enforces MAX_FRAME_BYTES; this only frames.
 */
export function encodeJson(framing: Framing, json: string): Buffer {
  if (framing === 'line') {
    if (json.includes('\n')) {
      throw new TypeError('encodeJson: line-framed JSON must not contain a raw newline');
    }
    return Buffer.from(json + '\n');
  }
  // Header and body in one allocation; N counts UTF-8 bytes, not UTF-16 units.
  const n = Buffer.byteLength(json);
  const buf = Buffer.allocUnsafe(4 + n);
  buf.writeUInt32BE(n, 0);
  buf.write(json, 4);
  return buf;
}

/** JSON.stringify then encodeJson. */
export function encodeMessage(framing: Framing, message: object): Buffer {
  return encodeJson(framing, JSON.stringify(message));
}
