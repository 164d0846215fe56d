import { CommandService } from '../../../src/commands/command.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

/**
 * The broadcast fast path over real sockets: the CMD is written straight to
 * each connection in its own framing and type key, its ACK is recorded, and a
 * client at MAX_QUEUED_COMMANDS is skipped without being written to.
 */
describe('commands e2e: fan-out', () => {
  let gw: TestGateway;
  let commands: CommandService;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_QUEUED_COMMANDS: 1 });
    commands = gw.app.get(CommandService);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(() => gw.close());

  it('writes the CMD in each client\'s framing and type key, and records every ACK', async () => {
    const plain = await loggedIn(gw, 'fan-plain');
    const script = await RawClient.connect(gw.tcpPort, { framing: 'line' });
    clients.push(plain, script);
    script.send({ code: 'LOGIN', clientId: 'fan-script' });
    expect(await script.nextOfType('LOGIN')).toMatchObject({ code: 'LOGIN', ok: true });

    const res = await api(gw)
      .post('/commands/broadcast')
      .send({ name: 'cfg', data: { v: 3 }, filter: { clientIds: ['fan-plain', 'fan-script'] } })
      .expect(202);
    expect(res.body).toMatchObject({ count: 2 });
    const [a, b] = await Promise.all([plain.nextOfType('CMD'), script.nextOfType('CMD')]);
    expect(a).toMatchObject({ type: 'CMD', name: 'cfg', data: { v: 3 } });
    expect(b).toMatchObject({ code: 'CMD', name: 'cfg', data: { v: 3 } });
    expect(b).not.toHaveProperty('type');

    const outcomes = Promise.all([a, b].map((f) => commands.waitForOutcome(f.id as string, 5000)));
    plain.send({ type: 'ACK', id: a.id, ok: true });
    script.send({ code: 'ACK', id: b.id, ok: false, error: { code: 'BUSY', message: 'later' } });
    expect((await outcomes).map((c) => c?.status)).toEqual(['acked', 'failed']);
    const listed = await api(gw).get(`/commands?batchId=${res.body.batchId}`).expect(200);
    expect(listed.body.items.map((c: { status: string; attempts: number }) => [c.status, c.attempts])).toEqual([
      ['acked', 1],
      ['failed', 1],
    ]);
  });

  it('skips a connected client whose queue is full, and writes nothing to it', async () => {
    const full = await loggedIn(gw, 'fan-full');
    const free = await loggedIn(gw, 'fan-free');
    clients.push(full, free);
    await api(gw).post('/clients/fan-full/commands').send({ name: 'never-acked' }).expect(202);
    expect(await full.nextOfType('CMD')).toMatchObject({ name: 'never-acked' });

    const res = await api(gw)
      .post('/commands/broadcast')
      .send({ name: 'more', filter: { clientIds: ['fan-full', 'fan-free'] } })
      .expect(202);
    expect(res.body).toMatchObject({ count: 1, skipped: { queueFull: 1 } });
    expect(await free.nextOfType('CMD')).toMatchObject({ name: 'more' });
    // The HEART answer comes after anything written before it: no CMD came first.
    full.send({ type: 'HEART' });
    await full.nextOfType('HEART');
    expect(full.frames).toEqual([]);
  });
});
