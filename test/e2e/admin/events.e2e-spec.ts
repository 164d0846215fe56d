import { AdminEventsService } from '../../../src/admin/admin-events.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { api, first, loggedIn, SseClient, TOKEN } from './admin-helpers';

interface PresenceData {
  clientId: string;
  from: string | null;
  to: string;
  reason: string;
}
interface CommandData {
  id: string;
  clientId: string;
  from: string | null;
  to: string;
}

/** GET /events: live presence and command events over Server-Sent Events. */
describe('admin API: events (SSE)', () => {
  let gw: TestGateway;
  let hub: AdminEventsService;

  beforeAll(async () => {
    // Millisecond windows: a silent client is leave after 2 windows, close 100 ms later.
    gw = await startTestGateway(
      { ADMIN_TOKEN: TOKEN, HEARTBEAT_MS: 50, LEAVE_STRIKES: 1, LEAVE_TIMEOUT_MS: 100 },
      { admin: { sseHeartbeatMs: 40 } },
    );
    hub = gw.app.get(AdminEventsService);
  });
  afterAll(() => gw.close());

  it('streams the transitions of a client that logs in, goes silent and is closed', async () => {
    const sse = await SseClient.open(gw, '/events?clientId=sse-1');
    try {
      const other = await loggedIn(gw, 'sse-other'); // filtered out
      const client = await loggedIn(gw, 'sse-1');
      expect(await sse.nextData<PresenceData>('presence')).toMatchObject({ clientId: 'sse-1', from: null, to: 'alive', reason: 'login' });
      // The client now sends nothing at all.
      expect(await sse.nextData<PresenceData>('presence')).toMatchObject({ clientId: 'sse-1', from: 'alive', to: 'leave' });
      expect(await sse.nextData<PresenceData>('presence')).toMatchObject({ clientId: 'sse-1', from: 'leave', to: 'close', reason: 'timeout' });
      expect(await client.nextOfType('KICK')).toMatchObject({ reason: 'timeout' });
      await client.waitClosed();
      other.close();
      // Only sse-1's events came through the filter.
      const presence = sse.events.filter((e) => e.event === 'presence').map((e) => JSON.parse(e.data as string) as PresenceData);
      expect(presence.every((e) => e.clientId === 'sse-1')).toBe(true);
    } finally {
      sse.close();
    }
  });

  it('streams command events and keep-alive comments', async () => {
    const sse = await SseClient.open(gw, '/events');
    const client = await loggedIn(gw, 'sse-cmd');
    try {
      // Answer the server's probes so the client stays alive through the test.
      client.socket.on('data', () => client.send({ type: 'HEART', ok: true }));
      const res = await api(gw).post('/clients/sse-cmd/commands').send({ name: 'blink' }).expect(202);
      expect(await sse.nextData<CommandData>('command', (d) => d.id === res.body.id && d.to === 'queued')).toMatchObject({ from: null, clientId: 'sse-cmd' });
      expect(await sse.nextData<CommandData>('command', (d) => d.id === res.body.id && d.to === 'sent')).toMatchObject({ from: 'queued' });
      const cmd = await client.nextOfType('CMD');
      client.send({ type: 'ACK', id: cmd.id, ok: true });
      expect(await sse.nextData<CommandData>('command', (d) => d.id === res.body.id && d.to === 'acked')).toMatchObject({ from: 'sent' });
      expect(await sse.next((e) => e.comment === 'ping')).toEqual({ comment: 'ping' });
    } finally {
      client.close();
      sse.close();
    }
  });

  it('unsubscribes a listener whose HTTP connection went away', async () => {
    await first(hub.listeners$, (n) => n === 0);
    const listeners = [await SseClient.open(gw), await SseClient.open(gw), await SseClient.open(gw, '/events?clientId=x')];
    expect(hub.listeners).toBe(3);
    listeners[0].close();
    await first(hub.listeners$, (n) => n === 2);
    // A listener that vanished without a FIN (destroyed socket) is noticed too.
    listeners[1].req.socket?.destroy();
    listeners[2].res.destroy();
    await first(hub.listeners$, (n) => n === 0);
    const metrics = await api(gw).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^longlink_sse_listeners 0$/m);
  });

  it('refuses a bad clientId filter with 400', async () => {
    const res = await api(gw).get('/events?clientId=no%20spaces').expect(400);
    expect(res.body.message).toMatch(/^clientId must be/);
  });
});
