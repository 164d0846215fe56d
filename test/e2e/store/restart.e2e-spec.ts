import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, GatewayProcess } from '../../support/gateway-process';
import { RawClient } from '../../support/raw-client';

type Json = Record<string, any>;

async function http(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** Polls until `check` passes (it throws until then) or the time is up. */
async function eventually(check: () => Promise<void>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The gateway as `npm start` runs it (STORE=sqlite is the default), stopped
 * with SIGKILL or SIGTERM and started again on the same DATA_DIR: what was
 * accepted is still there, and is delivered.
 */
describe.each([
  ['killed with SIGKILL right after a 202', 'kill'],
  ['stopped gracefully (SIGTERM)', 'stop'],
] as const)('restart on the same DATA_DIR: %s', (_title, how) => {
  let cwd: string;
  let dataDir: string;
  const gateways: GatewayProcess[] = [];
  const clients: RawClient[] = [];

  beforeAll(() => {
    ensureBuilt();
    cwd = mkdtempSync(join(tmpdir(), 'longlink-restart-'));
    dataDir = join(cwd, 'state');
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const g of gateways) await g.kill();
    rmSync(cwd, { recursive: true, force: true });
  });

  const connect = async (port: number, clientId: string) => {
    const c = await RawClient.connect(port, { framing: 'line' });
    clients.push(c);
    expect(await c.login(clientId)).toMatchObject({ ok: true });
    return c;
  };

  it('keeps every command with its status, delivers what was pending after LOGIN, and keeps the records', async () => {
    // ---- first life: windows far longer than the test, so nothing changes on its own
    const first = await GatewayProcess.start({ DATA_DIR: dataDir, NODE_ID: 'gw-first', HEARTBEAT_MS: '600000', SHUTDOWN_GRACE_MS: '1000' }, { cwd });
    gateways.push(first);
    const base1 = first.httpUrl;

    const acker = await connect(first.tcpPort, 'dev-acker');
    const silent = await connect(first.tcpPort, 'dev-silent');
    const offline = await connect(first.tcpPort, 'dev-offline');
    offline.send({ type: 'BYE' });
    await offline.waitClosed();
    await eventually(async () => expect((await http(base1, 'GET', '/clients/dev-offline')).body.status).toBe('close'));

    // Acked before the restart: its outcome must survive.
    const ackedPost = http(base1, 'POST', '/clients/dev-acker/commands', { name: 'reboot', data: { in: 1 }, waitMs: 5000 });
    const cmd = await acker.nextOfType('CMD');
    acker.send({ type: 'ACK', id: cmd.id, ok: true, result: { rebooted: true } });
    const acked = await ackedPost;
    expect(acked.body).toMatchObject({ status: 'acked', result: { rebooted: true } });

    // Sent but never acked: re-sent after the next LOGIN.
    const sent = await http(base1, 'POST', '/clients/dev-silent/commands', { name: 'first', data: { n: 1 } });
    expect(sent.status).toBe(202);
    expect((await silent.nextOfType('CMD')).id).toBe(sent.body.id);

    // Queued for a closed client, then (with SIGKILL) dead right after the 202.
    const queued1 = await http(base1, 'POST', '/clients/dev-offline/commands', { name: 'q1', queue: true });
    const queued2 = await http(base1, 'POST', '/clients/dev-offline/commands', { name: 'q2', data: { x: [1, 2] }, queue: true });
    expect([queued1.status, queued2.status]).toEqual([202, 202]);
    expect(queued2.body.status).toBe('queued');
    if (how === 'kill') await first.kill();
    else {
      const [code, signal] = await first.stop();
      expect(code === 0 || signal === 'SIGTERM').toBe(true);
    }
    for (const c of [acker, silent]) await c.waitClosed();

    // ---- second life: short windows, so the leave timeout is seen (after a
    // SIGKILL it counts from the restart; after SIGTERM from the stop, so
    // there it is long enough for the checks below on a busy machine)
    const leaveTimeoutMs = how === 'kill' ? 4000 : 600_000;
    const restartedAt = Date.now();
    const second = await GatewayProcess.start({ DATA_DIR: dataDir, NODE_ID: 'gw-second', HEARTBEAT_MS: '200', LEAVE_TIMEOUT_MS: String(leaveTimeoutMs) }, { cwd });
    gateways.push(second);
    const base2 = second.httpUrl;

    // Outcomes and statuses are where they were.
    expect((await http(base2, 'GET', `/commands/${acked.body.id}`)).body).toMatchObject({ status: 'acked', result: { rebooted: true }, clientId: 'dev-acker' });
    expect((await http(base2, 'GET', `/commands/${sent.body.id}`)).body).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await http(base2, 'GET', `/commands/${queued2.body.id}`)).body).toMatchObject({ status: 'queued', data: { x: [1, 2] } });
    expect((await http(base2, 'GET', '/clients/dev-offline/commands')).body.total).toBe(2);

    // Records survive; the clients that were connected are `leave`, not connected.
    const offlineRecord = (await http(base2, 'GET', '/clients/dev-offline')).body;
    expect(offlineRecord).toMatchObject({ status: 'close', connected: false, closeReason: 'logout' });
    const silentRecord = (await http(base2, 'GET', '/clients/dev-silent')).body;
    expect(silentRecord).toMatchObject({ status: 'leave', connected: false });
    const lastTransition = silentRecord.transitions[silentRecord.transitions.length - 1];
    if (how === 'kill') {
      // Nobody saw the socket close: the restart says so (the new process decided it), and the leave timeout counts from it.
      expect(lastTransition).toMatchObject({ from: 'alive', to: 'leave', reason: 'gateway restarted', nodeId: 'gw-second' });
      expect(silentRecord.statusSince).toBeGreaterThanOrEqual(restartedAt);
    } else {
      // The graceful stop closed the socket itself (KICK shutdown) and wrote that down.
      expect(lastTransition).toMatchObject({ from: 'alive', to: 'leave', reason: 'shutdown', nodeId: 'gw-first' });
    }
    // A record names the node of the client's last session (gw-first) until it logs in elsewhere:
    // the same in GET, in the list and in the per-node stats.
    expect([offlineRecord.nodeId, silentRecord.nodeId]).toEqual(['gw-first', 'gw-first']);
    const listed = (await http(base2, 'GET', '/clients')).body.items as Json[];
    expect(listed.map((r) => [r.clientId, r.nodeId])).toEqual([
      ['dev-acker', 'gw-first'],
      ['dev-offline', 'gw-first'],
      ['dev-silent', 'gw-first'],
    ]);
    expect((await http(base2, 'GET', '/clients/stats')).body).toMatchObject({ total: 3, connected: 0, nodes: { 'gw-first': { connected: 0, total: 3 } } });

    // The sent-unacked command is re-sent at LOGIN; the queued ones follow in order.
    const silentAgain = await connect(second.tcpPort, 'dev-silent');
    const resent = await silentAgain.nextOfType('CMD');
    expect(resent).toMatchObject({ id: sent.body.id, name: 'first', data: { n: 1 } });
    silentAgain.send({ type: 'ACK', id: resent.id, ok: true });
    const offlineAgain = await connect(second.tcpPort, 'dev-offline');
    const d1 = await offlineAgain.nextOfType('CMD');
    const d2 = await offlineAgain.nextOfType('CMD');
    expect([d1.id, d2.id]).toEqual([queued1.body.id, queued2.body.id]);
    await eventually(async () => expect((await http(base2, 'GET', `/commands/${sent.body.id}`)).body).toMatchObject({ status: 'acked', attempts: 2 }));
    // A new session, on this process: the record names it now.
    expect((await http(base2, 'GET', '/clients/dev-silent')).body).toMatchObject({ status: 'alive', connected: true, nodeId: 'gw-second' });

    if (how === 'kill') {
      // dev-acker never came back: close after LEAVE_TIMEOUT_MS counted from the restart.
      await eventually(async () => {
        const r = (await http(base2, 'GET', '/clients/dev-acker')).body;
        expect(r).toMatchObject({ status: 'close', connected: false, closeReason: 'timeout' });
        expect(r.statusSince - restartedAt).toBeGreaterThanOrEqual(leaveTimeoutMs);
      }, 15_000);
    } else {
      expect((await http(base2, 'GET', '/clients/dev-acker')).body).toMatchObject({ status: 'leave', connected: false });
    }
  }, 90_000);
});
