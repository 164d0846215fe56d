import request from 'supertest';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

/** The value of one sample line of the Prometheus text. */
function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  if (!found) throw new Error(`no sample ${line} in:\n${text}`);
  return Number(found.slice(found.lastIndexOf(' ') + 1));
}

const METRICS_TOKEN = 'scrape-only';

/** Issue 14 operations: default metrics, lag and round-trip histograms, METRICS_TOKEN. */
describe('operations: metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, METRICS_TOKEN });
  });
  afterAll(() => gw.close());

  const scrape = async () => (await api(gw, METRICS_TOKEN).get('/metrics').expect(200)).text;

  it('has the default process and nodejs metrics', async () => {
    const text = await scrape();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
  });

  it('measures event-loop lag as a histogram that a scrape does not reset and that sees a stall', async () => {
    const before = await scrape();
    expect(before).toContain('# TYPE longlink_event_loop_lag_seconds histogram');
    const count0 = sample(before, 'longlink_event_loop_lag_seconds_count');
    // Block the loop for 250 ms: the sample due in it runs at least 250 - 100 ms late.
    const slow0 = count0 - sample(before, 'longlink_event_loop_lag_seconds_bucket{le="0.1"}');
    const until = Date.now() + 250;
    while (Date.now() < until) {
      /* a stall */
    }
    await new Promise((r) => setTimeout(r, 250));
    const after = await scrape();
    const count1 = sample(after, 'longlink_event_loop_lag_seconds_count');
    expect(count1).toBeGreaterThan(count0); // accumulates: not reset by the first scrape
    const slow1 = count1 - sample(after, 'longlink_event_loop_lag_seconds_bucket{le="0.1"}');
    // The stall is in it (a loaded machine may add stalls of its own, never fewer).
    expect(slow1).toBeGreaterThanOrEqual(slow0 + 1);
  });

  it('times a command from CMD to ACK', async () => {
    const before = await scrape();
    const acked0 = before.includes('longlink_command_rtt_seconds_count{outcome="acked"}')
      ? sample(before, 'longlink_command_rtt_seconds_count{outcome="acked"}')
      : 0;
    const device = await loggedIn(gw, 'rtt-1');
    const posted = api(gw).post('/clients/rtt-1/commands').send({ name: 'slow', waitMs: 5000 }).then((r) => r);
    const cmd = await device.nextOfType('CMD');
    await new Promise((r) => setTimeout(r, 120));
    device.send({ type: 'ACK', id: cmd.id, ok: true });
    expect((await posted).status).toBe(200);
    const after = await scrape();
    expect(sample(after, 'longlink_command_rtt_seconds_count{outcome="acked"}')).toBe(acked0 + 1);
    expect(sample(after, 'longlink_command_rtt_seconds_bucket{le="0.1",outcome="acked"}')).toBe(
      before.includes('le="0.1",outcome="acked"') ? sample(before, 'longlink_command_rtt_seconds_bucket{le="0.1",outcome="acked"}') : 0,
    );
    expect(sample(after, 'longlink_command_rtt_seconds_sum{outcome="acked"}')).toBeGreaterThanOrEqual(0.1);
    device.close();
  });

  it('METRICS_TOKEN opens /metrics (so does ADMIN_TOKEN) and nothing else', async () => {
    await api(gw, METRICS_TOKEN).get('/metrics').expect(200);
    await api(gw, TOKEN).get('/metrics').expect(200);
    expect((await request(gw.httpUrl).get('/metrics').expect(401)).body.message).toMatch(/missing Authorization header/);
    expect((await api(gw, 'wrong').get('/metrics').expect(401)).body.message).toBe('wrong metrics token');
    await api(gw, METRICS_TOKEN).get('/clients').expect(401);
    await api(gw, METRICS_TOKEN).get('/events').expect(401);
  });
});
