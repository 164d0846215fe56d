import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  FrameDecoder,
  FrameTooLargeException,
  encodeMessage,
  type BadFrameCode,
  type FrameSink,
  type Framing,
  autoCodec,
  lengthCodec,
  lineCodec,
  type Codec,
  EMPTY_FRAME,
} from '../../../src/transport/codec';
import { oneByteHeartbeatCodec } from '../../../examples/codecs/one-byte-heartbeat.codec';

/** Strings whose byte length differs from their character count. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('é', '😀', '日本語', 'a\u2028b', '\n', '\r\n', '"\\', '{"type":"HEART"}'),
);

const message = fc.dictionary(
  text,
  fc.oneof(
    text,
    fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 3 }),
    fc.jsonValue({ stringUnit: 'binary', maxDepth: 2 }),
  ),
  { maxKeys: 6 },
);

/** Cut points (any values, reduced modulo the length) -> consecutive chunks. */
const cuts = fc.array(fc.nat({ max: 65535 }), { maxLength: 40 });

function split(buf: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    chunks.push(buf.subarray(prev, p));
    prev = p;
  }
  chunks.push(buf.subarray(prev));
  return chunks;
}

type Event =
  | ['message', Record<string, unknown>]
  | ['empty']
  | ['bad', BadFrameCode, string]
  | ['too-large']
  | ['broken', string];

class Recorder implements FrameSink {
  readonly events: Event[] = [];
  onMessage(m: Record<string, unknown>): void {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error('not an object');
    this.events.push(['message', m]);
  }
  onEmptyFrame(): void {
    this.events.push(['empty']);
  }
  onBadFrame(code: BadFrameCode, detail: string): void {
    if (code !== 'BAD_JSON' && code !== 'BAD_MESSAGE') throw new Error(`bad code ${code}`);
    this.events.push(['bad', code, detail]);
  }
}

describe.each<Framing>(['length', 'line'])('codec properties (%s framing)', (framing) => {
  it.each([
    ['fixed', framing],
    ['auto-detected', undefined],
  ])('any messages, encoded, concatenated and split anywhere, decode to the same messages in order (%s)', (_how, option) => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), cuts, (msgs, points) => {
        const wire = Buffer.concat(msgs.map((m) => encodeMessage(framing, m)));
        const decoder = new FrameDecoder({ maxFrameBytes: 65536, framing: option });
        const sink = new Recorder();
        try {
          for (const chunk of split(wire, points)) decoder.push(chunk, sink);
        } catch {
          return false; // nothing may throw here; see the counterexample
        }
        // Plain boolean checks, no expect()/throw: a failing property is
        // re-run at every shrinking step, and rendering a Jest diff or a
        // stack trace each time makes a failure take minutes to report.
        const expected = msgs.map((m) => ['message', JSON.parse(JSON.stringify(m))]);
        return (
          decoder.bufferedBytes === 0 &&
          (msgs.length === 0 || decoder.framing === framing) &&
          isDeepStrictEqual(sink.events, expected)
        );
      }),
      { numRuns: 300 },
    );
  });
});

/** Byte soup biased towards things that matter to the decoder. */
const garbage = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(
        Buffer.from('\n'),
        Buffer.from('\r\n'),
        Buffer.from('{'),
        Buffer.from('{"type":"HEART"}'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from([0, 0, 0, 0]),
        Buffer.from([0, 0, 1, 0]), // 256: exactly the limit
        Buffer.from([0, 0, 1, 1]), // 257: one too many
        Buffer.from([0xff, 0xff, 0xff, 0xff]),
      ),
      fc.integer({ min: 0, max: 400 }).map((n) => Buffer.alloc(n, 0x78)), // long runs without '\n'
      message.map((m) => encodeMessage('length', m)),
      message.map((m) => encodeMessage('line', m)),
      fc.constantFrom(Buffer.from([1]), Buffer.from([1, 1, 1, 1]), Buffer.from([0, 0, 0, 0, 1])), // one-byte heartbeats
      message.map((m) => oneByteHeartbeatCodec.create({ maxFrameBytes: 1 << 30 }).encode(JSON.stringify(m))),
    ),
    { maxLength: 30 },
  )
  .map((parts) => Buffer.concat(parts));

const LIMIT = 256;

/** A thrown FrameTooLargeException that is consistent with LIMIT. */
function isTooLarge(err: unknown): boolean {
  return err instanceof FrameTooLargeException && err.maxFrameBytes === LIMIT && err.frameBytes > LIMIT;
}

/**
 * Pushes the chunks; records sink calls and each FrameTooLargeException as a
 * 'too-large' event, and stops at the first one (the connection would close).
 * Anything that breaks the decoder's contract becomes a 'broken' event.
 */
function run(option: Framing | undefined, chunks: Buffer[]): Event[] {
  return drive(new FrameDecoder({ maxFrameBytes: LIMIT, framing: option }), chunks);
}

/** Feeds the chunks to a decoder: its events, a too-large frame, or what broke (a throw, or a buffer past the bound). */
function drive(decoder: { push(chunk: Buffer, sink: Recorder): void; readonly bufferedBytes: number }, chunks: Buffer[]): Event[] {
  const sink = new Recorder();
  for (const chunk of chunks) {
    try {
      decoder.push(chunk, sink);
    } catch (err) {
      sink.events.push(isTooLarge(err) && decoder.bufferedBytes === 0 ? ['too-large'] : ['broken', String(err)]);
      break;
    }
    if (decoder.bufferedBytes > LIMIT + 4) {
      sink.events.push(['broken', `bufferedBytes ${decoder.bufferedBytes}`]);
      break;
    }
  }
  return sink.events;
}

