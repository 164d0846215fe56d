import { CommandService } from '../../../src/commands/command.service';
import { PresenceService } from '../../../src/presence/presence.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, first, loggedIn, TOKEN } from '../admin/admin-helpers';

/** Commands over real HTTP and real sockets (docs/PROTOCOL.md §4). */
describe('commands e2e', () => {
  let gw: TestGateway;
  let presence: PresenceService;
  let commands: CommandService;
  const clients: RawClient[] = [];
  const connect = async (id: string) => {
    const c = await loggedIn(gw, id);
    clients.push(c);
    return c;
  };
  /** Close the socket and wait until presence has seen the client leave. */
  const drop = async (c: RawClient, id: string) => {
    const left = first(presence.events$, (e) => e.clientId === id && e.to === 'leave');
    c.close();
    await left;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_QUEUED_COMMANDS: 3 });
    presence = gw.app.get(PresenceService);
    commands = gw.app.get(CommandService);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(() => gw.close());

  it('sends to a connected client at once; waitMs returns the acked outcome with 200', async () => {
    const c = await connect('cmd-ack');
    const posted = api(gw).post('/clients/cmd-ack/commands').send({ name: 'reboot', data: { delaySec: 5 }, waitMs: 5000 });
    const pending = posted.then((r) => r); // supertest sends on then()
    const cmd = await c.nextOfType('CMD');
    expect(cmd).toMatchObject({ name: 'reboot', data: { delaySec: 5 } });
    expect(typeof cmd.id).toBe('string');
    expect(cmd.expiresAt).toBeGreaterThan(Date.now());
    c.send({ type: 'ACK', id: cmd.id, ok: true, result: { rebooting: true } });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: cmd.id, clientId: 'cmd-ack', status: 'acked', result: { rebooting: true }, attempts: 1 });
    expect(res.body.ackedAt).toBeGreaterThanOrEqual(res.body.sentAt);
    const again = await api(gw).get(`/commands/${cmd.id}`).expect(200);
    expect(again.body.status).toBe('acked');
  });

  it('ACK ok:false makes the command failed, with the client error', async () => {
    const c = await connect('cmd-fail');
    const pending = api(gw).post('/clients/cmd-fail/commands').send({ name: 'update', waitMs: 5000 }).then((r) => r);
    const cmd = await c.nextOfType('CMD');
    c.send({ type: 'ACK', id: cmd.id, ok: false, error: { code: 'BUSY', message: 'updating already' } });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'BUSY', message: 'updating already' } });
  });

  it('answers 202 with the current state when not finished within waitMs (or without waitMs)', async () => {
    const c = await connect('cmd-slow');
    const res = await api(gw).post('/clients/cmd-slow/commands').send({ name: 'ping', waitMs: 30 }).expect(202);
    expect(res.body.status).toBe('sent');
    expect(res.headers.location).toBe(`/commands/${res.body.id}`);
    await c.nextOfType('CMD');
    const plain = await api(gw).post('/clients/cmd-slow/commands').send({ name: 'ping2' }).expect(202);
    expect(plain.body).toMatchObject({ status: 'sent', name: 'ping2' });
  });

  it('ignores an ACK from another client for a command it does not own', async () => {
    const owner = await connect('cmd-owner');
    const other = await connect('cmd-other');
    const res = await api(gw).post('/clients/cmd-owner/commands').send({ name: 'mine' }).expect(202);
    await owner.nextOfType('CMD');
    const stray = commands.strayAcks;
    other.send({ type: 'ACK', id: res.body.id, ok: true });
    other.send({ type: 'HEART' });
    await other.nextOfType('HEART'); // the ACK before it has been handled
    expect((await api(gw).get(`/commands/${res.body.id}`).expect(200)).body.status).toBe('sent');
    expect(commands.strayAcks).toBe(stray + 1);
  });

  it('queues commands for a dropped client and delivers them in order after its re-LOGIN', async () => {
    const c = await connect('cmd-away');
    await drop(c, 'cmd-away');
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const res = await api(gw).post('/clients/cmd-away/commands').send({ name, data: { n: ids.length } }).expect(202);
      expect(res.body.status).toBe('queued');
      ids.push(res.body.id);
    }
    const back = await connect('cmd-away');
    const received = [await back.nextOfType('CMD'), await back.nextOfType('CMD'), await back.nextOfType('CMD')];
    expect(received.map((f) => f.id)).toEqual(ids);
    expect(received.map((f) => f.name)).toEqual(['first', 'second', 'third']);
    const acked = Promise.all(ids.map((id) => commands.waitForOutcome(id, 5000)));
    for (const f of received) back.send({ type: 'ACK', id: f.id, ok: true });
    expect((await acked).map((r) => r?.status)).toEqual(['acked', 'acked', 'acked']);
    const list = await api(gw).get('/clients/cmd-away/commands').expect(200);
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(list.body.total).toBe(3);
  });

  it('re-sends a command that was sent but not acked after the client reconnects (at-least-once)', async () => {
    const c = await connect('cmd-resend');
    const res = await api(gw).post('/clients/cmd-resend/commands').send({ name: 'sync' }).expect(202);
    const firstCopy = await c.nextOfType('CMD');
    expect(firstCopy.id).toBe(res.body.id);
    await drop(c, 'cmd-resend'); // never acked
    expect((await api(gw).get(`/commands/${res.body.id}`).expect(200)).body.status).toBe('sent');
    const back = await connect('cmd-resend');
    const secondCopy = await back.nextOfType('CMD');
    expect(secondCopy).toMatchObject({ id: res.body.id, name: 'sync' });
    back.send({ type: 'ACK', id: secondCopy.id, ok: true });
    const outcome = await commands.waitForOutcome(res.body.id, 5000);
    expect(outcome).toMatchObject({ status: 'acked', attempts: 2 });
  });

  it('refuses an unknown client with 404, a closed one with 409, and queues for both with queue:true', async () => {
    const unknown = await api(gw).post('/clients/nobody-here/commands').send({ name: 'x' }).expect(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect(unknown.body.message).toContain("'nobody-here'");

    const c = await connect('cmd-closed');
    const closed = first(presence.events$, (e) => e.clientId === 'cmd-closed' && e.to === 'close');
    c.send({ type: 'BYE' });
    await closed;
    const conflict = await api(gw).post('/clients/cmd-closed/commands').send({ name: 'x' }).expect(409);
    expect(conflict.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    expect(conflict.body.message).toContain('logout');

    const queued = await api(gw).post('/clients/cmd-closed/commands').send({ name: 'later', queue: true }).expect(202);
    expect(queued.body.status).toBe('queued');
    const early = await api(gw).post('/clients/cmd-future/commands').send({ name: 'welcome', queue: true }).expect(202);
    const back = await connect('cmd-closed');
    expect((await back.nextOfType('CMD')).id).toBe(queued.body.id);
    const newcomer = await connect('cmd-future');
    expect((await newcomer.nextOfType('CMD')).id).toBe(early.body.id);
  });

  it('refuses the command over MAX_QUEUED_COMMANDS with 429 and keeps the queued ones', async () => {
    const c = await connect('cmd-full');
    await drop(c, 'cmd-full');
    for (let i = 0; i < 3; i++) await api(gw).post('/clients/cmd-full/commands').send({ name: `q${i}` }).expect(202);
    const res = await api(gw).post('/clients/cmd-full/commands').send({ name: 'q3' }).expect(429);
    expect(res.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(res.body.message).toContain('3 undelivered commands (MAX_QUEUED_COMMANDS 3)');
    const list = await api(gw).get('/clients/cmd-full/commands?status=queued').expect(200);
    expect(list.body.items.map((r: { name: string }) => r.name)).toEqual(['q0', 'q1', 'q2']);
    // Once delivered and acked, room again.
    const back = await connect('cmd-full');
    for (let i = 0; i < 3; i++) {
      const f = await back.nextOfType('CMD');
      back.send({ type: 'ACK', id: f.id, ok: true });
      await commands.waitForOutcome(f.id as string, 5000);
    }
    await api(gw).post('/clients/cmd-full/commands').send({ name: 'q4' }).expect(202);
  });

  it('expires a command past its ttlMs and never sends it', async () => {
    const c = await connect('cmd-ttl');
    await drop(c, 'cmd-ttl');
    const res = await api(gw).post('/clients/cmd-ttl/commands').send({ name: 'stale', ttlMs: 40, waitMs: 5000 }).expect(200);
    expect(res.body).toMatchObject({ status: 'expired', attempts: 0 });
    expect(res.body.finishedAt).toBeGreaterThanOrEqual(res.body.expiresAt);
    const back = await connect('cmd-ttl');
    await api(gw).post('/clients/cmd-ttl/commands').send({ name: 'fresh' }).expect(202);
    // The first CMD after the re-LOGIN is the fresh one: the expired one was not sent.
    expect(await back.nextOfType('CMD')).toMatchObject({ name: 'fresh' });
  });

  it('lists commands and pages them', async () => {
    const c = await connect('cmd-page');
    for (let i = 0; i < 3; i++) {
      await api(gw).post('/clients/cmd-page/commands').send({ name: `p${i}` }).expect(202);
      const f = await c.nextOfType('CMD');
      c.send({ type: 'ACK', id: f.id, ok: true });
      await commands.waitForOutcome(f.id as string, 5000);
    }
    const page1 = await api(gw).get('/commands?clientId=cmd-page&limit=2').expect(200);
    expect(page1.body.items.map((r: { name: string }) => r.name)).toEqual(['p0', 'p1']);
    expect(page1.body.total).toBe(3);
    const page2 = await api(gw).get(`/commands?clientId=cmd-page&limit=2&cursor=${page1.body.nextCursor}`).expect(200);
    expect(page2.body.items.map((r: { name: string }) => r.name)).toEqual(['p2']);
    expect(page2.body.nextCursor).toBeUndefined();
    await api(gw).get('/commands?cursor=garbage').expect(400);
    await api(gw).get('/commands/00000000-0000-0000-0000-000000000000').expect(404);
    await api(gw).get('/clients/never-seen/commands').expect(404);
  });
});
