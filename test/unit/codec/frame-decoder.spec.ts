import { Buffer } from 'node:buffer';
import {
  FrameDecoder,
  FrameTooLargeException,
  detectFraming,
  encodeJson,
  encodeMessage,
  type BadFrameCode,
  type FrameSink,
  type Framing,
} from '../../../src/transport/codec';

type Event =
  | { kind: 'message'; message: Record<string, unknown> }
  | { kind: 'empty' }
  | { kind: 'bad'; code: BadFrameCode; detail: string };

/** Records every sink call in order. */
class Recorder implements FrameSink {
  readonly events: Event[] = [];
  onMessage(message: Record<string, unknown>): void {
    this.events.push({ kind: 'message', message });
  }
  onEmptyFrame(): void {
    this.events.push({ kind: 'empty' });
  }
  onBadFrame(code: BadFrameCode, detail: string): void {
    this.events.push({ kind: 'bad', code, detail });
  }
  get messages(): Record<string, unknown>[] {
    return this.events.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
  }
}

const MAX = 65536;

function decodeAll(framing: Framing | undefined, ...chunks: Buffer[]): Recorder {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX, framing });
  const sink = new Recorder();
  for (const c of chunks) decoder.push(c, sink);
  expect(decoder.bufferedBytes).toBe(0);
  return sink;
}

/** Length-prefixed frame around raw body bytes. */
function lengthFrame(body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length, 0);
  return Buffer.concat([h, b]);
}

/** A JSON object text of exactly `bytes` UTF-8 bytes: {"p":"xxx…"} */
function objectOfBytes(bytes: number): string {
  const json = `{"p":"${'x'.repeat(bytes - 8)}"}`;
  expect(Buffer.byteLength(json)).toBe(bytes);
  return json;
}

