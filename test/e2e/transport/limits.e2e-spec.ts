import type { Framing } from '../../../src/transport/codec';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { ClientPool, heartRoundTrip, lengthFrame, serverClose, serverSideOf } from './helpers';

/** The bounds that keep one server healthy: MAX_CONNECTIONS and MAX_OUTBOUND_BYTES. */
describe('transport: limits', () => {
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);
  afterEach(() => pool.closeAll());

  describe('MAX_CONNECTIONS=2', () => {
    beforeAll(async () => {
      gw = await startTestGateway({ MAX_CONNECTIONS: 2 });
    });
    afterAll(() => gw.close());

    it.each<Framing>(['length', 'line'])('answers one more with ERROR SERVER_FULL in its own framing (%s), then closes it', async (framing) => {
      const first = await pool.login(`full-a-${framing}`);
      const second = await pool.login(`full-b-${framing}`, 'line');
      const third = await pool.connect(framing);
      third.send({ type: 'LOGIN', clientId: `full-c-${framing}` });
      expect(await third.next()).toEqual({ type: 'ERROR', code: 'SERVER_FULL', message: 'server holds MAX_CONNECTIONS (2) connections' });
      await third.waitClosed();
      expect(gw.server.getConnection(`full-c-${framing}`)).toBeUndefined();
      expect(await heartRoundTrip(first)).toMatchObject({ ok: true });
      expect(await heartRoundTrip(second)).toMatchObject({ ok: true });
      // A freed place is taken again.
      const gone = serverClose(gw, serverSideOf(first));
      first.close();
      await gone;
      const fourth = await pool.login(`full-d-${framing}`);
      expect(await heartRoundTrip(fourth)).toMatchObject({ ok: true });
      // The server must have seen both go before the next case fills it again.
      const rest = [serverClose(gw, serverSideOf(second)), serverClose(gw, serverSideOf(fourth))];
      second.close();
      fourth.close();
      await Promise.all(rest);
      expect(gw.server.connectionCount).toBe(0);
    });
  });

  describe('MAX_CONNECTIONS=1 under a burst of refused connects', () => {
    beforeAll(async () => {
      gw = await startTestGateway({ MAX_CONNECTIONS: 1 });
    });
    afterAll(() => gw.close());

    it('answers every one of 100 silent refused sockets with SERVER_FULL (past 64 waiting, at once), drops none', async () => {
      // Regression: refused sockets beyond the 64 that may wait for a first
      // byte used to be destroyed without a word; a bench at 19,000 + 600 saw 122.
      const first = await pool.login('burst-holder');
      const refused = await Promise.all(Array.from({ length: 100 }, () => pool.connect('length')));
      const answers = await Promise.all(refused.map((c) => c.next(() => true, 5000)));
      expect(answers.filter((a) => typeof a === 'object' && 'code' in a && a.code === 'SERVER_FULL')).toHaveLength(100);
      await Promise.all(refused.map((c) => c.waitClosed()));
      expect(await heartRoundTrip(first)).toMatchObject({ ok: true });
      expect(gw.server.stats.rejectedFull).toBe(100);
    });
  });

  describe('MAX_OUTBOUND_BYTES=1024', () => {
    beforeAll(async () => {
      gw = await startTestGateway({ MAX_OUTBOUND_BYTES: 1024 });
    });
    afterAll(() => gw.close());

    it('closes a client that does not read while the server writes to it (outbound_overflow)', async () => {
      const c = await pool.login('slow-reader');
      c.socket.pause();
      const conn = gw.server.getConnection('slow-reader');
      if (!conn) throw new Error('no connection for slow-reader');
      const closed = serverClose(gw, (e) => e.connectionId === conn.id);
      const data = 'x'.repeat(60_000);
      let written = 0;
      // The kernel's socket buffers take some megabytes first; the bound applies to what is left over.
      for (let i = 0; !conn.closed && written < 256 * 1024 * 1024; i++) {
        conn.send('CMD', { id: `c${i}`, name: 'fill', data });
        written += data.length;
      }
      expect(conn.closed).toBe(true);
      expect(conn.closeReason).toBe('outbound_overflow');
      expect((await closed).event).toMatchObject({ reason: 'outbound_overflow', wasCurrent: true });
      expect(gw.server.getConnection('slow-reader')).toBeUndefined();
      c.socket.resume();
      await c.waitClosed();
    });

    it('does not count the replies to one pipelined read against the bound before they are flushed', async () => {
      const c = await pool.login('pipeliner');
      const n = 200; // ~11 KB of HEART answers to one read, far over 1024 while they are batched
      c.writeRaw(Buffer.concat(Array.from({ length: n }, () => lengthFrame('{"type":"HEART"}'))));
      for (let i = 0; i < n; i++) await c.nextOfType('HEART');
      expect(gw.server.getConnection('pipeliner')?.closed).toBe(false);
    });

    it('does not close a client that reads, even when one frame is larger than the bound', async () => {
      const c = await pool.login('fast-reader');
      const conn = gw.server.getConnection('fast-reader');
      if (!conn) throw new Error('no connection for fast-reader');
      for (let i = 0; i < 5; i++) {
        conn.send('CMD', { id: `f${i}`, name: 'big', data: 'y'.repeat(20_000) });
        expect(await c.nextOfType('CMD')).toMatchObject({ id: `f${i}` });
      }
      expect(conn.closed).toBe(false);
      expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    });
  });
});
