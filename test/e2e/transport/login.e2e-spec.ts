import type { Connection } from '../../../src/transport/connection';
import type { LoginEvent } from '../../../src/transport/long-link.server';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { ClientPool, heartRoundTrip, serverClose, serverSideOf } from './helpers';

/** LOGIN rules of docs/PROTOCOL.md §2: deadline, order, AUTH_MODE, tokens, takeover. */
describe('transport: login', () => {
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);
  afterEach(() => pool.closeAll());

  describe('AUTH_MODE=none', () => {
    beforeAll(async () => {
      gw = await startTestGateway({ AUTH_MODE: 'none', LOGIN_TIMEOUT_MS: 100 });
    });
    afterAll(() => gw.close());

    it('closes a client that sends no LOGIN within LOGIN_TIMEOUT_MS with ERROR LOGIN_TIMEOUT', async () => {
      const started = Date.now();
      const c = await pool.connect();
      const closed = serverClose(gw, serverSideOf(c));
      expect(await c.nextOfType('ERROR')).toMatchObject({ type: 'ERROR', code: 'LOGIN_TIMEOUT' });
      await c.waitClosed();
      expect((await closed).event.reason).toBe('login_timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    });

    it('a first HEART logs the client in implicitly under ip:port, and is answered as a HEART', async () => {
      const c = await pool.connect('line');
      const login = new Promise<LoginEvent>((resolve) => gw.server.on('login', (e) => resolve(e)));
      c.send({ type: 'HEART', status: 'booting' });
      expect(await c.nextOfType('HEART')).toMatchObject({ ok: true });
      const event = await login;
      const id = `127.0.0.1:${c.socket.localPort}`;
      expect(event.clientId).toBe(id);
      expect(event.implicit).toBe(true);
      const conn = gw.server.getConnection(id) as Connection;
      expect(conn.id).toBe(event.connectionId);
      expect(conn.reported).toMatchObject({ status: 'booting' });
      // No LOGIN answer for a LOGIN that was never sent.
      expect(c.frames).toEqual([]);
    });

    it("a first HEART with a clientId logs in under that id", async () => {
      const c = await pool.connect();
      c.send({ type: 'HEART', clientId: 'heart-id-1' });
      await c.nextOfType('HEART');
      expect(gw.server.getConnection('heart-id-1')?.remotePort).toBe(c.socket.localPort);
    });

    it('refuses an implicit login under a clientId the protocol does not allow', async () => {
      const c = await pool.connect();
      c.send({ type: 'HEART', clientId: 'has spaces/and slashes' });
      expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'BAD_MESSAGE' });
      expect(gw.server.getConnection('has spaces/and slashes')).toBeUndefined();
    });

    it('a zero-length first frame logs in implicitly and is answered with a zero-length frame', async () => {
      const c = await pool.connect();
      c.writeRaw(Buffer.alloc(4));
      expect(await c.next()).toBe('EMPTY');
      expect(gw.server.getConnection(`127.0.0.1:${c.socket.localPort}`)?.loggedIn).toBe(true);
    });

    it('LOGIN without a clientId gets ip:port', async () => {
      const c = await pool.connect();
      expect(await c.login()).toMatchObject({ ok: true, clientId: `127.0.0.1:${c.socket.localPort}` });
    });

    it('takeover: a second LOGIN for the same clientId KICKs the first (replaced) and keeps the second', async () => {
      const first = await pool.login('twin');
      const firstClosed = serverClose(gw, serverSideOf(first));
      const second = await pool.login('twin', 'line');
      expect(await first.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'replaced' });
      await first.waitClosed();
      expect((await firstClosed).event).toMatchObject({ reason: 'replaced', wasCurrent: false });
      expect(await heartRoundTrip(second)).toMatchObject({ ok: true });
      expect(gw.server.getConnection('twin')?.remotePort).toBe(second.socket.localPort);
      expect(gw.server.getConnection('twin')?.closed).toBe(false);
    });

    it('BYE closes the connection with reason logout', async () => {
      const c = await pool.login('bye-1');
      const closed = serverClose(gw, serverSideOf(c));
      c.send({ type: 'BYE' });
      await c.waitClosed();
      expect((await closed).event).toMatchObject({ reason: 'logout', wasCurrent: true });
      expect(gw.server.getConnection('bye-1')).toBeUndefined();
    });
  });

  describe('AUTH_MODE=token', () => {
    beforeAll(async () => {
      gw = await startTestGateway({ AUTH_MODE: 'token', AUTH_TOKENS: 'a:secret,b:other', AUTH_TOKEN: 'shared-token' });
    });
    afterAll(() => gw.close());

    it('answers a HEART before LOGIN with ERROR NOT_LOGGED_IN and closes', async () => {
      const c = await pool.connect();
      const closed = serverClose(gw, serverSideOf(c));
      c.send({ type: 'HEART' });
      expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'NOT_LOGGED_IN' });
      await c.waitClosed();
      expect((await closed).event.reason).toBe('not_logged_in');
    });

    it('answers a zero-length heartbeat before LOGIN with NOT_LOGGED_IN too', async () => {
      const c = await pool.connect();
      c.writeRaw(Buffer.alloc(4));
      expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'NOT_LOGGED_IN' });
      await c.waitClosed();
    });

    it('refuses a wrong token: LOGIN ok:false AUTH_FAILED, then close', async () => {
      const c = await pool.connect();
      const closed = serverClose(gw, serverSideOf(c));
      expect(await c.login('a', { token: 'guess' })).toEqual({
        type: 'LOGIN',
        ok: false,
        error: { code: 'AUTH_FAILED', message: expect.any(String) },
      });
      await c.waitClosed();
      expect((await closed).event.reason).toBe('auth_failed');
      expect(gw.server.getConnection('a')).toBeUndefined();
    });

    it('refuses a LOGIN without a token', async () => {
      const c = await pool.connect();
      expect(await c.login('a')).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
      await c.waitClosed();
    });

    it("refuses another client's token (AUTH_TOKENS binds a token to its clientId)", async () => {
      const c = await pool.connect();
      expect(await c.login('a', { token: 'other' })).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
      await c.waitClosed();
    });

    it('accepts the clientId:token pair from AUTH_TOKENS', async () => {
      const c = await pool.connect('line');
      expect(await c.login('a', { token: 'secret' })).toMatchObject({ ok: true, clientId: 'a' });
      expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    });

    it('accepts the shared AUTH_TOKEN for any clientId', async () => {
      const c = await pool.connect();
      expect(await c.login('anyone-7', { token: 'shared-token' })).toMatchObject({ ok: true, clientId: 'anyone-7' });
      expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    });
  });
});