function bytesOneByOne(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

describe('detectFraming', () => {
  it.each([
    ['{', 0x7b],
    ['space', 0x20],
    ['tab', 0x09],
    ['CR', 0x0d],
    ['LF', 0x0a],
  ])('picks line framing for %s', (_name, byte) => {
    expect(detectFraming(byte)).toBe('line');
  });

  it.each([0x00, 0x01, 0x5b /* [ */, 0x22 /* " */, 0x61, 0x7d, 0xff].map((b) => [b.toString(16), b]))(
    'picks length framing for byte 0x%s',
    (_hex, byte) => {
      expect(detectFraming(byte as number)).toBe('length');
    },
  );
});

describe('FrameDecoder framing selection', () => {
  it('is undefined until the first byte, then detected from it', () => {
    const d = new FrameDecoder({ maxFrameBytes: MAX });
    const sink = new Recorder();
    expect(d.framing).toBeUndefined();
    d.push(Buffer.alloc(0), sink);
    expect(d.framing).toBeUndefined();
    d.push(Buffer.from('{"type":"HEART"}\n'), sink);
    expect(d.framing).toBe('line');
    expect(sink.messages).toEqual([{ type: 'HEART' }]);

    const d2 = new FrameDecoder({ maxFrameBytes: MAX });
    d2.push(encodeMessage('length', { type: 'HEART' }), sink);
    expect(d2.framing).toBe('length');
    expect(sink.messages).toEqual([{ type: 'HEART' }, { type: 'HEART' }]);
  });

  it('keeps a framing given in the options whatever the first byte', () => {
    const d = new FrameDecoder({ maxFrameBytes: MAX, framing: 'line' });
    expect(d.framing).toBe('line');
    const sink = new Recorder();
    d.push(Buffer.from('\x00\x00\x00\x02{}\n'), sink);
    expect(d.framing).toBe('line');
    expect(sink.events).toEqual([{ kind: 'bad', code: 'BAD_JSON', detail: expect.any(String) }]);
  });

  it('rejects a nonsensical limit', () => {
    expect(() => new FrameDecoder({ maxFrameBytes: -1 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameBytes: 1.5 })).toThrow(RangeError);
  });
});

describe('FrameDecoder length framing', () => {
  it('decodes one frame, several frames in one chunk, and a frame split anywhere', () => {
    const a = encodeMessage('length', { type: 'HEART', n: 1 });
    const b = encodeMessage('length', { type: 'MSG', pattern: 'x', data: [1, 2] });
    const both = Buffer.concat([a, b]);
    expect(decodeAll(undefined, a).messages).toEqual([{ type: 'HEART', n: 1 }]);
    expect(decodeAll(undefined, both).messages).toHaveLength(2);
    for (let cut = 0; cut <= both.length; cut++) {
      const sink = decodeAll(undefined, both.subarray(0, cut), both.subarray(cut));
      expect(sink.messages).toEqual([
        { type: 'HEART', n: 1 },
        { type: 'MSG', pattern: 'x', data: [1, 2] },
      ]);
    }
  });

  it('reports a zero-length frame as an empty frame', () => {
    const sink = decodeAll(
      undefined,
      Buffer.concat([Buffer.alloc(4), encodeMessage('length', { type: 'HEART' }), Buffer.alloc(4)]),
    );
    expect(sink.events).toEqual([
      { kind: 'empty' },
      { kind: 'message', message: { type: 'HEART' } },
      { kind: 'empty' },
    ]);
  });

  it('counts N in bytes, not characters', () => {
    const json = '{"type":"MSG","data":"é😀日本"}';
    const frame = lengthFrame(json);
    expect(frame.readUInt32BE(0)).toBe(Buffer.byteLength(json));
    expect(frame.readUInt32BE(0)).not.toBe(json.length);
    expect(decodeAll('length', frame).messages).toEqual([{ type: 'MSG', data: 'é😀日本' }]);
  });

  it('throws FrameTooLargeException right after a header of maxFrameBytes+1, before any body', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1024 });
    const sink = new Recorder();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025, 0);
    for (let i = 0; i < 3; i++) {
      d.push(header.subarray(i, i + 1), sink);
      expect(d.bufferedBytes).toBe(i + 1);
    }
    let thrown: unknown;
    try {
      d.push(header.subarray(3, 4), sink);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FrameTooLargeException);
    expect(thrown).toBeInstanceOf(Error);
    const e = thrown as FrameTooLargeException;
    expect(e.name).toBe('FrameTooLargeException');
    expect(e.frameBytes).toBe(1025);
    expect(e.maxFrameBytes).toBe(1024);
    expect(e.message).toBe('frame of 1025 bytes exceeds MAX_FRAME_BYTES (1024)');
    expect(d.bufferedBytes).toBe(0);
    expect(sink.events).toEqual([]);
  });

  it('throws on an oversize header even when body bytes follow in the same chunk, after delivering earlier frames', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const sink = new Recorder();
    const big = lengthFrame(objectOfBytes(101));
    const chunk = Buffer.concat([encodeMessage('length', { type: 'HEART' }), big]);
    expect(() => d.push(chunk, sink)).toThrow(
      new FrameTooLargeException('length', 101, 100).message,
    );
    expect(sink.messages).toEqual([{ type: 'HEART' }]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('accepts a frame of exactly maxFrameBytes, whole or split', () => {
    const frame = lengthFrame(objectOfBytes(100));
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const sink = new Recorder();
    d.push(frame, sink);
    d.push(frame.subarray(0, 50), sink);
    expect(d.bufferedBytes).toBe(50);
    d.push(frame.subarray(50), sink);
    expect(sink.messages).toHaveLength(2);
    expect(d.bufferedBytes).toBe(0);
  });

  it('never buffers more than maxFrameBytes + 4 bytes for a frame of exactly the limit', () => {
    const frame = lengthFrame(objectOfBytes(100));
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const sink = new Recorder();
    let peak = 0;
    for (const b of bytesOneByOne(frame)) {
      d.push(b, sink);
      peak = Math.max(peak, d.bufferedBytes);
    }
    expect(peak).toBe(103);
    expect(sink.messages).toHaveLength(1);
  });
});

