import { firstValueFrom, take, toArray } from 'rxjs';
import { ClusterEvents } from '../../../src/cluster/cluster-events';
import type { BusMessage } from '../../../src/cluster/bus-messages';
import { NodeInbox } from '../../../src/cluster/node-inbox';
import { NodeLease } from '../../../src/cluster/node-lease';
import { createRedisConnection, RedisClient } from '../../../src/cluster/redis-connection';
import { RedisPresenceStore } from '../../../src/cluster/store/redis-presence.store';
import { presenceRecord } from '../../contract/presence-store.contract';
import { TestRedisServer } from '../../support/redis-server';
import { freshRedis } from '../../support/redis-store-handles';

let server: TestRedisServer;
const open: RedisClient[] = [];
async function client(): Promise<RedisClient> {
  const c = createRedisConnection(server.url, { name: 'test' });
  await c.connect();
  open.push(c);
  return c;
}
beforeAll(async () => {
  server = await TestRedisServer.start();
});
beforeEach(async () => {
  const c = await freshRedis(server);
  await c.close();
});
afterEach(async () => {
  for (const c of open.splice(0)) if (c.isOpen) c.destroy();
});
afterAll(async () => {
  await server?.stop();
});

describe('NodeInbox', () => {
  it('delivers what other nodes send, all messages of one turn to one node in one XADD', async () => {
    const got: BusMessage[] = [];
    const b = new NodeInbox(await client(), await client(), 'B', (m) => got.push(m));
    b.start();
    const a = new NodeInbox(await client(), await client(), 'A', () => undefined);
    await new Promise((r) => setTimeout(r, 50)); // B's first read is in place
    a.send('B', { t: 'cmds', clientIds: ['x'] });
    a.send('B', { t: 'final', ids: ['c1'] });
    a.send('B', { t: 'cmds', clientIds: ['y'] });
    await a.flush();
    const deadline = Date.now() + 3000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([{ t: 'cmds', clientIds: ['x'] }, { t: 'final', ids: ['c1'] }, { t: 'cmds', clientIds: ['y'] }]);
    expect(await server.command('XLEN', 'll:node:B:inbox')).toBe('1');
    await b.stop();
    await a.stop();
  });

  it('a node starting later does not read what was sent to its previous life', async () => {
    const writer = await client();
    await writer.sendCommand(['XADD', 'll:node:C:inbox', '*', 'm', JSON.stringify([{ t: 'cmds', clientIds: ['old'] }])]);
    const got: BusMessage[] = [];
    const c = new NodeInbox(await client(), await client(), 'C', (m) => got.push(m));
    c.start();
    await new Promise((r) => setTimeout(r, 100));
    await writer.sendCommand(['XADD', 'll:node:C:inbox', '*', 'm', JSON.stringify([{ t: 'cmds', clientIds: ['new'] }])]);
    const deadline = Date.now() + 3000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([{ t: 'cmds', clientIds: ['new'] }]);
    await c.stop();
  });
});

/** Orphan timeouts far beyond a test: nothing reaped moves on by itself. */
const LONG = { leaveTimeoutMs: 3_600_000, closedRetentionMs: 3_600_000 };

