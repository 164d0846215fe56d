import type { Server } from 'node:http';
import type { Page, Request } from 'playwright-core';
import { startTestGateway, TestGateway } from '../support/gateway';
import { buildDashboard, collectErrors, Device, launchBrowser, type Browser } from './browser';

/**
 * GET /dashboard in headless Chromium against the real gateway, with real
 * TCP devices: what an operator sees and does, and that it follows the
 * fleet live (GET /events) without a reload.
 *
 * Millisecond windows: a device that stops its heartbeats goes leave after
 * about two HEARTBEAT_MS windows (one strike is enough); the others send HEART
 * every 100 ms.
 */
const HEARTBEAT_MS = 500;
const ALIVE = 28;
const DROPPED = 5;
const GONE = 3;

let browser: Browser;
const T0 = Date.now();
const mark = (what: string) => process.env.DASH_TIMING && console.log(`${Date.now() - T0} ms ${what}`);

beforeAll(async () => {
  mark('start');
  [, browser] = await Promise.all([buildDashboard(), launchBrowser()]);
  mark('built and launched');
}, 30_000);
afterAll(() => browser?.close());

// A failed test must not leave its tab polling the gateway: that would hold the gateway's close.
afterEach(async () => {
  for (const page of browser.context.pages()) await page.close();
});

/** A new tab on the dashboard, with its console errors collected. */
async function openDashboard(gw: TestGateway, hash = ''): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${gw.httpUrl}/dashboard${hash}`);
  return { page, errors };
}

const row = (page: Page, clientId: string) => page.locator(`#clients tr[data-client-id="${clientId}"]`);