describe('FrameDecoder line framing', () => {
  it('strips a trailing \\r and splits sticky lines', () => {
    const sink = decodeAll(undefined, Buffer.from('{"type":"HEART"}\r\n{"type":"BYE"}\n'));
    expect(sink.messages).toEqual([{ type: 'HEART' }, { type: 'BYE' }]);
  });

  it('skips empty and whitespace-only lines silently', () => {
    const sink = decodeAll(
      undefined,
      Buffer.from('\n\r\n  \t \r\n{"type":"HEART"}\n\n   \n'),
      Buffer.from(' '),
      Buffer.from('\r'),
      Buffer.from('\n'),
    );
    expect(sink.events).toEqual([{ kind: 'message', message: { type: 'HEART' } }]);
  });

  it('decodes a line split at every byte position', () => {
    const text = Buffer.from('{"type":"MSG","data":"é😀"}\r\n{"type":"HEART"}\n');
    for (let cut = 0; cut <= text.length; cut++) {
      const sink = decodeAll('line', text.subarray(0, cut), text.subarray(cut));
      expect(sink.messages).toEqual([{ type: 'MSG', data: 'é😀' }, { type: 'HEART' }]);
    }
  });

  it('accepts a line of exactly maxFrameBytes, with \\n or \\r\\n, whole or split', () => {
    const json = objectOfBytes(100);
    for (const text of [`${json}\n`, `${json}\r\n`]) {
      const buf = Buffer.from(text);
      for (const cut of [0, 50, 100, 101, buf.length]) {
        const d = new FrameDecoder({ maxFrameBytes: 100 });
        const sink = new Recorder();
        d.push(buf.subarray(0, cut), sink);
        d.push(buf.subarray(cut), sink);
        expect(sink.messages).toHaveLength(1);
        expect(d.bufferedBytes).toBe(0);
      }
    }
  });

  it('throws on a complete line longer than the limit, after delivering earlier lines', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const sink = new Recorder();
    const chunk = Buffer.from(`{"type":"HEART"}\n${objectOfBytes(101)}\r\n`);
    let thrown: unknown;
    try {
      d.push(chunk, sink);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FrameTooLargeException);
    const e = thrown as FrameTooLargeException;
    expect(e.frameBytes).toBe(101);
    expect(e.maxFrameBytes).toBe(100);
    expect(e.message).toBe(
      'line of more than 100 bytes without a newline exceeds MAX_FRAME_BYTES (100)',
    );
    expect(sink.messages).toEqual([{ type: 'HEART' }]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('throws as soon as a partial line passes the limit without a newline', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const sink = new Recorder();
    d.push(Buffer.from('{' + 'x'.repeat(99)), sink); // exactly 100 bytes: still fine
    expect(d.bufferedBytes).toBe(100);
    expect(() => d.push(Buffer.from('y'), sink)).toThrow(FrameTooLargeException);
    expect(d.bufferedBytes).toBe(0);
  });

  it('holds a 101st byte only when it is the \\r of a \\r\\n in flight', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const sink = new Recorder();
    d.push(Buffer.from(objectOfBytes(100)), sink);
    d.push(Buffer.from('\r'), sink);
    expect(d.bufferedBytes).toBe(101);
    // ...but a line of 100 bytes + '\r' + more content is too long.
    expect(() => d.push(Buffer.from('x\n'), sink)).toThrow(FrameTooLargeException);
    expect(d.bufferedBytes).toBe(0);
    expect(sink.events).toEqual([]);
  });

  it('does not buffer a huge line: the first over-limit push throws', () => {
    const d = new FrameDecoder({ maxFrameBytes: 100 });
    const sink = new Recorder();
    let err: unknown;
    try {
      d.push(Buffer.alloc(10_000, 0x7b), sink);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameTooLargeException);
    expect((err as FrameTooLargeException).frameBytes).toBe(10_000);
    expect(d.bufferedBytes).toBe(0);
  });
});

