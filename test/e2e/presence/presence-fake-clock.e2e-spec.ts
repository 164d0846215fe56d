import { once } from 'node:events';
import { FakeClock } from '../../../src/common/clock';
import { HeartbeatService } from '../../../src/heartbeat/heartbeat.service';
import { PresenceService } from '../../../src/presence/presence.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { EventLog } from '../../support/presence-events';
import { RawClient } from '../../support/raw-client';

/**
 * Every transition of docs/PROTOCOL.md §3 through the real transport, with windows
 * driven by hand: the clock is fake and HEARTBEAT_MS is long enough that the
 * scheduled sweep never fires during a test, so only our sweep() calls count.
 */
describe('presence transitions (fake clock, real sockets)', () => {
  const W = 10_000;
  let clock: FakeClock;
  let gw: TestGateway;
  let presence: PresenceService;
  let heartbeat: HeartbeatService;
  let log: EventLog;
  const clients: RawClient[] = [];

  beforeEach(async () => {
    clock = new FakeClock();
    gw = await startTestGateway(
      { HEARTBEAT_MS: W, LEAVE_TIMEOUT_MS: 6 * W, CLOSED_RETENTION_MS: 3 * W, SERVER_PING_MS: 1_000_000 },
      { clock },
    );
    presence = gw.app.get(PresenceService);
    heartbeat = gw.app.get(HeartbeatService);
    log = new EventLog(presence);
  });

  afterEach(async () => {
    log.stop();
    for (const c of clients.splice(0)) c.close();
    await gw.close();
  });

  async function connect(id: string, meta?: Record<string, unknown>): Promise<RawClient> {
    const c = await RawClient.connect(gw.tcpPort);
    clients.push(c);
    await c.login(id, meta ? { meta } : {});
    return c;
  }

  /** Resolves when the server has seen the client's socket close. */
  function serverSideClose(clientId: string): Promise<void> {
    return new Promise((resolve) => gw.server.on('close', (conn) => conn.clientId === clientId && resolve()));
  }

  /** Close one window: advance the clock a window, then sweep. */
  function window(): void {
    clock.advance(W);
    heartbeat.sweep();
  }

  /** A HEART that has reached the server (its answer came back). */
  async function heart(c: RawClient): Promise<void> {
    c.send({ type: 'HEART' });
    await c.nextOfType('HEART');
  }

  it('silent: alive -> leave (3 strikes) -> close (timeout), KICK timeout before the socket closes', async () => {
    const c = await connect('silent-1');
    let windows = 0;
    while (presence.localStatus('silent-1') === 'alive' && windows < 50) {
      window();
      windows++;
    }
    // The LOGIN's window moves the cursor 3 -> 2; then 3 silent windows to the
    // first strike (2 -> 5, back to 3) and 2 for each of the other two.
    expect(windows).toBe(1 + 3 + 2 + 2);
    expect(presence.localStatus('silent-1')).toBe('leave');
    for (let i = 0; i < 6; i++) window();
    expect(presence.localStatus('silent-1')).toBe('close');
    const kick = await c.nextOfType('KICK');
    expect(kick).toEqual({ type: 'KICK', reason: 'timeout' });
    await c.waitClosed();
    expect(log.lines('silent-1')).toEqual([
      'silent-1: new -> alive (login)',
      'silent-1: alive -> leave (3 strikes)',
      'silent-1: leave -> close (timeout)',
    ]);
    const record = await presence.get('silent-1');
    expect(record).toMatchObject({ status: 'close', connected: false, closeReason: 'timeout', remoteAddress: '127.0.0.1' });
    expect(record?.transitions.map((t) => t.to)).toEqual(['alive', 'leave', 'close']);
  });

  it('recovery: RECOVER_WINDOWS windows with frames in leave -> alive, strikes reset', async () => {
    const c = await connect('flaky-1');
    while (presence.localStatus('flaky-1') === 'alive') window();
    for (let i = 0; i < 3; i++) {
      await heart(c);
      window();
    }
    expect(presence.localStatus('flaky-1')).toBe('alive');
    expect(log.lines('flaky-1')).toEqual(['flaky-1: new -> alive (login)', 'flaky-1: alive -> leave (3 strikes)', 'flaky-1: leave -> alive (recovered)']);
    expect(await presence.get('flaky-1')).toMatchObject({ strikes: 0, status: 'alive' });
  });

  it('a heartbeating client stays alive, and its HEART fields become `reported`', async () => {
    const c = await connect('steady-1');
    for (let i = 0; i < 20; i++) {
      c.send({ type: 'HEART', status: 'ok', pid: 42 + i });
      await c.nextOfType('HEART');
      window();
    }
    expect(log.lines('steady-1')).toEqual(['steady-1: new -> alive (login)']);
    const record = await presence.get('steady-1');
    expect(record).toMatchObject({ status: 'alive', livenessCursor: 0, strikes: 0, reported: { status: 'ok', pid: 61 } });
    expect(record?.lastHeartbeatAt).toBe(clock.now() - W);
  });

  it('socket lost without BYE -> leave (connected=false); re-LOGIN within the timeout -> alive, same record', async () => {
    const c = await connect('drop-1', { fw: '1.0' });
    c.close();
    const leave = await log.waitFor('drop-1', 'leave');
    expect(leave.reason).toBe('peer_closed');
    expect(await presence.get('drop-1')).toMatchObject({ status: 'leave', connected: false });
    window();
    const again = await connect('drop-1');
    await log.waitFor('drop-1', 'alive', 5000).then(() => undefined);
    const record = await presence.get('drop-1');
    expect(record).toMatchObject({ status: 'alive', connected: true, meta: { fw: '1.0' } });
    expect(log.lines('drop-1')).toEqual(['drop-1: new -> alive (login)', 'drop-1: alive -> leave (peer_closed)', 'drop-1: leave -> alive (relogin)']);
    expect(record?.transitions).toHaveLength(3);
    again.close();
  });

  it('a dropped client that never comes back is closed after LEAVE_TIMEOUT_MS, then removed after CLOSED_RETENTION_MS', async () => {
    const c = await connect('gone-1');
    c.close();
    await log.waitFor('gone-1', 'leave');
    for (let i = 0; i < 6; i++) window();
    expect(log.lines('gone-1')).toEqual(['gone-1: new -> alive (login)', 'gone-1: alive -> leave (peer_closed)', 'gone-1: leave -> close (timeout)']);
    window();
    window();
    expect(await presence.get('gone-1')).toMatchObject({ status: 'close', closeReason: 'timeout' });
    window();
    expect(await presence.get('gone-1')).toBeUndefined();
  });

  it('BYE -> close (logout); a LOGIN after close starts a new session -> alive', async () => {
    const c = await connect('bye-1');
    const first = await presence.get('bye-1');
    c.send({ type: 'BYE' });
    await c.waitClosed();
    await log.waitFor('bye-1', 'close');
    const again = await connect('bye-1');
    await new Promise<void>((r) => setImmediate(r));
    const record = await presence.get('bye-1');
    expect(log.lines('bye-1')).toEqual(['bye-1: new -> alive (login)', 'bye-1: alive -> close (logout)', 'bye-1: close -> alive (login)']);
    expect(record?.sessionId).not.toBe(first?.sessionId);
    expect(record).toMatchObject({ status: 'alive', closeReason: null, closedAt: null });
    again.close();
  });

  it('kick -> close (kicked) with KICK on the socket', async () => {
    const c = await connect('kick-1');
    const closed = serverSideClose('kick-1');
    await expect(presence.kick('kick-1')).resolves.toBe(true);
    expect(await c.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'kicked' });
    await c.waitClosed();
    await closed;
    expect(log.lines('kick-1')).toEqual(['kick-1: new -> alive (login)', 'kick-1: alive -> close (kicked)']);
    expect(await presence.get('kick-1')).toMatchObject({ status: 'close', connected: false, closeReason: 'kicked' });
    await expect(presence.kick('nobody')).resolves.toBe(false);
  });

  it('takeover keeps the record: no transition, new session, old socket KICK replaced', async () => {
    const a = await connect('dup-1');
    const before = await presence.get('dup-1');
    const b = await connect('dup-1');
    expect(await a.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'replaced' });
    await a.waitClosed();
    await heart(b);
    expect(log.lines('dup-1')).toEqual(['dup-1: new -> alive (login)']);
    const after = await presence.get('dup-1');
    expect(after).toMatchObject({ status: 'alive', connected: true });
    expect(after?.sessionId).not.toBe(before?.sessionId);
  });

  it('list, filter and stats see the records', async () => {
    await connect('list-a');
    const b = await connect('list-b');
    b.close();
    await log.waitFor('list-b', 'leave');
    const page = await presence.list({ status: 'alive' }, {});
    expect(page.items.map((r) => r.clientId)).toEqual(['list-a']);
    const stats = await presence.stats();
    expect(stats.byStatus).toEqual({ alive: 1, leave: 1, close: 0 });
    expect(stats.connected).toBe(1);
  });

  it('every transition is exactly one event, in order, with nodeId and time', async () => {
    const c = await connect('order-1');
    const closed = once(c.socket, 'close');
    while (presence.localStatus('order-1') !== 'close') window();
    await closed;
    expect(log.events.filter((e) => e.clientId === 'order-1').map((e) => [e.from, e.to])).toEqual([
      [null, 'alive'],
      ['alive', 'leave'],
      ['leave', 'close'],
    ]);
    for (const e of log.events) expect(e.nodeId).toBe(gw.config.nodeId);
  });
});
