import { CommandService } from '../../../src/commands/command.service';
import { HeartbeatService } from '../../../src/heartbeat/heartbeat.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { PresenceService } from '../../../src/presence/presence.service';
import { api, first, loggedIn, TOKEN } from './admin-helpers';

/** The value of one sample of the Prometheus text, e.g. metric(text, 'longlink_clients', {status: 'alive'}). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((l) => l.startsWith(wanted ? `${name}{${wanted}} ` : `${name} `));
  if (!line) throw new Error(`no sample ${name}{${wanted}} in:\n${text}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** GET /metrics: Prometheus text whose figures move with traffic. */
describe('admin API: metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
  });
  afterAll(() => gw.close());

  const scrape = async () => {
    const res = await api(gw).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  it('moves connections, frames, bad frames, heartbeats, clients, transitions, commands and sweeps', async () => {
    const before = await scrape();
    for (const name of ['longlink_heartbeat_sweep_duration_seconds', 'longlink_heap_used_bytes']) {
      expect(before).toContain(`# TYPE ${name} gauge`);
    }
    // Issue 14: the event-loop lag became a histogram (see test/e2e/operations/metrics-ops.e2e-spec.ts).
    expect(before).toContain('# TYPE longlink_event_loop_lag_seconds histogram');
    expect(before).toContain('# TYPE longlink_frames_in_total counter');

    const c = await loggedIn(gw, 'm-1');
    c.send({ type: 'HEART' });
    await c.nextOfType('HEART');
    c.writeRaw(Buffer.from([0, 0, 0, 0])); // zero-length heartbeat
    await c.next((f) => f === 'EMPTY');
    c.send(['not', 'an', 'object']);
    await c.nextOfType('ERROR');
    const posted = api(gw).post('/clients/m-1/commands').send({ name: 'm', waitMs: 5000 }).then((r) => r);
    const cmd = await c.nextOfType('CMD');
    c.send({ type: 'ACK', id: cmd.id, ok: true });
    expect((await posted).status).toBe(200);
    // One more sweep, driven by hand rather than waited for.
    gw.app.get(HeartbeatService).sweep();

    const after = await scrape();
    const delta = (name: string, labels?: Record<string, string>) => metric(after, name, labels) - metric(before, name, labels);
    expect(delta('longlink_connections')).toBe(1);
    expect(delta('longlink_logged_in_connections')).toBe(1);
    expect(delta('longlink_logins_total')).toBe(1);
    expect(delta('longlink_frames_in_total')).toBe(5); // LOGIN, HEART, empty, bad, ACK
    expect(delta('longlink_frames_out_total')).toBeGreaterThanOrEqual(5); // LOGIN, HEART, empty, ERROR, CMD (+ probes)
    expect(delta('longlink_bad_frames_total')).toBe(1);
    expect(delta('longlink_heartbeats_total')).toBe(2);
    expect(delta('longlink_clients', { status: 'alive' })).toBe(1);
    expect(delta('longlink_presence_transitions_total', { to: 'alive' })).toBe(1);
    expect(delta('longlink_commands_total', { status: 'queued' })).toBe(1);
    expect(delta('longlink_commands_total', { status: 'sent' })).toBe(1);
    expect(delta('longlink_commands_total', { status: 'acked' })).toBe(1);
    expect(delta('longlink_commands_total', { status: 'failed' })).toBe(0);
    expect(delta('longlink_heartbeat_sweeps_total')).toBeGreaterThanOrEqual(1);
    // The lag itself is checked against a real stall in test/e2e/operations/metrics-ops.e2e-spec.ts.
    const left = first(gw.app.get(PresenceService).events$, (e) => e.clientId === 'm-1' && e.to === 'leave');
    c.close();
    await left;
  });

  it('counts expired commands', async () => {
    const before = await scrape();
    await api(gw).post('/clients/m-ghost/commands').send({ name: 'never', queue: true, ttlMs: 20, waitMs: 5000 }).expect(200);
    const after = await scrape();
    expect(metric(after, 'longlink_commands_total', { status: 'expired' }) - metric(before, 'longlink_commands_total', { status: 'expired' })).toBe(1);
    expect(gw.app.get(CommandService).transitionCounts.expired).toBeGreaterThanOrEqual(1);
  });

  it('keeps one registry per gateway: two gateways in one process count their own connections', async () => {
    const second = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    try {
      const c = await loggedIn(second, 'other-gw');
      const mine = metric(await scrape(), 'longlink_connections');
      const theirs = metric((await api(second).get('/metrics').expect(200)).text, 'longlink_connections');
      expect(theirs).toBe(1);
      expect(mine).toBe(0);
      c.close();
    } finally {
      await second.close();
    }
  });
});
