import * as net from 'node:net';
import { once } from 'node:events';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { ClientPool, serverClose, serverSideOf } from './helpers';

/** Graceful shutdown (app.close()): stop accepting, KICK shutdown to everyone, bounded by SHUTDOWN_GRACE_MS. */
describe('transport: graceful shutdown', () => {
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);
  afterEach(async () => {
    pool.closeAll();
    await gw.close();
  });

  it('sends KICK {reason:"shutdown"} to every client in its framing and closes their sockets', async () => {
    gw = await startTestGateway({ SHUTDOWN_GRACE_MS: 2000 });
    const a = await pool.login('shut-a');
    const b = await pool.login('shut-b', 'line');
    const alias = await pool.connect('line');
    alias.send({ code: 'LOGIN', clientId: 'shut-alias' });
    await alias.nextOfType('LOGIN');
    const anonymous = await pool.connect(); // connected, not logged in: told too
    const reasons: string[] = [];
    gw.server.on('close', (e) => {
      reasons.push(e.reason);
    });
    const started = Date.now();
    await gw.close();
    // Clients that read and close promptly don't make shutdown wait for the grace.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await a.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'shutdown' });
    expect(await b.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'shutdown' });
    expect(await alias.nextOfType('KICK')).toEqual({ code: 'KICK', reason: 'shutdown' });
    expect(await anonymous.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'shutdown' });
    await Promise.all([a, b, alias, anonymous].map((c) => c.waitClosed()));
    expect(reasons).toEqual(['shutdown', 'shutdown', 'shutdown', 'shutdown']);
    expect(gw.server.connectionCount).toBe(0);
  });

  it('finishes within SHUTDOWN_GRACE_MS when a client never reads nor closes', async () => {
    const grace = 300;
    gw = await startTestGateway({ SHUTDOWN_GRACE_MS: grace });
    const stuck = await pool.login('stuck');
    const fine = await pool.login('fine');
    stuck.socket.pause();
    const stuckGone = serverClose(gw, serverSideOf(stuck));
    const started = Date.now();
    await gw.close();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(grace + 400);
    expect((await stuckGone).event.reason).toBe('shutdown');
    expect(await fine.nextOfType('KICK')).toMatchObject({ reason: 'shutdown' });
    stuck.socket.resume();
    expect(await stuck.nextOfType('KICK')).toMatchObject({ reason: 'shutdown' });
    await stuck.waitClosed();
  });

  it('accepts no new connection once shutting down', async () => {
    gw = await startTestGateway();
    const port = gw.tcpPort;
    await gw.close();
    expect(gw.server.isShuttingDown).toBe(true);
    const socket = net.connect(port, '127.0.0.1');
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });
});
