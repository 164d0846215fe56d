import { PresenceService } from '../../../src/presence/presence.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, first, loggedIn, TOKEN } from './admin-helpers';

/** The client routes of the admin API over real HTTP, against real sockets. */
describe('admin API: clients', () => {
  let gw: TestGateway;
  let presence: PresenceService;
  const open: RawClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    presence = gw.app.get(PresenceService);
    // 5 alive clients in two regions, one that left, one that said BYE.
    for (let i = 0; i < 5; i++) open.push(await loggedIn(gw, `dev-${i}`, { region: i < 3 ? 'eu' : 'us', model: `m${i}` }));
    const gone = await loggedIn(gw, 'gone-1', { region: 'eu' });
    const left = first(presence.events$, (e) => e.clientId === 'gone-1' && e.to === 'leave');
    gone.close();
    await left;
    const bye = await loggedIn(gw, 'bye-1');
    const closed = first(presence.events$, (e) => e.clientId === 'bye-1' && e.to === 'close');
    bye.send({ type: 'BYE' });
    await closed;
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await gw.close();
  });

  const ids = (body: { items: Array<{ clientId: string }> }) => body.items.map((r) => r.clientId);

  it('lists every client, ordered by clientId', async () => {
    const res = await api(gw).get('/clients').expect(200);
    expect(ids(res.body)).toEqual(['bye-1', 'dev-0', 'dev-1', 'dev-2', 'dev-3', 'dev-4', 'gone-1']);
    expect(res.body.total).toBe(7);
    expect(res.body.nextCursor).toBeUndefined();
    expect(res.body.items[1]).toMatchObject({ clientId: 'dev-0', status: 'alive', connected: true, meta: { region: 'eu', model: 'm0' } });
  });

  it('filters by status, connected and q (clientId or meta)', async () => {
    expect(ids((await api(gw).get('/clients?status=leave').expect(200)).body)).toEqual(['gone-1']);
    expect(ids((await api(gw).get('/clients?status=close').expect(200)).body)).toEqual(['bye-1']);
    expect(ids((await api(gw).get('/clients?connected=false').expect(200)).body)).toEqual(['bye-1', 'gone-1']);
    expect((await api(gw).get('/clients?connected=true').expect(200)).body.total).toBe(5);
    expect(ids((await api(gw).get('/clients?q=US').expect(200)).body)).toEqual(['dev-3', 'dev-4']);
    expect(ids((await api(gw).get('/clients?q=dev-2').expect(200)).body)).toEqual(['dev-2']);
    expect(ids((await api(gw).get('/clients?status=alive&q=eu').expect(200)).body)).toEqual(['dev-0', 'dev-1', 'dev-2']);
  });

  it('pages with limit and cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await api(gw)
        .get(`/clients?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
        .expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      expect(res.body.total).toBe(7);
      seen.push(...ids(res.body));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['bye-1', 'dev-0', 'dev-1', 'dev-2', 'dev-3', 'dev-4', 'gone-1']);
  });

  it('refuses bad query parameters with 400 naming the parameter', async () => {
    const status = await api(gw).get('/clients?status=sleeping').expect(400);
    expect(status.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(status.body.message).toMatch(/^status must be one of/);
    expect((await api(gw).get('/clients?limit=0').expect(400)).body.message).toMatch(/limit must not be less than 1/);
    expect((await api(gw).get('/clients?limit=abc').expect(400)).body.message).toMatch(/limit must be an integer/);
    expect((await api(gw).get('/clients?connected=maybe').expect(400)).body.message).toMatch(/connected must be a boolean/);
    expect((await api(gw).get('/clients?colour=red').expect(400)).body.message).toMatch(/property colour should not exist/);
  });

  it('gives counts by status, connected and node', async () => {
    const res = await api(gw).get('/clients/stats').expect(200);
    expect(res.body).toMatchObject({ total: 7, byStatus: { alive: 5, leave: 1, close: 1 }, connected: 5 });
    expect(res.body.nodes[gw.config.nodeId]).toEqual({ connected: 5, total: 7 });
  });

  it('gives one client with its recent transitions, and 404 for an unknown one', async () => {
    const res = await api(gw).get('/clients/gone-1').expect(200);
    expect(res.body).toMatchObject({ clientId: 'gone-1', status: 'leave', connected: false });
    expect(res.body.transitions.map((t: { from: string | null; to: string }) => [t.from, t.to])).toEqual([
      [null, 'alive'],
      ['alive', 'leave'],
    ]);
    const missing = await api(gw).get('/clients/no-such').expect(404);
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: "client 'no-such' is not known" });
    expect((await api(gw).get('/clients/bad%20id').expect(400)).body.message).toMatch(/clientId must be/);
  });

  it('kicks one client: the socket gets KICK kicked and is closed; status close (kicked)', async () => {
    const victim = await loggedIn(gw, 'kick-me');
    const res = await api(gw).delete('/clients/kick-me').expect(200);
    expect(res.body).toEqual({ clientId: 'kick-me', kicked: true });
    expect(await victim.nextOfType('KICK')).toMatchObject({ reason: 'kicked' });
    await victim.waitClosed();
    const record = await api(gw).get('/clients/kick-me').expect(200);
    expect(record.body).toMatchObject({ status: 'close', connected: false, closeReason: 'kicked' });
    await api(gw).delete('/clients/no-such').expect(404);
  });

  it('kicks many clients by clientIds or by filter', async () => {
    const a = await loggedIn(gw, 'bulk-a', { fleet: 'x' });
    const b = await loggedIn(gw, 'bulk-b', { fleet: 'x' });
    const c = await loggedIn(gw, 'bulk-c', { fleet: 'y' });
    const byIds = await api(gw).post('/clients/kick').send({ clientIds: ['bulk-a', 'nope-1'] }).expect(200);
    expect(byIds.body).toEqual({ kicked: 1, notFound: ['nope-1'] });
    expect(await a.nextOfType('KICK')).toMatchObject({ reason: 'kicked' });
    await a.waitClosed();
    const byFilter = await api(gw).post('/clients/kick').send({ filter: { meta: { fleet: 'x' }, status: 'alive' } }).expect(200);
    expect(byFilter.body).toEqual({ kicked: 1, notFound: [] });
    expect(await b.nextOfType('KICK')).toMatchObject({ reason: 'kicked' });
    await b.waitClosed();
    expect(c.closed).toBe(false);
    expect((await api(gw).get('/clients/bulk-c').expect(200)).body.status).toBe('alive');
    c.close();

    expect((await api(gw).post('/clients/kick').send({}).expect(400)).body.message).toBe('give exactly one of clientIds or filter');
    expect((await api(gw).post('/clients/kick').send({ filter: {} }).expect(400)).body.message).toMatch(/empty filter would kick everyone/);
    expect((await api(gw).post('/clients/kick').send({ filter: { status: 'gone' } }).expect(400)).body.message).toMatch(/^filter\.status must be one of/);
    expect((await api(gw).post('/clients/kick').send({ clientIds: ['ok', 'not ok'] }).expect(400)).body.message).toMatch(/clientIds/);
  });
});