describe('dashboard: an open admin API and a fleet of mixed statuses', () => {
  let gw: TestGateway;
  const devices: Device[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS, LEAVE_STRIKES: 1, LEAVE_TIMEOUT_MS: 600_000, NODE_ID: 'gw-a' });
    const fleet = Array.from({ length: ALIVE + DROPPED + GONE }, (_, i) => `dev-${String(i + 1).padStart(2, '0')}`);
    devices.push(
      ...(await Promise.all(
        fleet.map((id, i) =>
          Device.start(gw, id, {
            meta: { region: i % 3 === 0 ? 'us' : 'eu' },
            reported: { status: i % 7 === 3 ? 'updating' : 'ok', fw: `2.${i % 4}.0`, load: (i * 37) % 100 },
          }),
        ),
      )),
    );
    for (const d of devices.slice(ALIVE, ALIVE + DROPPED)) d.drop(); // leave (peer_closed)
    await Promise.all(devices.slice(ALIVE + DROPPED).map((d) => d.bye())); // close (logout)
    // Until the gateway has seen every drop, the counts below would race it.
    await waitFor(async () => (await stats(gw)).byStatus.leave === DROPPED);
  }, 20_000);
  afterAll(async () => {
    for (const d of devices) d.raw.close();
    await gw?.close();
  });

  it('loads without console errors, lists every client with its status and counts them', async () => {
    const { page, errors } = await openDashboard(gw);
    await page.locator('#stream-state[data-state="live"]').waitFor();
    await expectCount(page, 'total', ALIVE + DROPPED + GONE);
    await expectCount(page, 'alive', ALIVE);
    await expectCount(page, 'leave', DROPPED);
    await expectCount(page, 'close', GONE);
    await expectCount(page, 'connected', ALIVE);
    await expect(page.locator('#clients tbody tr[data-client-id]').count()).resolves.toBe(ALIVE + DROPPED + GONE);
    // Per node (one here): connected and records.
    await expect(page.locator('#nodes tr[data-node-id="gw-a"] td').allTextContents()).resolves.toEqual(['gw-a', String(ALIVE), String(ALIVE + DROPPED + GONE)]);

    const alive = row(page, 'dev-01');
    await expect(alive.getAttribute('data-status')).resolves.toBe('alive');
    await expect(alive.locator('td.connected').textContent()).resolves.toBe('yes');
    await expect(alive.locator('td.node').textContent()).resolves.toBe('gw-a');
    await expect(alive.locator('td.remote').textContent()).resolves.toMatch(/^127\.0\.0\.1:\d+$/);
    await expect(alive.locator('td.reported').textContent()).resolves.toContain('"fw":"2.0.0"');
    await expect(row(page, `dev-${ALIVE + 1}`).getAttribute('data-status')).resolves.toBe('leave');
    await expect(row(page, `dev-${ALIVE + DROPPED + 1}`).getAttribute('data-status')).resolves.toBe('close');

    // Filter by status, then search (the API's q: clientId or meta).
    await page.selectOption('#f-status', 'leave');
    await waitRows(page, DROPPED);
    await page.selectOption('#f-status', '');
    await page.fill('#f-q', 'dev-0');
    await waitRows(page, 9);
    await page.fill('#f-q', '');
    await waitRows(page, ALIVE + DROPPED + GONE);

    // Paged with the API's cursor.
    const total = ALIVE + DROPPED + GONE;
    await page.selectOption('#f-limit', '25');
    await waitRows(page, 25);
    await page.locator('#page-info', { hasText: `1–25 of ${total}` }).waitFor();
    await page.click('#next');
    await waitRows(page, total - 25);
    await page.locator('#page-info', { hasText: `26–${total} of ${total}` }).waitFor();
    await expect(page.locator('#next').isDisabled()).resolves.toBe(true);
    await expect(page.locator('#clients tbody tr[data-client-id]').first().getAttribute('data-client-id')).resolves.toBe('dev-26');
    await page.click('#prev');
    await waitRows(page, 25);
    await page.selectOption('#f-limit', '100');
    await waitRows(page, total);

    expect(errors).toEqual([]);
  });

  it('shows a login and an alive → leave change live, in the list and the event log, without a reload', async () => {
    const { page, errors } = await openDashboard(gw);
    await page.locator('#stream-state[data-state="live"]').waitFor();
    await page.evaluate('window.__sameDocument = true');

    const newcomer = await Device.start(gw, 'live-1', { reported: { status: 'ok' } });
    devices.push(newcomer);
    await row(page, 'live-1').and(page.locator('[data-status="alive"]')).waitFor();
    await page.locator('#log-list li[data-kind="presence"][data-client-id="live-1"][data-to="alive"]').waitFor();

    mark('newcomer listed');
    newcomer.stop(); // silence: two windows later, leave (strikes)
    await row(page, 'live-1').and(page.locator('[data-status="leave"]')).waitFor({ timeout: 6000 });
    mark('leave shown');
    await page.locator('#log-list li[data-client-id="live-1"][data-to="leave"]').waitFor();
    await expectCount(page, 'leave', DROPPED + 1);
    await expect(page.evaluate('window.__sameDocument')).resolves.toBe(true);

    // Paused, the log holds new events back and shows them on resume.
    mark('pausing');
    await page.click('#log-pause');
    const paused = await Device.start(gw, 'live-2');
    devices.push(paused);
    await page.locator('#log-info', { hasText: 'paused: 1 new event' }).waitFor();
    await row(page, 'live-2').waitFor(); // the list itself stays live
    await expect(page.locator('#log-list li[data-client-id="live-2"]').count()).resolves.toBe(0);
    await page.click('#log-pause');
    await expect(page.locator('#log-list li[data-client-id="live-2"][data-to="alive"]').count()).resolves.toBe(1);
    expect(errors).toEqual([]);
  });

  it('resumes the stream after a cut with Last-Event-ID: an event of the gap still reaches the log', async () => {
    const { page, errors } = await openDashboard(gw);
    await page.locator('#stream-state[data-state="live"]').waitFor();
    devices.push(await Device.start(gw, 'gap-0')); // an event seen: the page has an id to resume from
    await page.locator('#log-list li[data-client-id="gap-0"]').waitFor();
    const resumed = page.waitForRequest((r) => new URL(r.url()).pathname === '/events' && r.headers()['last-event-id'] !== undefined);
    // The page's reconnect is held until gap-1 has logged in: its event can only come as a replay.
    let loggedIn!: () => void;
    const gapDone = new Promise<void>((resolve) => (loggedIn = resolve));
    await page.route('**/events', async (route) => {
      await gapDone;
      await route.continue();
    });
    // Cut every HTTP connection from the server side; the page retries after 500 ms.
    (gw.app.getHttpServer() as Server).closeAllConnections();
    devices.push(await Device.start(gw, 'gap-1'));
    loggedIn();
    await resumed;
    await page.locator('#stream-state[data-state="live"]').waitFor();
    await page.locator('#log-list li[data-client-id="gap-1"][data-to="alive"]').waitFor();
    // The cut itself may show as failed loads of the calls it broke; nothing else may.
    expect(errors.filter((e) => !/Failed to load resource|net::ERR_/.test(e))).toEqual([]);
  });

  it("a client's page: record and timeline, a pushed command shown acked, a kick after confirming", async () => {
    const device = devices[1];
    const { page, errors } = await openDashboard(gw);
    await row(page, device.clientId).locator('td.id a').click();
    await page.locator('#client-status', { hasText: 'alive' }).waitFor();
    await page.locator('#client-timeline li[data-to="alive"]', { hasText: 'login' }).waitFor();
    await expect(page.locator('#client-record dd[data-field="reported"]').textContent()).resolves.toContain('"fw":"2.1.0"');
    await expect(page.locator('#client-record dd[data-field="epoch"]').textContent()).resolves.toMatch(/^\d+$/);

    await page.fill('#cmd-data', '{not json');
    await page.fill('#cmd-name', 'echo');
    await page.click('#cmd-form button[type="submit"]');
    await page.locator('#cmd-outcome', { hasText: 'data is not JSON' }).waitFor();

    await page.fill('#cmd-data', '{"hello":"world"}');
    await page.click('#cmd-form button[type="submit"]');
    const cmd = await device.raw.nextOfType('CMD');
    expect(cmd).toMatchObject({ name: 'echo', data: { hello: 'world' } });
    device.raw.send({ type: 'ACK', id: cmd.id, ok: true, result: { echoed: 'world' } });
    await page.locator('#cmd-outcome[data-status="acked"]', { hasText: 'echoed' }).waitFor();
    await page.locator(`#client-commands tr[data-command-id="${String(cmd.id)}"][data-status="acked"]`).waitFor();

    // Dismissed: nothing happens. Accepted: KICK kicked, the record goes to close.
    page.once('dialog', (d) => void d.dismiss());
    await page.click('#kick');
    await expect((await clientRecord(gw, device.clientId)).status).toBe('alive');
    page.once('dialog', (d) => {
      expect(d.type()).toBe('confirm');
      void d.accept();
    });
    await page.click('#kick');
    expect(await device.raw.nextOfType('KICK')).toMatchObject({ reason: 'kicked' });
    await page.locator('#client-status', { hasText: 'close' }).waitFor();
    await page.locator('#client-timeline li[data-to="close"]', { hasText: 'kicked' }).waitFor();
    await page.locator('#client-message', { hasText: 'was kicked' }).waitFor();
    expect(errors).toEqual([]);
  });

  // Not a check: makes docs/dashboard.png (DASHBOARD_SCREENSHOT=docs/dashboard.png npx jest test/browser).
  const screenshot = process.env.DASHBOARD_SCREENSHOT;
  if (screenshot) {
    it('takes the README screenshot of a churning fleet', async () => {
      const { page } = await openDashboard(gw);
      await page.locator('#stream-state[data-state="live"]').waitFor();
      // A few seconds of churn, so that the chart and the event log have something to show.
      for (let i = 0; i < 8; i++) {
        const d = await Device.start(gw, `sensor-${i + 1}`, { meta: { region: 'eu' }, reported: { status: 'ok', fw: '2.2.0', load: 10 * i } });
        devices.push(d);
        if (i % 3 === 2) d.drop();
        if (i % 4 === 1) devices[2 + i].stop();
        await page.waitForTimeout(900);
      }
      await page.screenshot({ path: screenshot });
      if (process.env.DASHBOARD_CLIENT_SCREENSHOT) {
        await page.goto(`${gw.httpUrl}/dashboard#/client/dev-03`);
        await page.locator('#client-timeline li').first().waitFor();
        await page.screenshot({ path: process.env.DASHBOARD_CLIENT_SCREENSHOT });
      }
    }, 30_000);
  }
});

