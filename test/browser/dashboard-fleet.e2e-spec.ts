import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startTestGateway, TestGateway } from '../support/gateway';
import { buildDashboard, collectErrors, launchBrowser, type Browser } from './browser';

/**
 * The dashboard over a fleet of DASHBOARD_FLEET clients (e.g. 10000) with a
 * burst of churn: a measurement, opt-in because it takes the machine for
 * half a minute (`DASHBOARD_FLEET=10000 npx jest test/browser/dashboard-fleet`).
 * It prints the frame gaps and long tasks the page had during the burst and
 * fails if the page froze or rendered the whole fleet.
 */
const FLEET = Number(process.env.DASHBOARD_FLEET ?? 0);
const BURST = Math.round(FLEET * 0.3);

(FLEET > 0 ? describe : describe.skip)(`dashboard: a fleet of ${FLEET} with a burst of ${2 * BURST} events`, () => {
  let gw: TestGateway;
  let browser: Browser;
  let fleet: ChildProcess;

  const ask = (msg: object) =>
    new Promise<{ count: number }>((resolve) => {
      fleet.once('message', (m) => resolve(m as { count: number }));
      fleet.send(msg);
    });

  beforeAll(async () => {
    [, browser, gw] = await Promise.all([
      buildDashboard(),
      launchBrowser(),
      startTestGateway({ HEARTBEAT_MS: 600_000, MAX_CONNECTIONS: FLEET + BURST + 100 }),
    ]);
    fleet = fork(join(__dirname, 'fleet-child.js'), [String(gw.tcpPort)], { stdio: 'inherit' });
    await ask({ login: [0, FLEET], prefix: 'load' });
  }, 120_000);
  afterAll(async () => {
    fleet?.send({ exit: true });
    await browser?.close();
    await gw?.close();
  });

  it('keeps a page of rows and keeps painting through the burst', async () => {
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    await page.goto(`${gw.httpUrl}/dashboard`);
    await page.locator('#stream-state[data-state="live"]').waitFor();
    await page.locator('#overview [data-count="alive"] .n', { hasText: String(FLEET) }).waitFor({ timeout: 10_000 });
    // Frame gaps and long tasks, recorded by the page itself (evaluated over CDP: the page's CSP forbids eval, not this).
    await page.evaluate(`(() => {
      window.__gaps = []; window.__long = [];
      let last = performance.now();
      const tick = (t) => { window.__gaps.push(t - last); last = t; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ entryTypes: ['longtask'] });
    })()`);
    const cdp = process.env.DASHBOARD_PROFILE ? await browser.context.newCDPSession(page) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    if (process.env.DASHBOARD_PAUSE_LOG) await page.click('#log-pause');
    const started = Date.now();
    await Promise.all([ask({ drop: BURST }), ask({ login: [0, BURST], prefix: 'burst' })]);
    await page.locator('#overview [data-count="leave"] .n', { hasText: String(BURST) }).waitFor({ timeout: 30_000 });
    await page.locator('#overview [data-count="total"] .n', { hasText: String(FLEET + BURST) }).waitFor({ timeout: 30_000 });
    const settledMs = Date.now() - started;
    if (cdp) {
      // Self time per function, the top 15: where the page spent the burst.
      const { profile } = await cdp.send('Profiler.stop');
      const self = new Map<string, number>();
      const dt = (profile.timeDeltas ?? []) as number[];
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      (profile.samples ?? []).forEach((id, i) => {
        const f = byId.get(id)!.callFrame;
        const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
        self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
      });
      console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => `${Math.round(v)} ms ${k}`).join('\n'));
    }
    const gaps = (await page.evaluate('window.__gaps')) as number[];
    const long = (await page.evaluate('window.__long')) as number[];
    const rows = await page.locator('#clients tbody tr[data-client-id]').count();
    const logEntries = await page.locator('#log-list li').count();
    const sorted = [...gaps].sort((a, b) => a - b);
    const report = {
      fleet: FLEET,
      events: 2 * BURST,
      settledMs,
      frames: gaps.length,
      frameGapP50: Math.round(sorted[Math.floor(sorted.length / 2)]),
      frameGapP99: Math.round(sorted[Math.floor(sorted.length * 0.99)]),
      frameGapMax: Math.round(sorted[sorted.length - 1]),
      longTasks: long.length,
      longTaskMaxMs: Math.round(Math.max(0, ...long)),
      longTaskTotalMs: Math.round(long.reduce((a, b) => a + b, 0)),
      rows,
      logEntries,
    };
    console.log(JSON.stringify(report));
    expect(rows).toBe(100);
    if (!process.env.DASHBOARD_PAUSE_LOG) expect(logEntries).toBe(500);
    expect(report.frameGapMax).toBeLessThan(1000);
    expect(errors).toEqual([]);
  }, 90_000);
});
