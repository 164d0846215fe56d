import type { Buffer } from 'node:buffer';
import { EMPTY_FRAME, encodeJson } from './frame-encoder';
import { FrameDecoder, type FrameSink } from './frame-decoder';
import type { Framing } from './framing';

/**
 * One connection's side of a codec (docs/PROTOCOL.md §1.1): a streaming
 * decoder from bytes to messages (reporting through the same FrameSink the
 * built-in decoder uses) and an encoder from messages to bytes.
 *
 * Decoder contract, as the built-ins: byte-counted, the size limit checked
 * from a header before any body is buffered, no recursion, O(bytes) however
 * the stream is chunked; a bad frame goes to sink.onBadFrame, and the only
 * exception push() may throw is FrameTooLargeException (the connection is
 * closed then). Anything else thrown is caught by the Connection and closes
 * it as an internal error: never a crash.
 */
export interface ConnectionCodec {
  push(chunk: Buffer, sink: FrameSink): void;
  /** Later pushes are ignored; buffered state is dropped. */
  stop(): void;
  /** Bytes held for a partial frame (at most maxFrameBytes + the header). */
  readonly bufferedBytes: number;
  /** Frames one message, already serialised as JSON text (`{"type":"CMD",…}`). */
  encode(json: string): Buffer;
  /** The answer to a frame reported as onEmptyFrame; undefined sends nothing. */
  encodeEmpty(): Buffer | undefined;
}

export interface CodecOptions {
  /** MAX_FRAME_BYTES: the largest body a decoder may accept. */
  maxFrameBytes: number;
}

/** A wire format, chosen per listener: makes one ConnectionCodec per accepted socket. */
export interface Codec {
  /** For logs and GET /health-style diagnostics. */
  readonly name: string;
  create(options: CodecOptions): ConnectionCodec;
}

/**
 * The built-in framings ('length', 'line', or detected from the first byte).
 * Connection recognises this class and keeps its hand-written fast path
 * (FrameDecoder and the pre-encoded replies) instead of the generic one;
 * create() exists so the built-ins satisfy the same contract in the tests.
 */
export class FramingCodec implements Codec {
  constructor(
    readonly name: string,
    /** Fixed framing; undefined = detected from the first byte. */
    readonly framing: Framing | undefined,
  ) {}

  create(options: CodecOptions): ConnectionCodec {
    const decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes, framing: this.framing });
    return {
      push: (chunk, sink) => decoder.push(chunk, sink),
      stop: () => decoder.stop(),
      get bufferedBytes() {
        return decoder.bufferedBytes;
      },
      encode: (json) => encodeJson(decoder.framing ?? 'length', json),
      encodeEmpty: () => EMPTY_FRAME,
    };
  }
}

/** Length-prefixed or line JSON, detected per connection from its first byte (the default). */
export const autoCodec = new FramingCodec('auto', undefined);
/** uint32 big-endian length + UTF-8 JSON only. */
export const lengthCodec = new FramingCodec('length', 'length');
/** One JSON object per '\n'-terminated line only. */
export const lineCodec = new FramingCodec('line', 'line');

/** Injection token of the listener's codec (LongLinkModule option `codec`). */
export const LONGLINK_CODEC = Symbol('LONGLINK_CODEC');

/** Every codec the gateway ships. */
export const BUILT_IN_CODECS: readonly FramingCodec[] = [autoCodec, lengthCodec, lineCodec];