describe('NodeLease', () => {
  it('a node that stops beating is reaped by a live one: its connected clients leave, with the node named, counters kept', async () => {
    const redis = await client();
    const deadStore = new RedisPresenceStore(redis, 'boot-dead');
    await deadStore.save(presenceRecord('on-dead', { nodeId: 'dead', epoch: 3 }));
    await deadStore.save(presenceRecord('closed-on-dead', { nodeId: 'dead', status: 'close', connected: false }));
    // Already re-homed: names another node now.
    await deadStore.save(presenceRecord('moved', { nodeId: 'dead', epoch: 1 }));
    await new RedisPresenceStore(redis, 'boot-live').save(presenceRecord('moved', { nodeId: 'live', epoch: 2 }));
    const dead = new NodeLease(redis, { nodeId: 'dead', bootId: 'boot-dead' }, 60, LONG);
    await dead.beat();
    const live = new NodeLease(redis, { nodeId: 'live', bootId: 'boot-live' }, 60, LONG);
    const reaped: string[][] = [];
    live.onReaped = (_node, ids) => reaped.push(ids);
    await live.beat();
    expect(reaped).toEqual([]); // still within its lease
    await new Promise((r) => setTimeout(r, 90));
    await live.beat();
    expect(reaped).toEqual([['on-dead']]);
    const r = await deadStore.get('on-dead');
    expect(r).toMatchObject({ status: 'leave', connected: false, nodeId: 'dead', epoch: 3 });
    expect(r?.transitions.at(-1)).toMatchObject({ from: 'alive', to: 'leave', reason: expect.stringContaining('node dead lost'), nodeId: 'dead' });
    expect(await deadStore.get('moved')).toMatchObject({ status: 'alive', connected: true, nodeId: 'live' });
    expect(await deadStore.stats()).toEqual({
      total: 3,
      byStatus: { alive: 1, leave: 1, close: 1 },
      connected: 1,
      nodes: { dead: { connected: 0, total: 2 }, live: { connected: 1, total: 1 } },
    });
    expect(await server.command('ZSCORE', 'll:nodes', 'dead')).toBe('');
    // The reaped record takes a newer session's write, not an older one's.
    expect(await deadStore.save(presenceRecord('on-dead', { nodeId: 'live', epoch: 2 }))).toBe(false);
    expect(await deadStore.save(presenceRecord('on-dead', { nodeId: 'live', epoch: 4 }))).toBe(true);
  });

  it('a node back with the same NODE_ID clears its previous life, not its own new sessions', async () => {
    const redis = await client();
    await new RedisPresenceStore(redis, 'boot-1').save(presenceRecord('stale', { nodeId: 'n1' }));
    await new RedisPresenceStore(redis, 'boot-2').save(presenceRecord('fresh', { nodeId: 'n1' }));
    const lease = new NodeLease(redis, { nodeId: 'n1', bootId: 'boot-2' }, 1000, LONG);
    expect(await lease.clearPreviousLife()).toEqual(['stale']);
    const store = new RedisPresenceStore(redis);
    expect(await store.get('stale')).toMatchObject({ status: 'leave', connected: false });
    expect((await store.get('stale'))?.transitions.at(-1)?.reason).toBe('node n1 restarted');
    expect(await store.get('fresh')).toMatchObject({ status: 'alive', connected: true });
    expect(await lease.clearPreviousLife()).toEqual([]);
  });
});

