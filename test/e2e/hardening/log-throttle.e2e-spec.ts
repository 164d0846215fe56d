import { Logger } from '@nestjs/common';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

/**
 * Issue 12, item 5: 20,000 ACKs for commands that do not exist made 20,000
 * WARN lines, one per frame. Now the first is logged and the rest counted
 * into one line per LOG_THROTTLE_MS. (300 ACKs here: the behaviour, not the size.)
 */
describe('hardening: log lines a peer can cause are throttled per reason', () => {
  let gw: TestGateway;
  let warn: jest.SpyInstance;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, LOG_THROTTLE_MS: 1500 }, { logger: ['warn'] });
  });
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());
  afterAll(() => gw.close());

  it('logs one line for 300 stray ACKs at once, then one summary with the count', async () => {
    const client = await loggedIn(gw, 'stray-acker');
    const acks = Array.from({ length: 300 }, (_, i) => ({ type: 'ACK', id: `nope-${i}`, ok: true }));
    for (const ack of acks) client.send(ack);
    // Every ACK was seen (counted), whatever was logged.
    const deadline = Date.now() + 5000;
    const strays = async () => Number(/^longlink_stray_acks_total (\d+)$/m.exec((await api(gw).get('/metrics')).text)?.[1] ?? 0);
    while ((await strays()) < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await strays()).toBe(300);
    const lines = () => warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('ACK'));
    // On a loaded machine the 1.5 s summary may already be out when the count
    // reaches 300, so the first line is checked alone, then exactly one more.
    expect(lines()[0]).toBe("ignored ACK from 'stray-acker' for command 'nope-0': unknown id");
    while (lines().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(lines()).toHaveLength(2);
    expect(lines()[1]).toBe("299 more 'stray ACK' in the last 1.5 s; the last: ignored ACK from 'stray-acker' for command 'nope-299': unknown id");
    client.close();
  });
});