describe('dashboard: with ADMIN_TOKEN', () => {
  const TOKEN = 'dash-secret-token';
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, HEARTBEAT_MS, NODE_ID: 'gw-t' });
  });
  afterAll(() => gw?.close());

  it('asks for the token, refuses a wrong one, then uses it for every call and the live stream, never in a URL', async () => {
    const { page, errors } = await openDashboard(gw);
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    const dialog = page.locator('#login');
    await dialog.waitFor();

    await page.fill('#login-token', 'not-the-token');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#login-error', { hasText: 'wrong admin token' }).waitFor();
    await page.fill('#login-token', TOKEN);
    await page.click('#login-form button[type="submit"]');
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#stream-state[data-state="live"]').waitFor();

    const device = await Device.start(gw, 'secure-1');
    try {
      await row(page, 'secure-1').and(page.locator('[data-status="alive"]')).waitFor();
      await page.locator('#log-list li[data-client-id="secure-1"][data-to="alive"]').waitFor();
    } finally {
      device.raw.close();
    }
    const api = requests.filter((r) => !new URL(r.url()).pathname.startsWith('/dashboard'));
    expect(api.map((r) => new URL(r.url()).pathname)).toEqual(expect.arrayContaining(['/clients', '/clients/stats', '/events']));
    for (const r of requests) expect(r.url()).not.toContain(TOKEN);
    // Every call but the refused first ones carried the token as a header, the stream's included.
    const calls = await Promise.all(api.map(async (r) => ({ path: new URL(r.url()).pathname, status: (await r.response())?.status(), auth: (await r.allHeaders()).authorization })));
    const answered = calls.filter((c) => c.status !== 401);
    expect(answered.map((c) => c.path)).toContain('/events');
    for (const c of answered) expect(c).toEqual({ path: c.path, status: 200, auth: `Bearer ${TOKEN}` });
    // The only errors are the browser's own notes of the 401s that made the page ask.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });
});

async function stats(gw: TestGateway): Promise<{ byStatus: Record<string, number> }> {
  return (await fetch(`${gw.httpUrl}/clients/stats`)).json() as Promise<{ byStatus: Record<string, number> }>;
}

async function clientRecord(gw: TestGateway, clientId: string): Promise<{ status: string }> {
  return (await fetch(`${gw.httpUrl}/clients/${clientId}`)).json() as Promise<{ status: string }>;
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function expectCount(page: Page, name: string, value: number): Promise<void> {
  await page.locator(`#overview [data-count="${name}"] .n`, { hasText: new RegExp(`^${value}$`) }).waitFor({ timeout: 5000 });
}

/** Polled from here: the page's CSP (no eval) rules out page.waitForFunction. */
async function waitRows(page: Page, n: number): Promise<void> {
  const rows = page.locator('#clients tbody tr[data-client-id]');
  await waitFor(async () => (await rows.count()) === n).catch(async () => {
    throw new Error(`expected ${n} rows, the page shows ${await rows.count()}`);
  });
}
