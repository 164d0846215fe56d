import type { PresenceStore } from '../../src/presence/presence.store';
import type { ClientRecord, PresenceStatus } from '../../src/presence/presence.types';

/** What a store's spec hands the contract: a fresh, empty store and how to dispose of it. */
export interface PresenceStoreHandle {
  store: PresenceStore;
  close(): Promise<void>;
}

/** A complete record with every field set; `extra` overrides. */
export function presenceRecord(clientId: string, extra: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId,
    status: 'alive',
    connected: true,
    sessionId: `s-${clientId}`,
    remoteAddress: '10.0.0.1',
    remotePort: 40000,
    meta: {},
    reported: {},
    connectedAt: 1000,
    lastSeenAt: 1000,
    lastHeartbeatAt: null,
    statusSince: 1000,
    strikes: 0,
    livenessCursor: 3,
    epoch: 1,
    closeReason: null,
    closedAt: null,
    nodeId: 'node-a',
    transitions: [],
    ...extra,
  };
}

/**
 * The behaviour every PresenceStore must have (memory, SQLite, Redis): each
 * implementation's spec calls this with a factory of fresh, empty stores.
 */
export function presenceStoreContract(name: string, make: () => Promise<PresenceStoreHandle>): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let handle: PresenceStoreHandle;
    let store: PresenceStore;
    beforeEach(async () => {
      handle = await make();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.close();
    });

    async function saveAll(...records: ClientRecord[]): Promise<void> {
      for (const r of records) expect(await store.save(r)).toBe(true);
    }

    it('saves and gets a record with every field as written, and undefined for an unknown client', async () => {
      const r = presenceRecord('dev-1', {
        meta: { region: 'eu', n: 2, nested: { a: [1, 'x'] } },
        reported: { pid: 42, ip: '192.168.1.105' },
        transitions: [{ clientId: 'dev-1', from: null, to: 'alive', reason: 'login', at: 1000, nodeId: 'node-a' }],
        lastHeartbeatAt: 1500,
      });
      const expected = structuredClone(r);
      await saveAll(r);
      expect(await store.get('dev-1')).toEqual(expected);
      expect(await store.get('nobody')).toBeUndefined();
    });

    it('hands out copies: changing what it gave back changes nothing inside', async () => {
      await saveAll(presenceRecord('dev-1', { meta: { deep: [1] } }));
      const got = (await store.get('dev-1')) as ClientRecord;
      (got.meta.deep as number[]).push(2);
      got.status = 'close';
      expect(await store.get('dev-1')).toMatchObject({ status: 'alive', meta: { deep: [1] } });
      const [listed] = (await store.list({}, {})).items;
      listed.meta.changed = true;
      expect((await store.get('dev-1'))?.meta).toEqual({ deep: [1] });
    });

    it('overwrites a record of the same or an older epoch', async () => {
      await saveAll(presenceRecord('dev-1', { epoch: 1, status: 'alive' }));
      expect(await store.save(presenceRecord('dev-1', { epoch: 1, status: 'leave' }))).toBe(true);
      expect((await store.get('dev-1'))?.status).toBe('leave');
      expect(await store.save(presenceRecord('dev-1', { epoch: 2, status: 'alive', sessionId: 's2' }))).toBe(true);
      expect(await store.get('dev-1')).toMatchObject({ epoch: 2, status: 'alive', sessionId: 's2' });
    });

    it('fences off a late write of an older session (lower epoch): false, and the newer record stays', async () => {
      await saveAll(presenceRecord('dev-1', { epoch: 5, status: 'alive', sessionId: 'new' }));
      expect(await store.save(presenceRecord('dev-1', { epoch: 4, status: 'leave', sessionId: 'old' }))).toBe(false);
      expect(await store.get('dev-1')).toMatchObject({ epoch: 5, status: 'alive', sessionId: 'new' });
      // Another client is not affected by dev-1's fence.
      expect(await store.save(presenceRecord('dev-2', { epoch: 1 }))).toBe(true);
      const stats = await store.stats();
      expect(stats.byStatus).toEqual({ alive: 2, leave: 0, close: 0 });
    });

    it('deletes a record (and deleting an unknown one is no error)', async () => {
      await saveAll(presenceRecord('dev-1'), presenceRecord('dev-2'));
      await store.delete('dev-1');
      await store.delete('nobody');
      expect(await store.get('dev-1')).toBeUndefined();
      expect((await store.list({}, {})).items.map((r) => r.clientId)).toEqual(['dev-2']);
      // After a delete the client starts over: epoch 1 is written again.
      expect(await store.save(presenceRecord('dev-1', { epoch: 1 }))).toBe(true);
    });

    it('lists ordered by clientId, paged by an opaque cursor, with the total of all pages', async () => {
      const ids = ['c', 'a', 'e', 'b', 'd', 'a:1', 'A'];
      for (const id of ids) await saveAll(presenceRecord(id));
      const sorted = [...ids].sort();
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({}, { limit: 3, cursor });
        expect(page.total).toBe(ids.length);
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((r) => r.clientId));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      expect(seen).toEqual(sorted);
      expect(pages).toBe(3);
      const exact = await store.list({}, { limit: ids.length });
      expect(exact.items).toHaveLength(ids.length);
      expect(exact.nextCursor).toBeUndefined();
    });

    it('pages with the default size of 100 and at most 1000 a page', async () => {
      for (let i = 0; i < 120; i++) await store.save(presenceRecord(`d${String(i).padStart(4, '0')}`));
      const first = await store.list({}, {});
      expect(first.items).toHaveLength(100);
      expect(first.nextCursor).toBeDefined();
      const rest = await store.list({}, { cursor: first.nextCursor, limit: 5000 });
      expect(rest.items).toHaveLength(20);
      expect(rest.nextCursor).toBeUndefined();
      expect((await store.list({}, { limit: 0 })).items).toHaveLength(1);
    });

    it('filters by status, connected, clientIds, meta and q (clientId or meta, case-insensitive), combined with AND', async () => {
      await saveAll(
        presenceRecord('dev-1', { status: 'alive', connected: true, meta: { region: 'eu', tier: 1 } }),
        presenceRecord('dev-2', { status: 'leave', connected: false, meta: { region: 'us' } }),
        presenceRecord('dev-3', { status: 'close', connected: false, meta: { region: 'eu', tier: 2 } }),
        presenceRecord('Sensor-4', { status: 'alive', connected: true, meta: { site: 'Berlin' } }),
      );
      const ids = async (f: Parameters<PresenceStore['list']>[0]) => (await store.list(f, {})).items.map((r) => r.clientId);
      expect(await ids({ status: 'alive' })).toEqual(['Sensor-4', 'dev-1']);
      expect(await ids({ connected: false })).toEqual(['dev-2', 'dev-3']);
      expect(await ids({ clientIds: ['dev-3', 'dev-1', 'nobody'] })).toEqual(['dev-1', 'dev-3']);
      expect(await ids({ meta: { region: 'eu' } })).toEqual(['dev-1', 'dev-3']);
      expect(await ids({ meta: { region: 'eu', tier: 2 } })).toEqual(['dev-3']);
      expect(await ids({ meta: { tier: '2' } })).toEqual([]); // typed: the string '2' is not the number 2
      expect(await ids({ q: 'SENSOR' })).toEqual(['Sensor-4']);
      expect(await ids({ q: 'berlin' })).toEqual(['Sensor-4']);
      expect(await ids({ q: '' })).toHaveLength(4);
      expect(await ids({ status: 'alive', meta: { region: 'eu' } })).toEqual(['dev-1']);
      expect((await store.list({ status: 'close' }, {})).total).toBe(1);
    });

    it('ids: the clientIds passing a filter, in any order', async () => {
      await saveAll(
        presenceRecord('a', { status: 'alive', meta: { g: 1 } }),
        presenceRecord('b', { status: 'leave', meta: { g: 1 } }),
        presenceRecord('c', { status: 'close', meta: { g: 2 } }),
      );
      expect((await store.ids({})).sort()).toEqual(['a', 'b', 'c']);
      expect((await store.ids({ meta: { g: 1 } })).sort()).toEqual(['a', 'b']);
      expect(await store.ids({ status: 'close' })).toEqual(['c']);
      expect(await store.ids({ clientIds: ['nobody'] })).toEqual([]);
    });

    it('stats: totals by status, connected, and per node', async () => {
      expect(await store.stats()).toEqual({ total: 0, byStatus: { alive: 0, leave: 0, close: 0 }, connected: 0, nodes: {} });
      const statuses: Array<[string, PresenceStatus, boolean, string]> = [
        ['a', 'alive', true, 'n1'],
        ['b', 'alive', true, 'n2'],
        ['c', 'leave', false, 'n1'],
        ['d', 'close', false, 'n1'],
      ];
      for (const [id, status, connected, nodeId] of statuses) await saveAll(presenceRecord(id, { status, connected, nodeId }));
      // A transition rewrites the record: counted once, as it is now.
      await saveAll(presenceRecord('b', { status: 'leave', connected: false, nodeId: 'n2' }));
      expect(await store.stats()).toEqual({
        total: 4,
        byStatus: { alive: 1, leave: 2, close: 1 },
        connected: 1,
        nodes: { n1: { connected: 1, total: 3 }, n2: { connected: 0, total: 1 } },
      });
    });
  });
}
