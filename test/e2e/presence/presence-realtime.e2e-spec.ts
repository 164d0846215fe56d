import { HeartbeatService } from '../../../src/heartbeat/heartbeat.service';
import { PresenceService } from '../../../src/presence/presence.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { EventLog } from '../../support/presence-events';
import { RawClient } from '../../support/raw-client';

/** The same state machine on real timers, with windows of a few tens of milliseconds. */
describe('presence on real timers (millisecond windows)', () => {
  let gw: TestGateway;
  let presence: PresenceService;
  let log: EventLog;
  const clients: RawClient[] = [];
  const timers: NodeJS.Timeout[] = [];

  async function start(env: Record<string, number>) {
    gw = await startTestGateway(env);
    presence = gw.app.get(PresenceService);
    log = new EventLog(presence);
  }

  async function connect(id: string): Promise<RawClient> {
    const c = await RawClient.connect(gw.tcpPort);
    clients.push(c);
    await c.login(id);
    return c;
  }

  /** Send HEART every `ms` until the test ends. */
  function heartbeatEvery(c: RawClient, ms: number): NodeJS.Timeout {
    const t = setInterval(() => !c.closed && c.send({ type: 'HEART' }), ms);
    timers.push(t);
    return t;
  }

  afterEach(async () => {
    timers.splice(0).forEach(clearInterval);
    log?.stop();
    for (const c of clients.splice(0)) c.close();
    await gw?.close();
  });

  const FAST = { HEARTBEAT_MS: 40, LEAVE_TIMEOUT_MS: 300, SERVER_PING_MS: 1_000_000 };

  it('a silent client goes alive -> leave -> close and receives KICK timeout before its socket closes', async () => {
    await start(FAST);
    const c = await connect('quiet');
    await log.waitFor('quiet', 'leave', 3000);
    await log.waitFor('quiet', 'close', 3000);
    expect(await c.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'timeout' });
    await c.waitClosed();
    expect(log.lines('quiet')).toEqual(['quiet: new -> alive (login)', 'quiet: alive -> leave (3 strikes)', 'quiet: leave -> close (timeout)']);
  });

  it('a client that resumes heartbeating in leave comes back to alive', async () => {
    await start({ ...FAST, LEAVE_TIMEOUT_MS: 60_000 });
    const c = await connect('back');
    await log.waitFor('back', 'leave', 3000);
    heartbeatEvery(c, 10);
    const alive = await log.waitFor('back', 'alive', 3000, 'leave');
    expect(alive).toMatchObject({ from: 'leave', to: 'alive', reason: 'recovered' });
  });

  it('a dropped socket goes to leave, then alive on re-LOGIN with the same record', async () => {
    await start({ ...FAST, LEAVE_TIMEOUT_MS: 60_000 });
    const c = await connect('blip');
    const firstConnectedAt = (await presence.get('blip'))?.connectedAt;
    c.close();
    await log.waitFor('blip', 'leave');
    await connect('blip');
    await new Promise<void>((resolve) => {
      const check = () => (log.events.filter((e) => e.clientId === 'blip').length === 3 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(log.lines('blip')).toEqual(['blip: new -> alive (login)', 'blip: alive -> leave (peer_closed)', 'blip: leave -> alive (relogin)']);
    const record = await presence.get('blip');
    expect(record?.transitions).toHaveLength(3);
    expect(record?.connectedAt).toBeGreaterThanOrEqual(firstConnectedAt ?? 0);
  });

  it('BYE gives close / logout', async () => {
    await start(FAST);
    const c = await connect('leaver');
    c.send({ type: 'BYE', reason: 'done' });
    const e = await log.waitFor('leaver', 'close');
    expect(e.reason).toBe('logout');
    await c.waitClosed();
  });

  it('an idle client that only answers the server probes stays alive', async () => {
    await start({ HEARTBEAT_MS: 40, LEAVE_TIMEOUT_MS: 300 }); // SERVER_PING_MS defaults to HEARTBEAT_MS
    const c = await connect('idle');
    let answered = 0;
    c.socket.on('data', () => undefined);
    const answer = async () => {
      while (!c.closed) {
        const probe = await c.nextOfType('HEART', 2000).catch(() => undefined);
        if (!probe) return;
        c.send({ type: 'HEART', ok: true });
        answered++;
      }
    };
    void answer();
    const heartbeat = gw.app.get(HeartbeatService);
    const sweepsAtStart = heartbeat.sweeps;
    await new Promise<void>((resolve) => {
      const check = () => (heartbeat.sweeps - sweepsAtStart >= 25 ? resolve() : setTimeout(check, 20));
      check();
    });
    expect(answered).toBeGreaterThanOrEqual(8);
    expect(log.lines('idle')).toEqual(['idle: new -> alive (login)']);
    expect(presence.localStatus('idle')).toBe('alive');
    // The probes were answered with `ok`, which the server never answers back.
    expect(c.frames.filter((f) => typeof f === 'object' && 'ok' in f)).toEqual([]);
  });

  it('lag guard: a heartbeating client stays alive through 100 windows although the loop is blocked 1.5 windows once', async () => {
    // The tightest counter: one silent window would mean leave. Only the lag
    // guard keeps the blocked window from counting as silent.
    const windowMs = 60;
    await start({ HEARTBEAT_MS: windowMs, CURSOR_START: 0, CURSOR_LIMIT: 1, LEAVE_STRIKES: 1, RECOVER_WINDOWS: 1, SERVER_PING_MS: 1_000_000 });
    const heartbeat = gw.app.get(HeartbeatService);
    const c = await connect('steady');
    heartbeatEvery(c, 10);
    const realSweep = heartbeat.sweep.bind(heartbeat);
    let blocked = false;
    const sweepSpy = jest.spyOn(heartbeat, 'sweep').mockImplementation(() => {
      const result = realSweep();
      if (!blocked && heartbeat.sweeps === 20) {
        blocked = true;
        // Block the event loop for 1.5 windows right after a sweep: no frame
        // can be read until the next (late) sweep has run.
        const until = Date.now() + windowMs * 1.5;
        while (Date.now() < until) {
          /* busy */
        }
      }
      return result;
    });
    await new Promise<void>((resolve) => {
      const check = () => (heartbeat.sweeps >= 100 ? resolve() : setTimeout(check, 20));
      check();
    });
    sweepSpy.mockRestore();
    expect(blocked).toBe(true);
    expect(heartbeat.laggedWindows).toBeGreaterThanOrEqual(1);
    expect(log.lines('steady')).toEqual(['steady: new -> alive (login)']);
  }, 20_000);
});
