import { startTestGateway, TestGateway } from '../../support/gateway';
import { ClientPool, heartRoundTrip, rawFrame, serverClose, serverSideOf } from './helpers';

/** Bad input (docs/PROTOCOL.md §1): answered, bounded, and never felt by other clients. */
describe('transport: bad frames', () => {
  const MAX_BAD_FRAMES = 3;
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_BAD_FRAMES, MAX_FRAME_BYTES: 1024 });
  });
  afterEach(() => pool.closeAll());
  afterAll(() => gw.close());

  it.each(['length', 'line'] as const)('answers bad JSON with ERROR BAD_JSON and stays usable (%s)', async (framing) => {
    const bystander = await pool.login(`bystander-${framing}`);
    const c = await pool.login(`clumsy-${framing}`, framing);
    c.writeRaw(rawFrame(c, '{"type":"HEART",'));
    expect(await c.nextOfType('ERROR')).toMatchObject({ type: 'ERROR', code: 'BAD_JSON', message: expect.stringContaining('JSON') });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    expect(gw.server.getConnection(`clumsy-${framing}`)?.closed).toBe(false);
    expect(await heartRoundTrip(bystander)).toMatchObject({ ok: true });
    expect(bystander.frames).toEqual([]);
  });

  it('answers a frame that is not an object with ERROR BAD_MESSAGE, and an unknown type with UNKNOWN_TYPE', async () => {
    const c = await pool.login('odd-1');
    c.send([1, 2, 3]);
    expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'BAD_MESSAGE' });
    c.send({ type: 'DANCE' });
    expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'UNKNOWN_TYPE' });
    c.send({ type: 'MSG' });
    expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'BAD_MESSAGE' });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
  });

  it('never answers a frame carrying `ok` (a reply), not even with UNKNOWN_TYPE, nor counts it as bad', async () => {
    const c = await pool.login('replier-1');
    for (const type of ['KICK', 'ERROR', 'CMD', 'SOMETHING']) c.send({ type, id: 'x', ok: true });
    c.send({ code: 'KICK', ok: true });
    // More than MAX_BAD_FRAMES of them: the connection must still be open.
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    expect(c.frames).toEqual([]);
  });

  it(`tolerates MAX_BAD_FRAMES (${MAX_BAD_FRAMES}) bad frames in a row and closes on the one after`, async () => {
    const c = await pool.login('noisy-1', 'line');
    const closed = serverClose(gw, serverSideOf(c));
    for (let i = 0; i < MAX_BAD_FRAMES; i++) c.writeRaw('not json\n');
    for (let i = 0; i < MAX_BAD_FRAMES; i++) expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'BAD_JSON' });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    // The HEART broke the row: MAX_BAD_FRAMES more are still tolerated...
    for (let i = 0; i < MAX_BAD_FRAMES; i++) c.writeRaw('[]\n');
    for (let i = 0; i < MAX_BAD_FRAMES; i++) expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'BAD_MESSAGE' });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    // ...and MAX_BAD_FRAMES + 1 in a row close it, after the last ERROR.
    for (let i = 0; i <= MAX_BAD_FRAMES; i++) c.writeRaw('{oops\n');
    for (let i = 0; i <= MAX_BAD_FRAMES; i++) expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'BAD_JSON' });
    await c.waitClosed();
    expect((await closed).event.reason).toBe('too_many_bad_frames');
  });

  it('counts a zero-length heartbeat as a good frame that ends a row of bad ones', async () => {
    const c = await pool.login('noisy-2');
    for (let i = 0; i < MAX_BAD_FRAMES; i++) c.writeRaw(rawFrame(c, 'nope'));
    c.writeRaw(Buffer.alloc(4));
    for (let i = 0; i < MAX_BAD_FRAMES; i++) c.writeRaw(rawFrame(c, 'nope'));
    for (let i = 0; i < MAX_BAD_FRAMES; i++) expect(await c.next()).toMatchObject({ code: 'BAD_JSON' });
    expect(await c.next()).toBe('EMPTY');
    for (let i = 0; i < MAX_BAD_FRAMES; i++) expect(await c.next()).toMatchObject({ code: 'BAD_JSON' });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
  });

  it('answers a length header over MAX_FRAME_BYTES with FRAME_TOO_LARGE and closes, serving others meanwhile', async () => {
    const bystander = await pool.login('bystander-big');
    const c = await pool.login('big-1');
    const closed = serverClose(gw, serverSideOf(c));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1024 * 1024, 0);
    // Only the header: the limit is checked before any body is awaited or buffered.
    c.writeRaw(header);
    const error = await c.nextOfType('ERROR');
    expect(error).toMatchObject({ code: 'FRAME_TOO_LARGE', message: 'frame of 1048576 bytes exceeds MAX_FRAME_BYTES (1024)' });
    await c.waitClosed();
    expect((await closed).event.reason).toBe('frame_too_large');
    expect(await heartRoundTrip(bystander)).toMatchObject({ ok: true });
    const newcomer = await pool.login('after-big');
    expect(await heartRoundTrip(newcomer)).toMatchObject({ ok: true });
  });

  it('answers a line longer than MAX_FRAME_BYTES without a newline with FRAME_TOO_LARGE and closes', async () => {
    const bystander = await pool.login('bystander-line', 'line');
    const c = await pool.login('long-line-1', 'line');
    const closed = serverClose(gw, serverSideOf(c));
    c.writeRaw(`{"type":"HEART","pad":"${'x'.repeat(2000)}`);
    expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'FRAME_TOO_LARGE', message: expect.stringContaining('MAX_FRAME_BYTES (1024)') });
    await c.waitClosed();
    expect((await closed).event.reason).toBe('frame_too_large');
    expect(await heartRoundTrip(bystander)).toMatchObject({ ok: true });
  });

  it('refuses a complete line over the limit the same way', async () => {
    const c = await pool.login('long-line-2', 'line');
    c.writeRaw(`{"type":"HEART","pad":"${'x'.repeat(2000)}"}\n`);
    expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await c.waitClosed();
  });

  it('a transport event listener that throws is contained: the client is answered and later listeners still run', async () => {
    const seen: string[] = [];
    const failing = () => {
      throw new Error('listener bug');
    };
    // Sockets of earlier tests may still be closing: only this test's client counts.
    const recording = (conn: { clientId?: string }) => conn.clientId === 'listener-victim' && seen.push(conn.clientId);
    gw.server.on('login', failing).on('login', recording).on('ack', failing).on('close', failing).on('close', recording);
    try {
      const c = await pool.login('listener-victim');
      c.send({ type: 'ACK', id: 'cmd-1', ok: true });
      expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
      const closed = serverClose(gw, serverSideOf(c));
      c.close();
      await closed;
      expect(seen).toEqual(['listener-victim', 'listener-victim']);
    } finally {
      gw.server.off('login', failing).off('login', recording).off('ack', failing).off('close', failing).off('close', recording);
    }
  });

  it('a client resetting its socket mid-frame does not disturb the others', async () => {
    const bystander = await pool.login('bystander-rst');
    const c = await pool.login('rst-1');
    const closed = serverClose(gw, serverSideOf(c));
    c.writeRaw(rawFrame(c, '{"type":"HEART"}').subarray(0, 7));
    c.socket.resetAndDestroy();
    expect((await closed).event.reason).toMatch(/^(socket_error|peer_closed)/);
    expect(gw.server.getConnection('rst-1')).toBeUndefined();
    expect(await heartRoundTrip(bystander)).toMatchObject({ ok: true });
  });
});
