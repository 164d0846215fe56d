import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, TOKEN } from '../admin/admin-helpers';
import { ClientPool, heartRoundTrip } from '../transport/helpers';

/**
 * Issue 12, item 5 (scaled down: the behaviour, not the size). Before,
 * 2,000 connects a second from one IP and one clientId flapping 2,000 times
 * a second were all accepted, and 1M HEART frames from one client were all
 * processed.
 */
async function limitHits(gw: TestGateway, limit: string): Promise<number> {
  const text = (await api(gw).get('/metrics')).text;
  const m = new RegExp(`^longlink_limit_hits_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

const HEART = { type: 'HEART' };

describe('hardening: admission control', () => {
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);
  afterEach(() => pool.closeAll());
  afterEach(() => gw?.close());

  it('refuses connects from one IP past CONNECT_BURST_PER_IP with ERROR RATE_LIMITED, and lets them in again as the bucket refills', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, CONNECT_RATE_PER_IP: 1, CONNECT_BURST_PER_IP: 3, FLAP_HOST_MAX_LOGINS: 300 });
    const ok = await Promise.all(['cr-1', 'cr-2', 'cr-3'].map((id) => pool.login(id)));
    const refused = await pool.connect();
    expect(await refused.next()).toEqual({ type: 'ERROR', code: 'RATE_LIMITED', message: 'more than CONNECT_RATE_PER_IP (1/s, burst 3) connects from 127.0.0.1' });
    await refused.waitClosed();
    for (const c of ok) expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    expect(await limitHits(gw, 'connect_rate')).toBe(1);
    // 20/s: one token every 50 ms.
    await new Promise((r) => setTimeout(r, 1100));
    await pool.login('cr-4');
  });

  it('bans a clientId that logs in more than FLAP_MAX_LOGINS times in the window, for FLAP_BAN_MS; others are not affected', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, FLAP_MAX_LOGINS: 3, FLAP_BAN_MS: 400, CONNECT_RATE_PER_IP: 0 });
    for (let i = 0; i < 3; i++) {
      const c = await pool.login('flapper');
      c.close();
      await c.waitClosed();
    }
    const fourth = await pool.connect();
    const answer = await fourth.login('flapper');
    expect(answer).toMatchObject({ type: 'LOGIN', ok: false, error: { code: 'RATE_LIMITED' } });
    expect((answer.error as { message: string }).message).toMatch(
      /^clientId 'flapper' had more than 3 logins within FLAP_WINDOW_MS \(60000 ms\): banned for FLAP_BAN_MS \(400 ms\), \d s left$/,
    );
    await fourth.waitClosed();
    await pool.login('steady-one');
    expect(await limitHits(gw, 'flap_client')).toBe(1);
    await new Promise((r) => setTimeout(r, 450));
    await pool.login('flapper');
  });

  it('answers frames over CONN_MSG_RATE with ERROR RATE_LIMITED, then closes the connection when it persists', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, CONN_MSG_RATE: 5, CONN_MSG_BURST: 10, RATE_LIMIT_STRIKES: 4 });
    const flooder = await pool.login('hb-flooder');
    const other = await pool.login('hb-other');
    // 1 LOGIN spent, 9 tokens left: 9 HEARTs pass, the next 5 are refused, the 5th refusal closes.
    flooder.writeRaw(Buffer.concat(Array.from({ length: 1000 }, () => Buffer.from(JSON.stringify(HEART))).map((b) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(b.length);
      return Buffer.concat([h, b]);
    })));
    await flooder.waitClosed();
    const kinds = flooder.frames.map((f) => (typeof f === 'object' && 'type' in f ? `${String(f.type)}${f.code ? ` ${String(f.code)}` : ''}` : String(f)));
    expect(kinds).toEqual([...Array(9).fill('HEART'), ...Array(5).fill('ERROR RATE_LIMITED')]);
    expect(flooder.frames[9]).toEqual({ type: 'ERROR', code: 'RATE_LIMITED', message: 'more than CONN_MSG_RATE (5 frames/s, burst 10) on this connection' });
    expect(await heartRoundTrip(other)).toMatchObject({ ok: true });
    expect(await limitHits(gw, 'msg_rate')).toBe(5);
    expect(await limitHits(gw, 'rate_limit_close')).toBe(1);
  });

  it('counts bytes per connection too (CONN_BYTE_RATE)', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_FRAME_BYTES: 1024, CONN_BYTE_RATE: 100, CONN_BYTE_BURST: 2048, RATE_LIMIT_STRIKES: 0 });
    const c = await pool.login('byter');
    c.send({ type: 'HEART', pad: 'x'.repeat(900) });
    expect(await c.nextOfType('HEART')).toMatchObject({ ok: true });
    c.send({ type: 'HEART', pad: 'x'.repeat(900) });
    expect(await c.nextOfType('HEART')).toMatchObject({ ok: true });
    c.send({ type: 'HEART', pad: 'x'.repeat(900) });
    expect(await c.nextOfType('ERROR')).toEqual({ type: 'ERROR', code: 'RATE_LIMITED', message: 'more than CONN_BYTE_RATE (100 bytes/s, burst 2048) on this connection' });
    await c.waitClosed();
  });

  it('keeps at most MAX_CLIENT_RECORDS: the oldest close record goes first, then a new clientId is refused with SERVER_FULL', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_CLIENT_RECORDS: 3 });
    await pool.login('rec-a');
    await pool.login('rec-b');
    const c = await pool.login('rec-c');
    c.send({ type: 'BYE' });
    await c.waitClosed();
    await pool.login('rec-d'); // room made by dropping rec-c (close)
    expect((await api(gw).get('/clients/rec-c')).status).toBe(404);
    const e = await pool.connect();
    const answer = await e.login('rec-e');
    expect(answer).toEqual({
      type: 'LOGIN',
      ok: false,
      error: { code: 'SERVER_FULL', message: 'the node holds MAX_CLIENT_RECORDS (3) client records and none of them is close' },
    });
    await e.waitClosed();
    // Known clients are never refused.
    await pool.login('rec-a');
    expect((await api(gw).get('/clients/stats')).body.total).toBe(3);
    expect(await limitHits(gw, 'client_records_evicted')).toBe(1);
    expect(await limitHits(gw, 'client_records_refused')).toBe(1);
  });
});

describe('hardening: fairness', () => {
  let gw: TestGateway;
  afterAll(() => gw?.close());

  it('makes a one-client flood yield to the others after FRAME_BUDGET frames per turn, losing nothing and keeping order', async () => {
    gw = await startTestGateway({
      ADMIN_TOKEN: TOKEN,
      FRAME_BUDGET: 16,
      CONN_MSG_RATE: 0,
      CONN_BYTE_RATE: 0,
      MAX_OUTBOUND_BYTES: 16 * 1024 * 1024,
    });
    const flooder = await RawClient.connect(gw.tcpPort);
    await flooder.login('flooder');
    const victim = await RawClient.connect(gw.tcpPort);
    await victim.login('victim');
    const n = 20_000;
    let answered = 0;
    flooder.socket.on('data', () => (answered = flooder.frames.length));
    const frames = Buffer.concat(
      Array.from({ length: n }, (_, i) => {
        const b = Buffer.from(JSON.stringify({ type: 'MSG', pattern: 'nobody', id: `m${i}` }));
        const h = Buffer.alloc(4);
        h.writeUInt32BE(b.length);
        return Buffer.concat([h, b]);
      }),
    );
    flooder.writeRaw(frames);
    // The victim's HEART goes in while the flood is being handled: it must not wait for all of it.
    await new Promise((r) => setTimeout(r, 5));
    victim.send(HEART);
    await victim.nextOfType('HEART');
    const atVictimReply = answered;
    expect(atVictimReply).toBeLessThan(n);
    // Everything the flooder sent is answered, in order.
    const deadline = Date.now() + 15_000;
    while (flooder.frames.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(flooder.frames).toHaveLength(n);
    expect(flooder.frames.map((f) => (f as Record<string, unknown>).id)).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    expect(await limitHits(gw, 'frame_budget')).toBeGreaterThan(0);
    flooder.close();
    victim.close();
  });
});
