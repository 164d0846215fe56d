import { CommandService } from '../../../src/commands/command.service';
import { FakeClock } from '../../../src/common/clock';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

const TTL = 60_000;
const RETENTION = 3_600_000;

/** Expiry and retention driven by a FakeClock: hours pass in microseconds. */
describe('commands e2e: expiry and retention (fake clock)', () => {
  let gw: TestGateway;
  let clock: FakeClock;
  let commands: CommandService;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    clock = new FakeClock();
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, COMMAND_TTL_MS: TTL, COMMAND_RETENTION_MS: RETENTION }, { clock });
    commands = gw.app.get(CommandService);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await gw.close();
  });

  it('expires a pending command exactly at expiresAt (default COMMAND_TTL_MS)', async () => {
    const res = await api(gw).post('/clients/fc-1/commands').send({ name: 'later', queue: true }).expect(202);
    expect(res.body.expiresAt).toBe(clock.now() + TTL);
    clock.advance(TTL - 1);
    await commands.sweep();
    expect((await api(gw).get(`/commands/${res.body.id}`).expect(200)).body.status).toBe('queued');
    clock.advance(1);
    expect(await commands.sweep()).toMatchObject({ expired: 1 });
    const expired = (await api(gw).get(`/commands/${res.body.id}`).expect(200)).body;
    expect(expired).toMatchObject({ status: 'expired', finishedAt: clock.now(), attempts: 0 });

    // Its client arrives later: the expired command is not sent.
    const c = await loggedIn(gw, 'fc-1');
    clients.push(c);
    await api(gw).post('/clients/fc-1/commands').send({ name: 'fresh' }).expect(202);
    expect(await c.nextOfType('CMD')).toMatchObject({ name: 'fresh' });
  });

  it('never sends a command that expired before the LOGIN, even before any sweep', async () => {
    const res = await api(gw).post('/clients/fc-2/commands').send({ name: 'stale', queue: true, ttlMs: 1000 }).expect(202);
    clock.advance(1000);
    const c = await loggedIn(gw, 'fc-2');
    clients.push(c);
    expect((await commands.waitForOutcome(res.body.id, 5000))?.status).toBe('expired');
    await api(gw).post('/clients/fc-2/commands').send({ name: 'fresh' }).expect(202);
    expect(await c.nextOfType('CMD')).toMatchObject({ name: 'fresh' });
  });

  it('keeps a finished command COMMAND_RETENTION_MS, then removes it', async () => {
    const c = await loggedIn(gw, 'fc-3');
    clients.push(c);
    const posted = api(gw).post('/clients/fc-3/commands').send({ name: 'done', waitMs: 5000 }).then((r) => r);
    const cmd = await c.nextOfType('CMD');
    c.send({ type: 'ACK', id: cmd.id, ok: true });
    expect((await posted).body.status).toBe('acked');
    clock.advance(RETENTION - 1);
    await commands.sweep();
    await api(gw).get(`/commands/${cmd.id}`).expect(200);
    clock.advance(1);
    expect((await commands.sweep()).removed).toBeGreaterThanOrEqual(1);
    const gone = await api(gw).get(`/commands/${cmd.id}`).expect(404);
    expect(gone.body.message).toContain('COMMAND_RETENTION_MS');
  });
});
