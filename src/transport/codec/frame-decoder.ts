import { Buffer } from 'node:buffer';
import { decodeJson, type FrameSink } from './frame-body';
import { detectFraming, type Framing } from './framing';
import { FrameTooLargeException } from './frame-too-large.exception';

export type { BadFrameCode, FrameSink } from './frame-body';

export interface FrameDecoderOptions {
  /** Largest accepted frame body / line (excluding its terminator), in bytes. */
  maxFrameBytes: number;
  /** Fixed framing; when omitted it is detected from the first byte ever pushed. */
  framing?: Framing;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/** First allocation of the line buffer (grown by doubling, capped at the limit). */
const MIN_LINE_BUFFER_BYTES = 256;
/**
 * A line buffer larger than this is dropped once its line is decoded, so a
 * connection that once sent a big line doesn't pin up to 64 KiB while idle.
 */
const KEEP_LINE_BUFFER_BYTES = 4096;

/**
 * Streaming decoder for one connection (docs/PROTOCOL.md §1).
 *
 * ```
 * length:  +--------+--------+--------+--------+------------------------+
 *          |   N (uint32, big-endian, bytes)   |  N bytes of UTF-8 JSON | ...
 *          +--------+--------+--------+--------+------------------------+
 *          N = 0 is an empty frame (heartbeat); N > maxFrameBytes throws as
 *          soon as the 4 header bytes are in, before any body is buffered.
 *
 * line:    UTF-8 JSON ... [\r] \n   UTF-8 JSON ... [\r] \n   ...
 *          at most maxFrameBytes bytes before the terminator; blank lines
 *          (only space/tab/CR) are skipped.
 * ```
 *
 * Cost model (this is the gateway's hot path):
 * - frames lying wholly inside a pushed chunk are decoded in place, no copy;
 * - a length frame split across chunks gets ONE body buffer of exactly N
 *   bytes once its header is known, and each later chunk is copied into it;
 * - a split line goes into a buffer grown by doubling up to maxFrameBytes+1
 *   (room for a '\r' whose '\n' hasn't arrived yet);
 * so work is O(bytes) however the stream is chunked, at most
 * maxFrameBytes + 4 bytes are held, and push() loops, never recurses.
 *
 * Sink callbacks run synchronously inside push(); the decoder's own state is
 * consistent before each call, and a sink may call stop(). An exception
 * thrown by the sink itself propagates and the rest of that chunk is lost.
 *
 * This class only finds where frames start and end; what a frame's bytes
 * are (JSON object, bad UTF-8, …) is decided by decodeJson in frame-body.ts,
 * once per frame, whichever framing found it.
 */
export class FrameDecoder {
  private readonly max: number;
  private mode: Framing | undefined;
  private stopped = false;

  // Length framing: a header split across chunks is accumulated as a number.
  private headerLen = 0;
  private headerAcc = 0;
  /** Body of a frame whose header arrived but whose body is incomplete. */
  private body: Buffer | null = null;
  private bodyLen = 0;

  // Line framing: a line split across chunks.
  private line: Buffer | null = null;
  private lineLen = 0;

