import { BadCursorError } from '../../src/commands/command.errors';
import type { CommandStore } from '../../src/commands/command.store';
import type { CommandRecord } from '../../src/commands/command.types';

/** What a store's spec hands the contract: a fresh, empty store and how to dispose of it. */
export interface CommandStoreHandle {
  store: CommandStore;
  close(): Promise<void>;
}

let n = 0;
/** A queued command with a unique id; `extra` overrides. */
export function commandRecord(clientId: string, extra: Partial<CommandRecord> = {}): CommandRecord {
  n++;
  return { id: `c${n}-${process.pid}`, clientId, name: `n${n}`, status: 'queued', createdAt: 1000 + n, expiresAt: 10_000 + n, attempts: 0, ...extra };
}

/**
 * The behaviour every CommandStore must have (memory, SQLite, Redis): each
 * implementation's spec calls this with a factory of fresh, empty stores.
 */
export function commandStoreContract(name: string, make: () => Promise<CommandStoreHandle>): void {
  describe(`CommandStore contract: ${name}`, () => {
    let handle: CommandStoreHandle;
    let store: CommandStore;
    beforeEach(async () => {
      handle = await make();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.close();
    });

    it('gets a command as inserted, and undefined for an unknown id', async () => {
      const c = commandRecord('a', { data: { deep: [1, 'x'], n: null }, batchId: 'B' });
      const expected = structuredClone(c);
      expect(await store.insert(c, 10)).toEqual({ ok: true });
      expect(await store.get(c.id)).toEqual(expected);
      expect(await store.get('nope')).toBeUndefined();
    });

    it('returns copies: changing what it gave back or what it was given changes nothing inside', async () => {
      const c = commandRecord('a', { data: { deep: [1] } });
      await store.insert(c, 10);
      (c.data as { deep: number[] }).deep.push(2);
      const got = (await store.get(c.id)) as CommandRecord;
      expect(got.data).toEqual({ deep: [1] });
      (got.data as { deep: number[] }).deep.push(3);
      got.status = 'acked';
      expect(await store.get(c.id)).toMatchObject({ status: 'queued', data: { deep: [1] } });
      const [pending] = await store.pending('a');
      pending.name = 'changed';
      expect((await store.get(c.id))?.name).toBe(c.name);
    });

    it('hands out records without the fields never set', async () => {
      const c = commandRecord('a');
      await store.insert(c, 10);
      expect(Object.keys((await store.get(c.id)) as CommandRecord).sort()).toEqual(Object.keys(c).sort());
    });

    it('refuses an insert once the client has maxPending queued or sent commands, and counts per client', async () => {
      await store.insert(commandRecord('a'), 2);
      const sent = commandRecord('a');
      await store.insert(sent, 2);
      await store.update(sent.id, ['queued'], { status: 'sent' });
      expect(await store.insert(commandRecord('a'), 2)).toEqual({ ok: false, pending: 2 });
      expect(await store.insert(commandRecord('b'), 2)).toEqual({ ok: true });
      // A final command frees its slot.
      await store.update(sent.id, ['sent'], { status: 'acked', finishedAt: 5 });
      expect(await store.insert(commandRecord('a'), 2)).toEqual({ ok: true });
    });

    it('pendingCount: queued and sent commands of the client, not final ones', async () => {
      expect(await store.pendingCount('a')).toBe(0);
      const [a1, a2, a3] = [commandRecord('a'), commandRecord('a'), commandRecord('a')];
      for (const c of [a1, a2, a3, commandRecord('b')]) await store.insert(c, 10);
      await store.insert(commandRecord('a', { status: 'acked', finishedAt: 1 }), 10); // final from the start
      expect(await store.pendingCount('a')).toBe(3);
      await store.update(a1.id, ['queued'], { status: 'sent' });
      expect(await store.pendingCount('a')).toBe(3);
      await store.update(a2.id, ['queued'], { status: 'expired', finishedAt: 2 });
      await store.transition(a1.id, ['sent'], { status: 'acked', finishedAt: 3 }, 'a');
      expect(await store.pendingCount('a')).toBe(1);
      expect(await store.pendingCount('b')).toBe(1);
      expect(await store.pendingCount('nobody')).toBe(0);
    });

    it('updates only from the expected statuses (compare-and-set)', async () => {
      const c = commandRecord('a');
      await store.insert(c, 10);
      expect(await store.update(c.id, ['sent'], { status: 'acked' })).toBeUndefined();
      expect(await store.update(c.id, ['queued'], { status: 'expired', finishedAt: 7 })).toMatchObject({ status: 'expired', finishedAt: 7 });
      // An ACK racing the expiry loses.
      expect(await store.update(c.id, ['queued', 'sent'], { status: 'acked' })).toBeUndefined();
      expect(await store.update('nope', ['queued'], { status: 'sent' })).toBeUndefined();
    });

    it('of two concurrent transitions from the same status exactly one wins', async () => {
      const c = commandRecord('a');
      await store.insert(c, 10);
      await store.update(c.id, ['queued'], { status: 'sent', sentAt: 1, attempts: 1 });
      const [ack, expiry] = await Promise.all([
        store.transition(c.id, ['queued', 'sent'], { status: 'acked', ackedAt: 2, finishedAt: 2 }, 'a'),
        store.transition(c.id, ['queued', 'sent'], { status: 'expired', finishedAt: 2 }),
      ]);
      expect([ack, expiry].filter((x) => x !== undefined)).toHaveLength(1);
      expect(['acked', 'expired']).toContain((await store.get(c.id))?.status);
    });

    it('transition says which status it replaced, and with a clientId touches only that client\'s command', async () => {
      const c = commandRecord('a');
      await store.insert(c, 10);
      expect(await store.transition(c.id, ['queued'], { status: 'sent', sentAt: 5, attempts: 1 })).toEqual({
        from: 'queued',
        record: expect.objectContaining({ id: c.id, status: 'sent', sentAt: 5, attempts: 1 }),
      });
      expect(await store.transition(c.id, ['queued', 'sent'], { status: 'acked', finishedAt: 6 }, 'b')).toBeUndefined();
      expect((await store.get(c.id))?.status).toBe('sent');
      const acked = await store.transition(c.id, ['queued', 'sent'], { status: 'acked', finishedAt: 6, result: { r: [1] } }, 'a');
      expect(acked).toMatchObject({ from: 'sent', record: { status: 'acked', result: { r: [1] } } });
      expect(await store.pending('a')).toEqual([]);
      expect(await store.transition('nope', ['sent'], { status: 'acked' }, 'a')).toBeUndefined();
    });

    it('stores an ACK error and result as copies', async () => {
      const c = commandRecord('a');
      await store.insert(c, 10);
      const error = { code: 'E_BUSY', message: 'busy' };
      await store.transition(c.id, ['queued'], { status: 'failed', ackedAt: 3, finishedAt: 3, error });
      error.message = 'changed';
      expect(await store.get(c.id)).toMatchObject({ status: 'failed', ackedAt: 3, finishedAt: 3, error: { code: 'E_BUSY', message: 'busy' } });
    });

    it('gives a client its pending commands oldest first, without the final ones', async () => {
      const [a1, a2, b1, a3] = [commandRecord('a'), commandRecord('a'), commandRecord('b'), commandRecord('a')];
      for (const c of [a1, a2, b1, a3]) await store.insert(c, 10);
      await store.update(a2.id, ['queued'], { status: 'failed', finishedAt: 1 });
      expect((await store.pending('a')).map((c) => c.id)).toEqual([a1.id, a3.id]);
      expect(await store.pending('nobody')).toEqual([]);
    });

    it('finds the pending commands due for expiry', async () => {
      const early = commandRecord('a', { expiresAt: 100 });
      const late = commandRecord('b', { expiresAt: 200 });
      const done = commandRecord('c', { expiresAt: 50 });
      for (const c of [early, late, done]) await store.insert(c, 10);
      await store.update(done.id, ['queued'], { status: 'acked', finishedAt: 60 });
      expect((await store.due(99)).map((c) => c.id)).toEqual([]);
      expect((await store.due(100)).map((c) => c.id)).toEqual([early.id]);
      expect((await store.due(1000)).map((c) => c.id).sort()).toEqual([early.id, late.id].sort());
    });

    it('purges final commands finished at or before the bound, from every index', async () => {
      const a = commandRecord('a', { batchId: 'b1' });
      const b = commandRecord('a', { batchId: 'b1' });
      const pending = commandRecord('a', { batchId: 'b1' });
      for (const c of [a, b, pending]) await store.insert(c, 10);
      await store.update(a.id, ['queued'], { status: 'acked', finishedAt: 100 });
      await store.update(b.id, ['queued'], { status: 'expired', finishedAt: 200 });
      expect(await store.purgeFinished(99)).toBe(0);
      expect(await store.purgeFinished(150)).toBe(1);
      expect(await store.get(a.id)).toBeUndefined();
      expect((await store.list({ batchId: 'b1' }, {})).items.map((c) => c.id)).toEqual([b.id, pending.id]);
      expect(await store.purgeFinished(10_000)).toBe(1);
      expect((await store.list({ clientId: 'a' }, {})).items.map((c) => c.id)).toEqual([pending.id]);
      expect(await store.pendingCount('a')).toBe(1);
    });

    it('lists by client, batch and status, paged by an opaque cursor in creation order', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const c = commandRecord(i % 2 ? 'odd' : 'even', { batchId: 'B' });
        ids.push(c.id);
        await store.insert(c, 10);
      }
      await store.insert(commandRecord('even'), 10); // not in the batch
      const p1 = await store.list({ batchId: 'B' }, { limit: 2 });
      expect(p1.items.map((c) => c.id)).toEqual(ids.slice(0, 2));
      expect(p1.total).toBe(5);
      const p2 = await store.list({ batchId: 'B' }, { limit: 2, cursor: p1.nextCursor });
      const p3 = await store.list({ batchId: 'B' }, { limit: 2, cursor: p2.nextCursor });
      expect([...p2.items, ...p3.items].map((c) => c.id)).toEqual(ids.slice(2));
      expect(p3.nextCursor).toBeUndefined();
      expect((await store.list({ batchId: 'B', clientId: 'odd' }, {})).items.map((c) => c.id)).toEqual([ids[1], ids[3]]);
      await store.update(ids[0], ['queued'], { status: 'sent' });
      expect((await store.list({ status: 'sent' }, {})).items.map((c) => c.id)).toEqual([ids[0]]);
      expect((await store.list({ clientId: 'even' }, {})).total).toBe(4);
      expect((await store.list({}, {})).total).toBe(6);
    });

    it('refuses a cursor it did not make', async () => {
      await expect(store.list({}, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(BadCursorError);
    });

    it('insertMany applies the per-client bound as the batch fills, and answers in order', async () => {
      await store.insert(commandRecord('a'), 2);
      const results = await store.insertMany([commandRecord('a'), commandRecord('b'), commandRecord('a'), commandRecord('b', { status: 'acked', finishedAt: 1 })], 2);
      expect(results).toEqual([{ ok: true }, { ok: true }, { ok: false, pending: 2 }, { ok: true }]);
      expect((await store.pending('a')).length).toBe(2);
      expect((await store.list({ clientId: 'b' }, {})).total).toBe(2);
    });

    it('insertMany gives every record a copy of its own of shared data', async () => {
      const data = { deep: [1] };
      const batch = [commandRecord('a', { data, batchId: 'B' }), commandRecord('b', { data, batchId: 'B' })];
      await store.insertMany(batch, 10);
      data.deep.push(2);
      const [first, second] = (await store.list({ batchId: 'B' }, {})).items;
      expect(first.data).toEqual({ deep: [1] });
      (first.data as { deep: number[] }).deep.push(3);
      expect(second.data).toEqual({ deep: [1] });
      expect((await store.get(batch[0].id))?.data).toEqual({ deep: [1] });
    });
  });
}
