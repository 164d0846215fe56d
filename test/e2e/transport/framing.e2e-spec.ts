import { FrameDecoder, type Framing, type FrameSink } from '../../../src/transport/codec';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { ClientPool, heartRoundTrip, lengthFrame } from './helpers';

/** docs/PROTOCOL.md §1 and the basic §2 exchange, over real sockets, in both framings. */
describe('transport: framing, LOGIN and HEART', () => {
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);

  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS: 60_000 });
  });
  afterEach(() => pool.closeAll());
  afterAll(() => gw.close());

  describe.each<Framing>(['length', 'line'])('%s framing', (framing) => {
    it('answers LOGIN and HEART in the framing the client spoke', async () => {
      const c = await pool.connect(framing);
      const login = await c.login(`frame-${framing}`);
      expect(login).toEqual({
        type: 'LOGIN',
        ok: true,
        clientId: `frame-${framing}`,
        sessionId: expect.any(String),
        heartbeatMs: 60_000,
        serverTime: expect.any(Number),
      });
      const heart = await heartRoundTrip(c);
      expect(heart).toEqual({ type: 'HEART', ok: true, serverTime: expect.any(Number) });
      const conn = gw.server.getConnection(`frame-${framing}`);
      expect(conn?.detectedFraming).toBe(framing);
      expect(conn?.loggedIn).toBe(true);
    });

    it('decodes many frames in one write ("sticky packets") and answers each, in order', async () => {
      const c = await pool.connect(framing);
      await c.login(`sticky-${framing}`);
      const n = 50;
      const one = c.framing === 'line' ? Buffer.from('{"type":"HEART","seq":1}\n') : lengthFrame('{"type":"HEART","seq":1}');
      c.writeRaw(Buffer.concat(Array.from({ length: n }, () => one)));
      for (let i = 0; i < n; i++) await c.nextOfType('HEART');
      expect(c.frames).toEqual([]);
    });

    it('unwraps a double-encoded frame (a JSON string holding the object) once', async () => {
      const c = await pool.connect(framing);
      if (framing === 'line') {
        // A line-framed connection is recognised by a first byte of '{' or whitespace
        // (§1); a string's '"' would select length framing, so it starts plainly.
        await c.login(`double-${framing}`);
      } else {
        // RawClient.send stringifies again: the frame's JSON value is a string.
        c.send(JSON.stringify({ type: 'LOGIN', clientId: `double-${framing}` }));
        expect(await c.nextOfType('LOGIN')).toMatchObject({ ok: true, clientId: `double-${framing}` });
      }
      c.send(JSON.stringify({ type: 'HEART', status: 'double' }));
      expect(await c.nextOfType('HEART')).toMatchObject({ ok: true });
      expect(gw.server.getConnection(`double-${framing}`)?.reported).toMatchObject({ status: 'double' });
      // Only once: a string holding a string holding an object is not a message.
      c.send(JSON.stringify(JSON.stringify({ type: 'HEART' })));
      expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'BAD_MESSAGE' });
    });

    it("mirrors the `code` alias: replies carry `code`, never `type`", async () => {
      const c = await pool.connect(framing);
      c.send({ code: 'LOGIN', clientId: `alias-${framing}` });
      const login = await c.nextOfType('LOGIN');
      expect(login).toMatchObject({ code: 'LOGIN', ok: true, clientId: `alias-${framing}` });
      expect(login).not.toHaveProperty('type');
      c.send({ code: 'HEART' });
      const heart = await c.nextOfType('HEART');
      expect(heart).toEqual({ code: 'HEART', ok: true, serverTime: expect.any(Number) });
      // Errors too: the type sits in `code`, so the error code moves into `error`.
      c.send({ code: 'NOPE' });
      const error = await c.nextOfType('ERROR');
      expect(error).toMatchObject({ code: 'ERROR', error: { code: 'UNKNOWN_TYPE' } });
      expect(error).not.toHaveProperty('type');
    });
  });

  it('answers a zero-length frame with a zero-length frame', async () => {
    const c = await pool.login('empty-1');
    c.writeRaw(Buffer.alloc(4));
    expect(await c.next()).toBe('EMPTY');
    expect(gw.server.getConnection('empty-1')?.lastHeartbeatAt).toBeGreaterThan(0);
  });

  it('keeps the extra fields of a HEART as the reported state', async () => {
    const c = await pool.login('reporter-1');
    c.send({ type: 'HEART', status: 'busy', ip: '10.0.0.7', pid: 4242 });
    await c.nextOfType('HEART');
    expect(gw.server.getConnection('reporter-1')?.reported).toMatchObject({ status: 'busy', ip: '10.0.0.7', pid: 4242 });
    // A bare HEART reports nothing new: the last reported state stays.
    await heartRoundTrip(c);
    expect(gw.server.getConnection('reporter-1')?.reported).toMatchObject({ status: 'busy', pid: 4242 });
    c.send({ type: 'HEART', status: 'idle' });
    await c.nextOfType('HEART');
    expect(gw.server.getConnection('reporter-1')?.reported).toMatchObject({ status: 'idle' });
    expect(gw.server.getConnection('reporter-1')?.reported).not.toHaveProperty('pid');
  });

  it('does not answer a HEART that is itself a reply (ok present)', async () => {
    const c = await pool.login('probe-answer-1');
    c.send({ type: 'HEART', ok: true });
    // Frames are answered in order: if the reply had been answered, its answer would come first.
    c.send({ type: 'HEART', seq: 2 });
    await c.nextOfType('HEART');
    expect(c.frames).toEqual([]);
  });

  it('decodes a length-prefixed LOGIN whose header and body arrive in separate reads', async () => {
    // Regression for the streaming decoder: a header split across TCP reads must
    // decode to the same length. Each piece is sent once the server has read
    // the one before (seen at the decoder), so the reads are separate for sure.
    const c = await pool.connect('length');
    c.socket.setNoDelay(true);
    // Over 255 bytes, so the header's third byte is not zero: [00 00 01 xx].
    const frame = lengthFrame(JSON.stringify({ type: 'LOGIN', clientId: 'split-1', meta: { pad: 'p'.repeat(300) } }));
    expect(frame[2]).toBe(1);
    const pieces = [frame.subarray(0, 1), frame.subarray(1, 3), frame.subarray(3, 9), frame.subarray(9)];
    const push = FrameDecoder.prototype.push;
    const reads: number[] = [];
    let onRead: (() => void) | undefined;
    const spy = jest.spyOn(FrameDecoder.prototype, 'push').mockImplementation(function (this: FrameDecoder, chunk: Buffer, sink: FrameSink) {
      reads.push(chunk.length);
      push.call(this, chunk, sink);
      onRead?.();
    });
    try {
      for (const piece of pieces) {
        const read = new Promise<void>((resolve) => (onRead = resolve));
        c.writeRaw(piece);
        await read;
      }
    } finally {
      spy.mockRestore();
    }
    expect(reads).toEqual(pieces.map((p) => p.length));
    expect(await c.nextOfType('LOGIN', 2000)).toMatchObject({ ok: true, clientId: 'split-1' });
  });
});
