import { CommandService } from '../../../src/commands/command.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

const CLIENTS = 1000;

/** A broadcast reaches every matching client; its commands are listed by batchId. */
describe('commands e2e: broadcast', () => {
  let gw: TestGateway;
  let commands: CommandService;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_CONNECTIONS: CLIENTS + 50 });
    commands = gw.app.get(CommandService);
    // Logged in in batches of 100, so as not to flood the listen backlog.
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, j) => loggedIn(gw, `fleet-${String(i + j).padStart(4, '0')}`, { group: (i + j) % 2 === 0 ? 'even' : 'odd' })),
      );
      clients.push(...batch);
    }
  }, 20_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await gw.close();
  });

  it(`reaches all ${CLIENTS} clients, each acks, and GET /commands?batchId= lists them all acked`, async () => {
    // Every client acks the CMD it receives, with its own id as the result.
    const received = clients.map((c, i) =>
      c.nextOfType('CMD', 15_000).then((cmd) => {
        c.send({ type: 'ACK', id: cmd.id, ok: true, result: { i } });
        return cmd;
      }),
    );
    const res = await api(gw).post('/commands/broadcast').send({ name: 'config', data: { v: 2 } }).expect(202);
    expect(res.body).toEqual({ batchId: expect.any(String), count: CLIENTS, skipped: { closed: 0, unknown: 0, queueFull: 0 } });
    const cmds = await Promise.all(received);
    expect(new Set(cmds.map((c) => c.id)).size).toBe(CLIENTS);
    expect(cmds.every((c) => c.name === 'config' && (c.data as { v: number }).v === 2)).toBe(true);
    await Promise.all(cmds.map((c) => commands.waitForOutcome(c.id as string, 10_000)));

    const acked: Array<{ clientId: string; status: string; batchId: string }> = [];
    let cursor: string | undefined;
    do {
      const page = await api(gw)
        .get(`/commands?batchId=${res.body.batchId}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`)
        .expect(200);
      expect(page.body.total).toBe(CLIENTS);
      acked.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(acked).toHaveLength(CLIENTS);
    expect(acked.every((c) => c.status === 'acked' && c.batchId === res.body.batchId)).toBe(true);
    expect(new Set(acked.map((c) => c.clientId)).size).toBe(CLIENTS);
  }, 20_000);

  it('sends only to the clients matching the filter', async () => {
    const even = clients.filter((_, i) => i % 2 === 0);
    const got = even.slice(0, 3).map((c) => c.nextOfType('CMD', 5000));
    const res = await api(gw).post('/commands/broadcast').send({ name: 'even-only', filter: { meta: { group: 'even' } } }).expect(202);
    expect(res.body.count).toBe(CLIENTS / 2);
    expect((await Promise.all(got)).every((c) => c.name === 'even-only')).toBe(true);
    const listed = await api(gw).get(`/commands?batchId=${res.body.batchId}&limit=1`).expect(200);
    expect(listed.body.total).toBe(CLIENTS / 2);
    expect(listed.body.items[0].clientId).toBe('fleet-0000');
  });

  it('skips unknown clientIds unless queue:true', async () => {
    const named = await api(gw).post('/commands/broadcast').send({ name: 'named', filter: { clientIds: ['fleet-0001', 'ghost-1'] } }).expect(202);
    expect(named.body).toMatchObject({ count: 1, skipped: { unknown: 1 } });
    const queued = await api(gw)
      .post('/commands/broadcast')
      .send({ name: 'named', queue: true, filter: { clientIds: ['ghost-1'] } })
      .expect(202);
    expect(queued.body).toMatchObject({ count: 1, skipped: { unknown: 0 } });
    const ghost = await loggedIn(gw, 'ghost-1');
    clients.push(ghost);
    expect(await ghost.nextOfType('CMD')).toMatchObject({ name: 'named' });
  });
});
