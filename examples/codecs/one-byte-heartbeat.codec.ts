/**
 * An example of the codec seam (docs/PROTOCOL.md §1.1): a fleet's own binary
 * protocol, served without changing its clients.
 *
 * ```
 * heartbeat:  0x01                        (one byte, between frames)
 * data:       uint32 BE length N, then N bytes of UTF-8 JSON (an object:
 *             LOGIN, MSG, ACK, … exactly as the built-in length framing)
 * ```
 *
 * A 0x01 byte where a frame starts is a heartbeat (reported as an empty
 * frame, answered with one 0x01); any other byte starts a length header. The
 * two can't be confused: a header whose first byte is 0x01 announces at least
 * 16 MiB, above any MAX_FRAME_BYTES. With the built-in length framing four
 * such heartbeats read as a 16 MiB header and the client is closed with
 * FRAME_TOO_LARGE; with this codec they are heartbeats.
 *
 * Use it: `LongLinkModule.forRoot({ codec: oneByteHeartbeatCodec })`
 * (in an app, import the types from 'longlink' instead of ../../src).
 *
 * Guarantees (the same as the built-in decoder's): bytes are counted, the
 * limit is checked from the header before any body is buffered, push() loops
 * and never recurses, work is O(bytes) however the stream is chunked, and a
 * bad frame goes to onBadFrame; only FrameTooLargeException is thrown.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { FrameTooLargeException, type Codec, type CodecOptions, type ConnectionCodec, type FrameSink } from '../../src/transport/codec';

const HEARTBEAT = 0x01;
/** Shared by every connection: never written into. */
const HEARTBEAT_BYTES = Buffer.from([HEARTBEAT]);

class OneByteHeartbeatConnection implements ConnectionCodec {
  private stopped = false;
  /** Header bytes seen of the current frame (0 = at a frame boundary). */
  private headerLen = 0;
  private headerAcc = 0;
  /** Body of a frame whose header arrived but whose body is incomplete. */
  private body: Buffer | null = null;
  private bodyLen = 0;

  constructor(private readonly max: number) {}

  get bufferedBytes(): number {
    return this.body !== null ? 4 + this.bodyLen : this.headerLen;
  }

  push(chunk: Buffer, sink: FrameSink): void {
    let i = 0;
    const end = chunk.length;
    while (i < end && !this.stopped) {
      if (this.body !== null) {
        // Continue a split body: copy what this chunk holds of it.
        const take = Math.min(this.body.length - this.bodyLen, end - i);
        chunk.copy(this.body, this.bodyLen, i, i + take);
        this.bodyLen += take;
        i += take;
        if (this.bodyLen === this.body.length) {
          const body = this.body;
          this.body = null;
          this.bodyLen = 0;
          decodeBody(body, 0, body.length, sink);
        }
        continue;
      }
      const byte = chunk[i++];
      if (this.headerLen === 0 && byte === HEARTBEAT) {
        sink.onEmptyFrame();
        continue;
      }
      // `* 256 +` not `<< 8`: a uint32 above 2^31 must stay positive.
      this.headerAcc = this.headerAcc * 256 + byte;
      if (++this.headerLen < 4) continue;
      const n = this.headerAcc;
      this.headerLen = 0;
      this.headerAcc = 0;
      if (n > this.max) {
        this.reset();
        throw new FrameTooLargeException('length', n, this.max);
      }
      if (n === 0) {
        sink.onBadFrame('BAD_JSON', 'a data frame of 0 bytes holds no JSON');
      } else if (end - i >= n) {
        // The whole body is in this chunk: decoded in place, no copy.
        decodeBody(chunk, i, i + n, sink);
        i += n;
      } else {
        this.body = Buffer.allocUnsafe(n);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.reset();
  }

  encode(json: string): Buffer {
    const n = Buffer.byteLength(json);
    const buf = Buffer.allocUnsafe(4 + n);
    buf.writeUInt32BE(n, 0);
    buf.write(json, 4);
    return buf;
  }

  encodeEmpty(): Buffer {
    return HEARTBEAT_BYTES;
  }

  private reset(): void {
    this.headerLen = 0;
    this.headerAcc = 0;
    this.body = null;
    this.bodyLen = 0;
  }
}

/** One data frame's body: a JSON object (or a JSON string holding one, unwrapped once) → onMessage. */
function decodeBody(buf: Buffer, start: number, end: number, sink: FrameSink): void {
  const bytes = buf.subarray(start, end);
  if (!isUtf8(bytes)) {
    sink.onBadFrame('BAD_JSON', 'frame is not valid UTF-8');
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'string' && value.trimStart().startsWith('{')) value = JSON.parse(value);
  } catch {
    sink.onBadFrame('BAD_JSON', 'frame is not valid JSON');
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    sink.onBadFrame('BAD_MESSAGE', 'frame is not a JSON object');
    return;
  }
  sink.onMessage(value as Record<string, unknown>);
}

export const oneByteHeartbeatCodec: Codec = {
  name: 'one-byte-heartbeat',
  create: (options: CodecOptions) => new OneByteHeartbeatConnection(options.maxFrameBytes),
};
