import { Buffer, isUtf8 } from 'node:buffer';

/**
 * From one frame's bytes to a message: the half of decoding that is the
 * same for every framing. FrameDecoder finds where frames start and end
 * (length-prefixed or line) and calls decodeJson once per frame body; this
 * file decides what the body is (docs/PROTOCOL.md §1: UTF-8 JSON object,
 * one unwrap of a double-encoded string) and tells the sink.
 */

export type BadFrameCode = 'BAD_JSON' | 'BAD_MESSAGE';

export interface FrameSink {
  /** A decoded frame whose JSON value is an object (not array, not null), after the one-time unwrap of a JSON string whose content is a JSON object. */
  onMessage(message: Record<string, unknown>): void;
  /** A length-prefixed frame with N = 0 (the cheapest heartbeat). */
  onEmptyFrame(): void;
  /** Invalid UTF-8 or invalid JSON -> 'BAD_JSON'; valid JSON that is not an object (and not a string holding an object) -> 'BAD_MESSAGE'. `detail` is a short human sentence. */
  onBadFrame(code: BadFrameCode, detail: string): void;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const LEFT_BRACE = 0x7b;

/** The bytes of the most common frame of all, a bare heartbeat. */
const BARE_HEART = Buffer.from('{"type":"HEART"}');
/** Frames up to this size are checked for ASCII by a loop of ours instead of isUtf8 (which needs a subarray). */
const SMALL_FRAME_BYTES = 96;

/** Decodes one frame body buf[start, end) and reports it to the sink. */
export function decodeJson(buf: Buffer, start: number, end: number, sink: FrameSink): void {
  const n = end - start;
  // Hot path, written by hand: a bare `{"type":"HEART"}` is recognised by
  // its bytes and skips isUtf8 and JSON.parse (half a microsecond each).
  if (n === BARE_HEART.length && isBareHeart(buf, start)) {
    sink.onMessage({ type: 'HEART' });
    return;
  }
  // toString('utf8') would silently turn invalid bytes into U+FFFD and the
  // frame would pass as JSON with altered content; the protocol wants
  // BAD_JSON. Pure ASCII is valid UTF-8; otherwise isUtf8 (simdutf) decides.
  if (!(n <= SMALL_FRAME_BYTES && isAscii(buf, start, end)) && !isUtf8(start === 0 && end === buf.length ? buf : buf.subarray(start, end))) {
    sink.onBadFrame('BAD_JSON', 'frame is not valid UTF-8');
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', start, end));
  } catch (err) {
    sink.onBadFrame('BAD_JSON', `frame is not valid JSON: ${(err as Error).message}`);
    return;
  }
  // Sink calls stay outside the try so a sink's own exception isn't relabelled.
  if (typeof value === 'object') {
    if (value === null) sink.onBadFrame('BAD_MESSAGE', 'frame is JSON null, expected an object');
    else if (Array.isArray(value)) sink.onBadFrame('BAD_MESSAGE', 'frame is a JSON array, expected an object');
    else sink.onMessage(value as Record<string, unknown>);
  } else if (typeof value === 'string') {
    // Some clients double-encode: unwrap once, never twice.
    const inner = parseObjectText(value);
    if (inner !== undefined) sink.onMessage(inner);
    else sink.onBadFrame('BAD_MESSAGE', 'frame is a JSON string that does not hold a JSON object, expected an object');
  } else {
    sink.onBadFrame('BAD_MESSAGE', `frame is a JSON ${typeof value}, expected an object`);
  }
}

function isBareHeart(buf: Buffer, start: number): boolean {
  for (let i = 0; i < BARE_HEART.length; i++) if (buf[start + i] !== BARE_HEART[i]) return false;
  return true;
}

function isAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] > 0x7f) return false;
  return true;
}

/** The object a JSON text holds, or undefined when it holds anything else. */
function parseObjectText(text: string): Record<string, unknown> | undefined {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB && c !== CR && c !== LF) break;
    i++;
  }
  // Only a text starting with '{' can be an object: don't pay for a throwing
  // JSON.parse on the common "plain string" case.
  if (i === n || text.charCodeAt(i) !== LEFT_BRACE) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
