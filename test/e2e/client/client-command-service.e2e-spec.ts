import request from 'supertest';
import { LongLinkClient } from '../../../src/client';
import { CommandService } from '../../../src/commands/command.service';
import type { CloseEvent } from '../../../src/transport/transport.events';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { FAST, nextEvent, nextStatus } from './helpers';

/** The SDK with the gateway's real CommandService: queueing, redelivery after LOGIN, outcomes. */
describe('LongLinkClient with CommandService', () => {
  let gw: TestGateway;
  let commands: CommandService;
  const clients: LongLinkClient[] = [];
  const client = (clientId: string, extra: Partial<ConstructorParameters<typeof LongLinkClient>[0]> = {}) => {
    const c = new LongLinkClient({ host: '127.0.0.1', port: gw.tcpPort, clientId, ...FAST, ...extra });
    clients.push(c);
    return c;
  };
  /** Resolves when the gateway has seen this client's connection close. */
  const serverSideClose = (clientId: string) =>
    new Promise<void>((resolve) => {
      const listener = (event: CloseEvent) => {
        if (event.clientId !== clientId) return;
        gw.server.off('close', listener);
        resolve();
      };
      gw.server.on('close', listener);
    });

  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS: 50 });
    commands = gw.app.get(CommandService);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => gw.close());

  it('a command queued while the client\'s network was cut is executed once it is back', async () => {
    // A fixed 150 ms reconnect delay (random pinned to the top of the range) leaves a window to queue in.
    const c = client('cut-cmd-1', { reconnect: { minDelayMs: 150, maxDelayMs: 150, random: () => 0.999999 } });
    const ran: unknown[] = [];
    c.onCommand('set-led', (data) => {
      ran.push(data);
      return { led: (data as { color: string }).color };
    });
    await c.connect();
    const closed = serverSideClose('cut-cmd-1');
    const lost = nextStatus(c, 'reconnecting');
    gw.server.getConnection('cut-cmd-1')!.socket.destroy();
    await closed;
    const queued = await commands.send('cut-cmd-1', 'set-led', { color: 'green' });
    expect(queued.status).toBe('queued');
    expect((await lost).reason).toBe('server closed the connection');
    expect(ran).toEqual([]);

    const outcome = await commands.waitForOutcome(queued.id, 3000);
    expect(outcome).toMatchObject({ status: 'acked', result: { led: 'green' }, attempts: 1 });
    expect(ran).toEqual([{ color: 'green' }]);
    expect(c.status).toBe('online');
  });

  it('a command sent but not acked when the connection dropped is redelivered and still runs once', async () => {
    const c = client('redeliver-1');
    let runs = 0;
    let release!: () => void;
    c.onCommand('update', () => {
      runs++;
      return new Promise((resolve) => (release = () => resolve('updated')));
    });
    await c.connect();
    const started = nextEvent(c, 'command');
    const sent = await commands.send('redeliver-1', 'update', { v: 2 });
    expect(sent.status).toBe('sent');
    await started;
    // Cut while the handler runs: the gateway sends the command again after the next LOGIN.
    const redelivered = nextEvent(c, 'command', (e) => e.duplicate);
    gw.server.getConnection('redeliver-1')!.socket.destroy();
    expect(await redelivered).toMatchObject({ id: sent.id, name: 'update', duplicate: true });
    release();
    const outcome = await commands.waitForOutcome(sent.id, 3000);
    expect(outcome).toMatchObject({ status: 'acked', result: 'updated', attempts: 2 });
    expect(runs).toBe(1);
  });

  it('the HTTP admin API sees the SDK client online and gets its ACK (the README loop)', async () => {
    const c = client('http-1', { meta: { model: 'demo' } });
    c.onCommand('echo', (data) => data);
    c.onCommand('fail', () => {
      throw Object.assign(new Error('as asked'), { code: 'DEVICE_FAILURE' });
    });
    await c.connect();
    const record = await request(gw.httpUrl).get('/clients/http-1').expect(200);
    expect(record.body).toMatchObject({ clientId: 'http-1', status: 'alive', connected: true });
    const ok = await request(gw.httpUrl).post('/clients/http-1/commands').send({ name: 'echo', data: { hi: 1 }, waitMs: 3000 }).expect(200);
    expect(ok.body).toMatchObject({ status: 'acked', result: { hi: 1 } });
    const failed = await request(gw.httpUrl).post('/clients/http-1/commands').send({ name: 'fail', waitMs: 3000 }).expect(200);
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'DEVICE_FAILURE', message: 'as asked' } });
  });
});
