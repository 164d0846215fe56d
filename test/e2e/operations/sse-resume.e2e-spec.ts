import { startTestGateway, TestGateway } from '../../support/gateway';
import { loggedIn, SseClient, SseEvent, TOKEN } from '../admin/admin-helpers';

interface PresenceData {
  clientId: string;
  to: string;
  reason: string;
}
const data = (e: SseEvent) => JSON.parse(e.data as string) as PresenceData;

/** GET /events resumes from Last-Event-ID within the last SSE_REPLAY_EVENTS events. */
describe('operations: SSE resumption', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, SSE_REPLAY_EVENTS: 5 });
  });
  afterAll(() => gw.close());

  it('gives every event an id; a listener back with Last-Event-ID gets what it missed, then live events, nothing twice', async () => {
    const first = await SseClient.open(gw, '/events?clientId=r-1');
    const a = await loggedIn(gw, 'r-1');
    const login = await first.next((e) => e.event === 'presence');
    expect(login.id).toMatch(/^[0-9a-f]{8}-\d+$/);
    first.close();
    // While nobody listens: r-1 logs out, r-2 comes and goes (filtered out on resume).
    a.send({ type: 'BYE' });
    await a.waitClosed();
    const other = await loggedIn(gw, 'r-2');
    other.close();
    const b = await loggedIn(gw, 'r-1');

    const back = await SseClient.open(gw, '/events?clientId=r-1', TOKEN, { 'Last-Event-ID': login.id as string });
    const missed1 = await back.next((e) => e.event === 'presence');
    const missed2 = await back.next((e) => e.event === 'presence');
    expect([data(missed1), data(missed2)]).toEqual([
      expect.objectContaining({ clientId: 'r-1', to: 'close', reason: 'logout' }),
      expect.objectContaining({ clientId: 'r-1', to: 'alive', reason: 'login' }),
    ]);
    expect(Number(missed2.id?.split('-')[1])).toBeGreaterThan(Number(missed1.id?.split('-')[1]));
    // Then live.
    b.send({ type: 'BYE' });
    expect(data(await back.next((e) => e.event === 'presence'))).toMatchObject({ clientId: 'r-1', to: 'close' });
    expect(back.events.filter((e) => e.event === 'presence')).toEqual([]);
    back.close();
  });

  it('beyond the window (or with an id of another run) sends event: reset first, then live events', async () => {
    const sse = await SseClient.open(gw, '/events');
    const c = await loggedIn(gw, 'r-3');
    const start = await sse.next((e) => e.event === 'presence');
    sse.close();
    for (let i = 0; i < 4; i++) (await loggedIn(gw, `r-burst-${i}`)).close(); // 8 events: more than the 5 kept
    const late = await SseClient.open(gw, '/events', TOKEN, { 'Last-Event-ID': start.id as string });
    const reset = await late.next((e) => e.event === 'reset');
    expect(JSON.parse(reset.data as string)).toEqual({ reason: 'replay_window_exceeded', lastEventId: start.id, window: 5 });
    expect(reset.id).toMatch(/^[0-9a-f]{8}-\d+$/);
    c.send({ type: 'BYE' });
    expect(data(await late.next((e) => e.event === 'presence'))).toMatchObject({ clientId: 'r-3', to: 'close' });
    late.close();

    const stranger = await SseClient.open(gw, '/events', TOKEN, { 'Last-Event-ID': '0badc0de-12' });
    expect(JSON.parse((await stranger.next((e) => e.event === 'reset')).data as string)).toMatchObject({ reason: 'unknown_event_id' });
    stranger.close();
  });
});
