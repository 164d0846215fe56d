import * as net from 'node:net';
import { ClientClosedError, LongLinkClient } from '../../../src/client';
import { SESSION_CONTROL, SessionControl } from '../../../src/common/ports';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { AckRecorder, FAST, nextEvent, nextStatus, pushCommand, recordStatuses, waitUntil } from './helpers';

const HEARTBEAT_MS = 50;

describe('LongLinkClient: reconnect', () => {
  const gateways: TestGateway[] = [];
  const clients: LongLinkClient[] = [];
  const gateway = async (env: Record<string, string | number> = {}) => {
    const gw = await startTestGateway({ HEARTBEAT_MS, ...env });
    gateways.push(gw);
    return gw;
  };
  const client = (port: number, clientId: string, extra: Partial<ConstructorParameters<typeof LongLinkClient>[0]> = {}) => {
    const c = new LongLinkClient({ host: '127.0.0.1', port, clientId, ...FAST, ...extra });
    c.onCommand('echo', (data) => data);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(gateways.splice(0).map((g) => g.close()));
  });

  it('survives a gateway restart on the same port: logs in again and runs a command sent after it', async () => {
    const first = await gateway();
    const port = first.tcpPort;
    const c = client(port, 'restart-1');
    const statuses = recordStatuses(c);
    await c.connect();
    const firstSession = c.session!.sessionId;

    const kicked = nextEvent(c, 'kicked');
    const lost = nextStatus(c, 'reconnecting');
    await first.close();
    expect(await kicked).toEqual({ reason: 'shutdown', willReconnect: true });
    expect((await lost).from).toBe('online');
    // While nothing listens on the port the attempts are refused and backed off.
    await nextEvent(c, 'reconnect_scheduled', (r) => r.attempt >= 2 && /ECONNREFUSED/.test(r.reason));

    const second = await gateway({ TCP_PORT: port });
    expect(second.tcpPort).toBe(port);
    await nextStatus(c, 'online');
    expect(c.session!.sessionId).not.toBe(firstSession);
    expect(second.server.stats.logins).toBe(1);
    expect(c.reconnectAttempts).toBe(0);

    const acks = new AckRecorder(second.server);
    const ack = acks.next('after-restart');
    pushCommand(second.server, 'restart-1', { id: 'after-restart', name: 'echo', data: { n: 2 } });
    expect(await ack).toEqual({ type: 'ACK', id: 'after-restart', ok: true, result: { n: 2 } });
    acks.stop();
    expect(statuses.map((s) => s.to)).toEqual(['connecting', 'online', 'reconnecting', 'online']);
    expect(statuses[3].reason).toBe('logged in again');
  });

  it('reconnects when its socket is cut while the gateway stays up, and takes commands on the new connection', async () => {
    const gw = await gateway();
    const c = client(gw.tcpPort, 'cut-1');
    await c.connect();
    const oldConn = gw.server.getConnection('cut-1')!;
    const lost = nextStatus(c, 'reconnecting');
    const back = nextStatus(c, 'online');
    oldConn.socket.destroy();
    expect((await lost).reason).toBe('server closed the connection');
    await back;
    const newConn = gw.server.getConnection('cut-1')!;
    expect(newConn).not.toBe(oldConn);
    const acks = new AckRecorder(gw.server);
    const ack = acks.next('after-cut');
    pushCommand(gw.server, 'cut-1', { id: 'after-cut', name: 'echo', data: 'hi' });
    expect(await ack).toMatchObject({ ok: true, result: 'hi' });
    acks.stop();
  });

  it('emits reconnect_failed and closes after maxAttempts failed attempts against a closed port', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));

    const c = client(port, 'nowhere-1', { reconnect: { minDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 } });
    const scheduled: number[] = [];
    c.on('reconnect_scheduled', (r) => scheduled.push(r.attempt));
    const failed = nextEvent(c, 'reconnect_failed');
    const error = await c.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientClosedError);
    expect((error as Error).message).toMatch(/^connect\(\): client is closed \(gave up after 3 reconnect attempts \(maxAttempts 3\); last: ECONNREFUSED/);
    expect(await failed).toMatchObject({ attempts: 3, reason: expect.stringMatching(/ECONNREFUSED/) });
    expect(scheduled).toEqual([1, 2, 3]);
    expect(c.status).toBe('closed');
  });

  it('maxAttempts counts attempts in a row: getting online starts the count again', async () => {
    const gw = await gateway();
    const c = client(gw.tcpPort, 'count-1', { reconnect: { minDelayMs: 1, maxDelayMs: 5, maxAttempts: 1 } });
    await c.connect();
    for (let i = 0; i < 3; i++) {
      const back = nextStatus(c, 'online');
      gw.server.getConnection('count-1')!.socket.destroy();
      await back;
    }
    expect(c.status).toBe('online');
  });

  it('a second client with the same id takes over: the first is kicked (replaced) and stays closed', async () => {
    const gw = await gateway();
    const a = client(gw.tcpPort, 'twin');
    await a.connect();
    const kicked = nextEvent(a, 'kicked');
    const closed = nextStatus(a, 'closed');
    const b = client(gw.tcpPort, 'twin');
    await b.connect();
    expect(await kicked).toEqual({ reason: 'replaced', willReconnect: false });
    expect(await closed).toEqual({ from: 'online', to: 'closed', reason: 'kicked: replaced' });
    // Proof of no fight over the id: after many of b's heartbeats, still only the two logins.
    const before = gw.server.stats.heartbeats;
    await waitUntil('6 more heartbeats', () => gw.server.stats.heartbeats - before >= 6, 3000);
    expect(gw.server.stats.logins).toBe(2);
    expect(gw.server.getConnection('twin')).toBeDefined();
    expect(b.status).toBe('online');
    expect(a.status).toBe('closed');
    await expect(a.connect()).rejects.toThrow('client is closed (kicked: replaced)');
  });

  it('an admin kick (reason kicked) is followed by a reconnect; stopOnKick can make it final', async () => {
    const gw = await gateway();
    const a = client(gw.tcpPort, 'kick-a');
    const b = client(gw.tcpPort, 'kick-b', { stopOnKick: ['replaced', 'kicked'] });
    await Promise.all([a.connect(), b.connect()]);
    const aBack = nextEvent(a, 'online');
    const bClosed = nextStatus(b, 'closed');
    await gw.app.get<SessionControl>(SESSION_CONTROL).kick('kick-a', 'kicked');
    await gw.app.get<SessionControl>(SESSION_CONTROL).kick('kick-b', 'kicked');
    await aBack;
    expect((await bClosed).reason).toBe('kicked: kicked');
  });
});
