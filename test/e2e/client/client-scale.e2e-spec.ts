import { LongLinkClient, StatusChange } from '../../../src/client';
import { PresenceService } from '../../../src/presence/presence.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { FAST, waitUntil } from './helpers';

const N = 1000;
const HEARTBEAT_MS = 100;
const WINDOWS = 10;

/** Handles that keep a process alive, by kind (ref'd timers and sockets only). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

// 1,000 clients take 8-10 s alone; late in a full run on a busy 2-core machine
// they took over 20 s. The assertions are what matters, not the wall time.
jest.setTimeout(60_000);

describe(`LongLinkClient at scale: ${N} clients in one process`, () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS, MAX_CONNECTIONS: N + 100 });
  });
  afterAll(() => gw.close());

  it(`connect, stay online for ${WINDOWS} heartbeat windows, close, and leave no timers or sockets behind`, async () => {
    const baseline = resources();
    const clients = Array.from(
      { length: N },
      (_, i) => new LongLinkClient({ host: '127.0.0.1', port: gw.tcpPort, clientId: `scale-${i}`, ...FAST, connectTimeoutMs: 10_000 }),
    );
    // In batches, so that the listen backlog never overflows into SYN retries.
    for (let i = 0; i < N; i += 250) await Promise.all(clients.slice(i, i + 250).map((c) => c.connect()));
    expect(gw.server.clientCount).toBe(N);
    const connections = clients.map((c) => gw.server.getConnection(c.clientId)!);

    const changes: Array<StatusChange & { clientId: string }> = [];
    for (const c of clients) c.on('status', (s) => changes.push({ ...s, clientId: c.clientId }));
    const presence = gw.app.get(PresenceService);
    const leavesBefore = presence.transitionCounts.leave;
    const logins = gw.server.stats.logins;
    const heartsBefore = gw.server.stats.heartbeats;
    const startedAt = Date.now();
    // Ten windows pass when every client has had the time for ten heartbeats.
    await waitUntil(`${N * WINDOWS} heartbeats`, () => gw.server.stats.heartbeats - heartsBefore >= N * WINDOWS, 10_000);
    const elapsed = Date.now() - startedAt;

    expect(elapsed).toBeGreaterThanOrEqual((WINDOWS - 1) * HEARTBEAT_MS);
    expect(changes).toEqual([]);
    expect(clients.every((c) => c.status === 'online')).toBe(true);
    expect(gw.server.stats.logins).toBe(logins);
    // The gateway's side of the same story: heartbeats at its interval keep every client alive, window after window.
    expect(presence.transitionCounts.leave).toBe(leavesBefore);
    expect(clients.filter((c) => presence.localStatus(c.clientId) !== 'alive').map((c) => c.clientId)).toEqual([]);
    // Every one heartbeated on its original connection, recently.
    const now = Date.now();
    const stale = connections.filter((conn, i) => gw.server.getConnection(clients[i].clientId) !== conn || now - conn.lastReadAt > 3 * HEARTBEAT_MS);
    expect(stale.map((c) => c.clientId)).toEqual([]);

    await Promise.all(clients.map((c) => c.close()));
    expect(changes.filter((s) => s.to === 'closed')).toHaveLength(N);
    expect(changes.filter((s) => s.to !== 'closed')).toEqual([]);
    await waitUntil('the gateway to see every BYE', () => gw.server.connectionCount === 0, 5000);

    const after = resources();
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(baseline.Timeout ?? 0);
    expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(baseline.TCPSocketWrap ?? 0);
  });
});