describe('orphaned records (a dead node held them)', () => {
  it('go leave -> close after LEAVE_TIMEOUT_MS and are gone after CLOSED_RETENTION_MS, unless the client logs in again', async () => {
    const redis = await client();
    const timeouts = { leaveTimeoutMs: 400, closedRetentionMs: 600 };
    const deadStore = new RedisPresenceStore(redis, 'boot-dead');
    const t0 = Date.now();
    await deadStore.save(presenceRecord('connected', { nodeId: 'dead', epoch: 1, statusSince: t0 - 10_000 }));
    // Left before the node died: its leave timeout runs from its own leave (due at t0 + 50), not from the reap.
    await deadStore.save(presenceRecord('left', { nodeId: 'dead', status: 'leave', connected: false, statusSince: t0 - 350 }));
    await deadStore.save(presenceRecord('back', { nodeId: 'dead', epoch: 1 }));
    await new NodeLease(redis, { nodeId: 'dead', bootId: 'boot-dead' }, 60, timeouts).beat();
    await new Promise((r) => setTimeout(r, 90));
    // The live node's orphan steps run on a clock of the test's: no wall-clock wait can make a step come early or late.
    let at = Date.now();
    const live = new NodeLease(redis, { nodeId: 'live', bootId: 'boot-live' }, 60, timeouts, () => at);
    const swept: Array<[string[], string[]]> = [];
    live.onSwept = (closed, removed) => swept.push([closed.sort(), removed.sort()]);
    await live.beat();
    const reaped = await deadStore.get('connected');
    expect(reaped).toMatchObject({ status: 'leave', connected: false });
    const until = (time: number) => {
      at = Math.max(at, time);
    };
    expect(await server.command('ZCARD', 'll:orphans')).toBe('3');
    // 'back' logs in again on the live node: a node holds it, the schedule lets it be.
    await new RedisPresenceStore(redis, 'boot-live').save(presenceRecord('back', { nodeId: 'live', epoch: 2 }));
    expect(await server.command('ZCARD', 'll:orphans')).toBe('2');

    await live.beat();
    expect(swept).toEqual([[['left'], []]]); // 'connected' is due LEAVE_TIMEOUT_MS after the reap
    expect(await deadStore.get('connected')).toMatchObject({ status: 'leave' });
    until((reaped?.statusSince as number) + 410);
    await live.beat();
    expect(swept).toEqual([[['left'], []], [['connected'], []]]);
    const closed = await deadStore.get('connected');
    expect(closed).toMatchObject({ status: 'close', connected: false, nodeId: 'dead', epoch: 1, closeReason: 'timeout' });
    expect(closed?.transitions.slice(-2)).toEqual([
      expect.objectContaining({ from: 'alive', to: 'leave', reason: expect.stringContaining('node dead lost'), nodeId: 'dead' }),
      expect.objectContaining({ from: 'leave', to: 'close', reason: 'timeout', nodeId: 'dead' }),
    ]);
    expect(closed?.closedAt).toBe(closed?.statusSince);
    expect(await deadStore.get('left')).toMatchObject({ status: 'close', connected: false, closeReason: 'timeout' });
    expect(await deadStore.get('back')).toMatchObject({ status: 'alive', connected: true, nodeId: 'live', epoch: 2 });
    expect(await deadStore.stats()).toEqual({
      total: 3,
      byStatus: { alive: 1, leave: 0, close: 2 },
      connected: 1,
      nodes: { dead: { connected: 0, total: 2 }, live: { connected: 1, total: 1 } },
    });
    expect((await deadStore.list({ status: 'close' }, {})).items.map((r) => r.clientId)).toEqual(['connected', 'left']);
    const events = await server.command('XRANGE', 'll:events', '-', '+');
    expect(events.match(/"to":"close"/g)?.length).toBe(2);

    // Retention, counted from each close ('left' closed about 400 ms before 'connected'): each goes, counters with it.
    swept.length = 0;
    until(((await deadStore.get('left'))?.closedAt as number) + 610);
    await live.beat();
    expect(swept).toEqual([[[], ['left']]]);
    expect(await deadStore.get('connected')).toMatchObject({ status: 'close' });
    until((closed?.closedAt as number) + 610);
    await live.beat();
    expect(swept).toEqual([[[], ['left']], [[], ['connected']]]);
    expect(await deadStore.get('connected')).toBeUndefined();
    expect(await deadStore.get('left')).toBeUndefined();
    expect(await deadStore.stats()).toEqual({ total: 1, byStatus: { alive: 1, leave: 0, close: 0 }, connected: 1, nodes: { live: { connected: 1, total: 1 } } });
    expect(await server.command('ZCARD', 'll:orphans')).toBe('0');
    expect(await server.command('HLEN', 'll:orphans:epoch')).toBe('0');
  });
});