// The properties below return booleans instead of using expect(): see above.
describe('codec properties on garbage', () => {
  it.each<[string, Framing | undefined]>([
    ['length', 'length'],
    ['line', 'line'],
    ['auto-detected', undefined],
  ])(
    'push never throws anything but FrameTooLargeException and never buffers more than limit + 4 (%s)',
    (_how, option) => {
      fc.assert(
        fc.property(garbage, cuts, (bytes, points) => {
          const decoder = new FrameDecoder({ maxFrameBytes: LIMIT, framing: option });
          const sink = new Recorder();
          // Unlike run(), keep pushing after an exception: the decoder reset
          // itself and must stay within its bounds on whatever follows.
          for (const chunk of split(bytes, points)) {
            try {
              decoder.push(chunk, sink);
            } catch (err) {
              if (!isTooLarge(err) || decoder.bufferedBytes !== 0) return false;
            }
            if (decoder.bufferedBytes > LIMIT + 4) return false;
          }
          return true;
        }),
        { numRuns: 500 },
      );
    },
  );

  it.each<[string, Framing | undefined]>([
    ['length', 'length'],
    ['line', 'line'],
    ['auto-detected', undefined],
  ])('decoding does not depend on how the stream is chunked, up to the first oversize frame (%s)', (_how, option) => {
    fc.assert(
      fc.property(garbage, cuts, (bytes, points) => {
        const whole = run(option, [bytes]);
        return !whole.some((e) => e[0] === 'broken') && isDeepStrictEqual(run(option, split(bytes, points)), whole);
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * The same properties through the Codec seam, for every built-in codec and
 * the example codec (docs/PROTOCOL.md §1.1): whatever a listener is given
 * must keep the decoder's guarantees.
 */
interface CodecCase {
  codec: Codec;
  /** How a peer frames one message for this codec. */
  encode: (json: string) => Buffer;
  /** A heartbeat the decoder reports as onEmptyFrame, if the format has one. */
  heartbeat?: Buffer;
}

const exampleEncoder = oneByteHeartbeatCodec.create({ maxFrameBytes: 1 << 30 });
const CODEC_CASES: Array<[string, CodecCase]> = [
  ['auto (length peer)', { codec: autoCodec, encode: (j) => encodeMessage('length', JSON.parse(j)), heartbeat: EMPTY_FRAME }],
  ['auto (line peer)', { codec: autoCodec, encode: (j) => encodeMessage('line', JSON.parse(j)) }],
  ['length', { codec: lengthCodec, encode: (j) => lengthCodec.create({ maxFrameBytes: 1 << 30 }).encode(j), heartbeat: EMPTY_FRAME }],
  ['line', { codec: lineCodec, encode: (j) => lineCodec.create({ maxFrameBytes: 1 << 30 }).encode(j) }],
  ['one-byte-heartbeat example', { codec: oneByteHeartbeatCodec, encode: (j) => exampleEncoder.encode(j), heartbeat: exampleEncoder.encodeEmpty() }],
];

function runCodec(codec: Codec, chunks: Buffer[]): Event[] {
  return drive(codec.create({ maxFrameBytes: LIMIT }), chunks);
}

describe.each(CODEC_CASES)('codec seam properties (%s)', (_name, { codec, encode, heartbeat }) => {
  it('messages (and heartbeats), encoded, concatenated and split anywhere, decode to the same events in order', () => {
    const item = heartbeat ? fc.oneof(message, fc.constant(null)) : message;
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), cuts, (items, points) => {
        const wire = Buffer.concat(items.map((m) => (m === null ? heartbeat! : encode(JSON.stringify(m)))));
        const decoder = codec.create({ maxFrameBytes: 65536 });
        const sink = new Recorder();
        try {
          for (const chunk of split(wire, points)) decoder.push(chunk, sink);
        } catch {
          return false;
        }
        const expected = items.map((m) => (m === null ? ['empty'] : ['message', JSON.parse(JSON.stringify(m))]));
        return decoder.bufferedBytes === 0 && isDeepStrictEqual(sink.events, expected);
      }),
      { numRuns: 300 },
    );
  });

  it('push never throws anything but FrameTooLargeException and never buffers more than limit + 4', () => {
    fc.assert(
      fc.property(garbage, cuts, (bytes, points) => {
        const decoder = codec.create({ maxFrameBytes: LIMIT });
        const sink = new Recorder();
        for (const chunk of split(bytes, points)) {
          try {
            decoder.push(chunk, sink);
          } catch (err) {
            if (!isTooLarge(err) || decoder.bufferedBytes !== 0) return false;
          }
          if (decoder.bufferedBytes > LIMIT + 4) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('decoding does not depend on how the stream is chunked, up to the first oversize frame', () => {
    fc.assert(
      fc.property(garbage, cuts, (bytes, points) => {
        const whole = runCodec(codec, [bytes]);
        return !whole.some((e) => e[0] === 'broken') && isDeepStrictEqual(runCodec(codec, split(bytes, points)), whole);
      }),
      { numRuns: 500 },
    );
  });

  it('stop() drops what is buffered and ignores later bytes', () => {
    const decoder = codec.create({ maxFrameBytes: LIMIT });
    const sink = new Recorder();
    const frame = encode('{"type":"HEART"}');
    decoder.push(frame.subarray(0, frame.length - 1), sink);
    decoder.stop();
    decoder.push(frame, sink);
    expect(decoder.bufferedBytes).toBe(0);
    expect(sink.events).toEqual([]);
  });
});