  constructor(options: FrameDecoderOptions) {
    const max = options.maxFrameBytes;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${max}`);
    }
    this.max = max;
    this.mode = options.framing;
  }

  /** The connection's framing; undefined until the first byte is seen (unless given). */
  get framing(): Framing | undefined {
    return this.mode;
  }

  /** Bytes held for a partial frame (header bytes included). */
  get bufferedBytes(): number {
    return this.body !== null ? 4 + this.bodyLen : this.headerLen + this.lineLen;
  }

  /**
   * Decodes every complete frame in `chunk` (after what was buffered) and calls
   * the sink once per frame, in order. Bad frames go to sink.onBadFrame and
   * never throw; only FrameTooLargeException is thrown, after the decoder has
   * dropped its buffered state (the connection must be closed then).
   */
  push(chunk: Buffer, sink: FrameSink): void {
    if (this.stopped || chunk.length === 0) return;
    let mode = this.mode;
    if (mode === undefined) mode = this.mode = detectFraming(chunk[0]);
    if (mode === 'length') this.pushLength(chunk, sink);
    else this.pushLine(chunk, sink);
  }

  /** Stops decoding: the running push() returns after the current frame and later pushes are ignored. */
  stop(): void {
    this.stopped = true;
    this.reset();
  }

  private reset(): void {
    this.headerLen = 0;
    this.headerAcc = 0;
    this.body = null;
    this.bodyLen = 0;
    this.line = null;
    this.lineLen = 0;
  }

  private pushLength(chunk: Buffer, sink: FrameSink): void {
    const end = chunk.length;
    const max = this.max;
    let pos = 0;
    while (pos < end) {
      const body = this.body;
      if (body !== null) {
        // Continue a body that started in an earlier chunk.
        const need = body.length - this.bodyLen;
        const take = need < end - pos ? need : end - pos;
        chunk.copy(body, this.bodyLen, pos, pos + take);
        pos += take;
        this.bodyLen += take;
        if (this.bodyLen < body.length) return;
        this.body = null;
        this.bodyLen = 0;
        decodeJson(body, 0, body.length, sink);
      } else {
        let n: number;
        if (this.headerLen === 0 && end - pos >= 4) {
          n = chunk.readUInt32BE(pos);
          pos += 4;
        } else {
          // Header split across chunks: accumulate its bytes big-endian.
          let acc = this.headerAcc;
          let len = this.headerLen;
          while (len < 4 && pos < end) {
            acc = acc * 256 + chunk[pos++];
            len++;
          }
          if (len < 4) {
            this.headerAcc = acc;
            this.headerLen = len;
            return;
          }
          this.headerAcc = 0;
          this.headerLen = 0;
          n = acc;
        }
        if (n > max) {
          this.reset();
          throw new FrameTooLargeException('length', n, max);
        }
        if (n === 0) {
          sink.onEmptyFrame();
        } else if (end - pos >= n) {
          const start = pos;
          pos += n;
          decodeJson(chunk, start, pos, sink);
        } else {
          // Allocate the whole body once; later chunks are copied into it.
          // (allocUnsafe is safe: nothing is read before it is fully written.)
          const b = Buffer.allocUnsafe(n);
          chunk.copy(b, 0, pos, end);
          this.body = b;
          this.bodyLen = end - pos;
          return;
        }
      }
      if (this.stopped) return;
    }
  }

  private pushLine(chunk: Buffer, sink: FrameSink): void {
    const end = chunk.length;
    const max = this.max;
    let pos = 0;
    while (pos < end) {
      const nl = chunk.indexOf(LF, pos);
      if (nl === -1) {
        this.appendPartialLine(chunk, pos, end);
        return;
      }
      if (this.lineLen === 0) {
        // Whole line inside this chunk: decode it in place.
        let stop = nl;
        if (stop > pos && chunk[stop - 1] === CR) stop--;
        if (stop - pos > max) {
          this.reset();
          throw new FrameTooLargeException('line', stop - pos, max);
        }
        const start = pos;
        pos = nl + 1;
        decodeLine(chunk, start, stop, sink);
      } else {
        // The line started in an earlier chunk: finish it in the line buffer.
        const total = this.lineLen + (nl - pos);
        if (total > max + 1) {
          this.reset();
          throw new FrameTooLargeException('line', total, max);
        }
        const buf = this.reserveLine(total);
        chunk.copy(buf, this.lineLen, pos, nl);
        pos = nl + 1;
        this.lineLen = 0;
        let stop = total;
        if (stop > 0 && buf[stop - 1] === CR) stop--;
        if (stop > max) {
          this.reset();
          throw new FrameTooLargeException('line', stop, max);
        }
        if (buf.length > KEEP_LINE_BUFFER_BYTES) this.line = null;
        // decodeLine copies the bytes into a string before calling the sink,
        // so the buffer may be reused by a later push.
        decodeLine(buf, 0, stop, sink);
      }
      if (this.stopped) return;
    }
  }

  /** Buffers chunk[pos, end), which holds no '\n' (pos < end). */
  private appendPartialLine(chunk: Buffer, pos: number, end: number): void {
    const total = this.lineLen + (end - pos);
    const max = this.max;
    // The line may reach max + 1 bytes only if that last byte is the '\r' of
    // a '\r\n' still in flight; anything else already breaks the limit.
    if (total > max + 1 || (total === max + 1 && chunk[end - 1] !== CR)) {
      this.reset();
      throw new FrameTooLargeException('line', total, max);
    }
    const buf = this.reserveLine(total);
    chunk.copy(buf, this.lineLen, pos, end);
    this.lineLen = total;
  }

  /** The line buffer, with room for `need` (<= max + 1) bytes; keeps its content. */
  private reserveLine(need: number): Buffer {
    const old = this.line;
    if (old !== null && old.length >= need) return old;
    let size = old === null ? MIN_LINE_BUFFER_BYTES : old.length * 2;
    if (size < need) size = need;
    if (size > this.max + 1) size = this.max + 1;
    const grown = Buffer.allocUnsafe(size);
    if (old !== null && this.lineLen > 0) old.copy(grown, 0, 0, this.lineLen);
    this.line = grown;
    return grown;
  }
}

/** Skips lines holding only JSON whitespace ('\n' can't occur inside a line). */
function decodeLine(buf: Buffer, start: number, end: number, sink: FrameSink): void {
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b !== SPACE && b !== TAB && b !== CR) break;
    i++;
  }
  if (i < end) decodeJson(buf, start, end, sink);
}