describe('ClusterEvents', () => {
  it('a watching node sees the events every node publishes', async () => {
    const a = new ClusterEvents(await client(), () => createRedisConnection(server.url, { name: 'reader' }));
    const b = new ClusterEvents(await client(), () => createRedisConnection(server.url, { name: 'reader' }));
    const seen = firstValueFrom(b.events$.pipe(take(3), toArray()));
    await new Promise((r) => setTimeout(r, 100));
    a.publish('presence', { clientId: 'x', from: null, to: 'alive', reason: 'login', at: 1, nodeId: 'A' });
    a.publish('command', { id: 'c', clientId: 'x', name: 'n', from: null, to: 'queued', at: 2, nodeId: 'A' });
    b.publish('presence', { clientId: 'y', from: null, to: 'alive', reason: 'login', at: 3, nodeId: 'B' });
    expect(await seen).toEqual([
      { kind: 'presence', event: expect.objectContaining({ clientId: 'x', nodeId: 'A' }) },
      { kind: 'command', event: expect.objectContaining({ id: 'c' }) },
      { kind: 'presence', event: expect.objectContaining({ clientId: 'y', nodeId: 'B' }) },
    ]);
  });
});

describe('RedisPresenceStore across nodes', () => {
  it('nextEpoch: unique and increasing for racing logins, above the stored record and above what the node had', async () => {
    const store = new RedisPresenceStore(await client());
    const racing = await Promise.all([store.nextEpoch('e', 0), store.nextEpoch('e', 0), store.nextEpoch('e', 0)]);
    expect(new Set(racing).size).toBe(3);
    expect([...racing].sort()).toEqual([1, 2, 3]);
    await store.save(presenceRecord('e', { epoch: 10 })); // e.g. written back after Redis came back empty
    expect(await store.nextEpoch('e', 0)).toBe(11);
    expect(await store.nextEpoch('e', 20)).toBe(21);
    await store.delete('e');
    expect(await store.nextEpoch('e', 0)).toBe(1);
  });

  it('reports the session a save displaced on another node, and a connected save that was fenced off', async () => {
    const store = new RedisPresenceStore(await client());
    const displaced: unknown[] = [];
    const fenced: unknown[] = [];
    store.onDisplaced = (d) => displaced.push(d);
    store.onFenced = (id, epoch) => fenced.push([id, epoch]);
    await store.save(presenceRecord('t', { nodeId: 'A', epoch: 1 }));
    await store.save(presenceRecord('t', { nodeId: 'A', epoch: 1, status: 'leave' })); // same node: nothing
    await store.save(presenceRecord('t', { nodeId: 'A', epoch: 1 }));
    await store.save(presenceRecord('t', { nodeId: 'B', epoch: 2 }));
    expect(displaced).toEqual([{ clientId: 't', nodeId: 'A', epoch: 1, by: 2 }]);
    expect(await store.save(presenceRecord('t', { nodeId: 'A', epoch: 1, connected: true }))).toBe(false);
    expect(await store.save(presenceRecord('t', { nodeId: 'A', epoch: 1, connected: false, status: 'leave' }))).toBe(false);
    expect(fenced).toEqual([['t', 1]]);
  });
});

describe('RedisPresenceStore while Redis is unreachable', () => {
  // Last in the file: it stops the shared server and starts it again (empty).
  it("nextEpoch waits for Redis instead of failing the login, answers once it is back, and gives up only when the node closes", async () => {
    const redis = createRedisConnection(server.url, { name: 'test', maxBackoffMs: 50 });
    await redis.connect();
    open.push(redis);
    const store = new RedisPresenceStore(redis);
    const closing = createRedisConnection(server.url, { name: 'test', maxBackoffMs: 50 });
    await closing.connect();
    await server.stop();
    const settled: string[] = [];
    const epoch = store.nextEpoch('w', 4).then((n) => (settled.push('epoch'), n));
    const lost = new RedisPresenceStore(closing).nextEpoch('w', 0).catch((error: Error) => (settled.push('closed'), error));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toEqual([]);
    closing.destroy(); // the node is stopping: its waiting logins end
    expect(await lost).toBeInstanceOf(Error);
    await server.restart();
    expect(await epoch).toBe(5);
    expect(settled).toEqual(['closed', 'epoch']);
  });
});