describe.each<Framing>(['length', 'line'])('FrameDecoder message rules (%s framing)', (framing) => {
  const frame = (json: string | Buffer): Buffer =>
    framing === 'length'
      ? lengthFrame(json)
      : Buffer.concat([typeof json === 'string' ? Buffer.from(json) : json, Buffer.from('\n')]);
  const decode = (...bodies: (string | Buffer)[]): Recorder =>
    decodeAll(framing, Buffer.concat(bodies.map(frame)));

  it('unwraps a double-encoded object once', () => {
    const sink = decode(JSON.stringify('{"type":"HEART"}'), JSON.stringify(' {"a":{"b":[1]}} '));
    expect(sink.messages).toEqual([{ type: 'HEART' }, { a: { b: [1] } }]);
  });

  it('does not unwrap twice, nor a string that holds no object', () => {
    const twice = JSON.stringify(JSON.stringify('{"type":"HEART"}'));
    const sink = decode(twice, '"hello"', '"{not json"', '"[1,2]"', '""');
    expect(sink.events).toHaveLength(5);
    for (const e of sink.events) {
      expect(e).toEqual({
        kind: 'bad',
        code: 'BAD_MESSAGE',
        detail: 'frame is a JSON string that does not hold a JSON object, expected an object',
      });
    }
  });

  it('reports arrays, numbers, booleans and null as BAD_MESSAGE', () => {
    const sink = decode('[1,2]', '42', 'true', 'null', '[]');
    expect(sink.events).toEqual([
      { kind: 'bad', code: 'BAD_MESSAGE', detail: 'frame is a JSON array, expected an object' },
      { kind: 'bad', code: 'BAD_MESSAGE', detail: 'frame is a JSON number, expected an object' },
      { kind: 'bad', code: 'BAD_MESSAGE', detail: 'frame is a JSON boolean, expected an object' },
      { kind: 'bad', code: 'BAD_MESSAGE', detail: 'frame is JSON null, expected an object' },
      { kind: 'bad', code: 'BAD_MESSAGE', detail: 'frame is a JSON array, expected an object' },
    ]);
  });

  it('reports invalid JSON as BAD_JSON and keeps decoding', () => {
    const sink = decode('{"type":', '{"type":"HEART"}', "{'a':1}", '{"type":"BYE"}');
    expect(sink.events).toEqual([
      { kind: 'bad', code: 'BAD_JSON', detail: expect.stringMatching(/^frame is not valid JSON: .+/) },
      { kind: 'message', message: { type: 'HEART' } },
      { kind: 'bad', code: 'BAD_JSON', detail: expect.stringMatching(/^frame is not valid JSON: .+/) },
      { kind: 'message', message: { type: 'BYE' } },
    ]);
  });

  it('reports invalid UTF-8 as BAD_JSON instead of replacing it, and keeps decoding', () => {
    const bad = Buffer.concat([
      Buffer.from('{"type":"MSG","data":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const inString = (bytes: number[]): Buffer =>
      Buffer.concat([Buffer.from('{"d":"'), Buffer.from(bytes), Buffer.from('"}')]);
    const truncated = inString([...Buffer.from('😀').subarray(0, 3)]);
    const surrogate = inString([0xed, 0xa0, 0x80]); // U+D800 encoded: not UTF-8
    const overlong = inString([0xc0, 0xaf]); // '/' in 2 bytes: not UTF-8
    const sink = decode(bad, truncated, surrogate, overlong, '{"type":"HEART","r":"\uFFFD"}');
    const notUtf8 = { kind: 'bad', code: 'BAD_JSON', detail: 'frame is not valid UTF-8' };
    expect(sink.events).toEqual([
      notUtf8,
      notUtf8,
      notUtf8,
      notUtf8,
      // a real U+FFFD is fine
      { kind: 'message', message: { type: 'HEART', r: '\uFFFD' } },
    ]);
  });

  it('decodes multi-byte characters split across pushes', () => {
    const all = frame('{"t":"é😀日本\u2028"}');
    const sink = decodeAll(framing, ...bytesOneByOne(all));
    expect(sink.messages).toEqual([{ t: 'é😀日本\u2028' }]);
  });

  it('stop() inside onMessage halts the loop and ignores later pushes', () => {
    const d = new FrameDecoder({ maxFrameBytes: MAX, framing });
    const seen: unknown[] = [];
    const sink: FrameSink = {
      onMessage: (m) => {
        seen.push(m);
        d.stop();
      },
      onEmptyFrame: () => seen.push('empty'),
      onBadFrame: (code) => seen.push(code),
    };
    const three = Buffer.concat(['{"n":1}', '{"n":2}', '{"n":3}'].map(frame));
    d.push(Buffer.concat([three, three.subarray(0, 5)]), sink);
    expect(seen).toEqual([{ n: 1 }]);
    expect(d.bufferedBytes).toBe(0);
    d.push(three, sink);
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('decodes a 64 KiB frame pushed one byte at a time, quickly', () => {
    const json = objectOfBytes(MAX);
    const all = frame(json);
    const d = new FrameDecoder({ maxFrameBytes: MAX, framing });
    const sink = new Recorder();
    const started = performance.now();
    for (let i = 0; i < all.length; i++) {
      d.push(all.subarray(i, i + 1), sink);
    }
    const elapsed = performance.now() - started;
    expect(sink.messages).toEqual([JSON.parse(json)]);
    expect(d.bufferedBytes).toBe(0);
    // Linear work is a few ms; re-concatenating the pending buffer per push
    // (~2 GiB of copying) would take far longer.
    expect(elapsed).toBeLessThan(1000);
  });

  it('decodes 20,000 tiny frames from one chunk in one push', () => {
    const one = frame('{"type":"HEART"}');
    const chunk = Buffer.concat(Array.from({ length: 20_000 }, () => one));
    let count = 0;
    const d = new FrameDecoder({ maxFrameBytes: MAX, framing });
    d.push(chunk, {
      onMessage: () => count++,
      onEmptyFrame: () => {
        throw new Error('unexpected');
      },
      onBadFrame: (code, detail) => {
        throw new Error(`${code}: ${detail}`);
      },
    });
    expect(count).toBe(20_000);
    expect(d.bufferedBytes).toBe(0);
  });
});

describe('FrameDecoder bulk', () => {
  it('decodes 20,000 zero-length frames from one chunk in one push', () => {
    let empties = 0;
    const d = new FrameDecoder({ maxFrameBytes: MAX });
    d.push(Buffer.alloc(4 * 20_000), {
      onMessage: () => {
        throw new Error('unexpected');
      },
      onEmptyFrame: () => empties++,
      onBadFrame: () => {
        throw new Error('unexpected');
      },
    });
    expect(empties).toBe(20_000);
    expect(d.framing).toBe('length');
  });

  it('round-trips what the encoder produces', () => {
    for (const framing of ['length', 'line'] as const) {
      const msgs = [{ type: 'LOGIN', clientId: 'a' }, { type: 'HEART', s: 'é😀' }];
      const wire = Buffer.concat([
        ...msgs.map((m) => encodeMessage(framing, m)),
        encodeJson(framing, '{"type":"BYE"}'),
      ]);
      expect(decodeAll(framing, wire).messages).toEqual([...msgs, { type: 'BYE' }]);
    }
  });
});

describe.each<Framing>(['length', 'line'])('FrameDecoder hand-written fast paths (%s framing)', (framing) => {
  const frame = (text: string) => encodeJson(framing, text);

  it('decodes a bare {"type":"HEART"} by its bytes, to a fresh object each time', () => {
    const sink = decodeAll(framing, frame('{"type":"HEART"}'), frame('{"type":"HEART"}'));
    expect(sink.messages).toEqual([{ type: 'HEART' }, { type: 'HEART' }]);
    expect(sink.messages[0]).not.toBe(sink.messages[1]);
  });

  it.each([
    ['one byte off', '{"type":"HEARt"}', { type: 'HEARt' }],
    ['the code alias (same length)', '{"code":"HEART"}', { code: 'HEART' }],
    ['a HEART with fields', '{"type":"HEART","pid":1}', { type: 'HEART', pid: 1 }],
  ])('anything else of that shape goes through JSON.parse: %s', (_name, text, expected) => {
    expect(decodeAll(framing, frame(text)).messages).toEqual([expected]);
  });

  it('checks small non-ASCII frames for UTF-8 all the same', () => {
    const bad = Buffer.concat([Buffer.from('{"type":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const good = Buffer.from('{"type":"é"}');
    const wrap = (b: Buffer) => (framing === 'line' ? Buffer.concat([b, Buffer.from('\n')]) : lengthFrame(b));
    const sink = decodeAll(framing, wrap(bad), wrap(good));
    expect(sink.events[0]).toMatchObject({ kind: 'bad', code: 'BAD_JSON' });
    expect(sink.messages).toEqual([{ type: 'é' }]);
  });
});
