import { MemoryCommandStore, encodeCommandCursor } from '../../../src/commands/memory-command.store';
import { BadCursorError } from '../../../src/commands/command.errors';
import type { CommandRecord } from '../../../src/commands/command.types';

let n = 0;
function command(clientId: string, extra: Partial<CommandRecord> = {}): CommandRecord {
  n++;
  return { id: `c${n}`, clientId, name: `n${n}`, status: 'queued', createdAt: 1000 + n, expiresAt: 10_000 + n, attempts: 0, ...extra };
}

describe('MemoryCommandStore', () => {
  let store: MemoryCommandStore;
  beforeEach(() => {
    store = new MemoryCommandStore();
  });

  it('returns copies: changing what it gave back or what it was given changes nothing inside', async () => {
    const c = command('a', { data: { deep: [1] } });
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

  it('refuses an insert once the client has maxPending queued or sent commands, and counts per client', async () => {
    await store.insert(command('a'), 2);
    const sent = command('a');
    await store.insert(sent, 2);
    await store.update(sent.id, ['queued'], { status: 'sent' });
    expect(await store.insert(command('a'), 2)).toEqual({ ok: false, pending: 2 });
    expect(await store.insert(command('b'), 2)).toEqual({ ok: true });
    // A final command frees its slot.
    await store.update(sent.id, ['sent'], { status: 'acked', finishedAt: 5 });
    expect(await store.insert(command('a'), 2)).toEqual({ ok: true });
  });

  it('updates only from the expected statuses (compare-and-set)', async () => {
    const c = command('a');
    await store.insert(c, 10);
    expect(await store.update(c.id, ['sent'], { status: 'acked' })).toBeUndefined();
    expect(await store.update(c.id, ['queued'], { status: 'expired', finishedAt: 7 })).toMatchObject({ status: 'expired', finishedAt: 7 });
    // An ACK racing the expiry loses.
    expect(await store.update(c.id, ['queued', 'sent'], { status: 'acked' })).toBeUndefined();
    expect(await store.update('nope', ['queued'], { status: 'sent' })).toBeUndefined();
  });

  it('gives a client its pending commands oldest first, without the final ones', async () => {
    const [a1, a2, b1, a3] = [command('a'), command('a'), command('b'), command('a')];
    for (const c of [a1, a2, b1, a3]) await store.insert(c, 10);
    await store.update(a2.id, ['queued'], { status: 'failed', finishedAt: 1 });
    expect((await store.pending('a')).map((c) => c.id)).toEqual([a1.id, a3.id]);
    expect(await store.pending('nobody')).toEqual([]);
  });

  it('finds the pending commands due for expiry', async () => {
    const early = command('a', { expiresAt: 100 });
    const late = command('b', { expiresAt: 200 });
    const done = command('c', { expiresAt: 50 });
    for (const c of [early, late, done]) await store.insert(c, 10);
    await store.update(done.id, ['queued'], { status: 'acked', finishedAt: 60 });
    expect((await store.due(99)).map((c) => c.id)).toEqual([]);
    expect((await store.due(100)).map((c) => c.id)).toEqual([early.id]);
    expect((await store.due(1000)).map((c) => c.id).sort()).toEqual([early.id, late.id].sort());
  });

  it('purges final commands finished at or before the bound, from every index', async () => {
    const a = command('a', { batchId: 'b1' });
    const b = command('a', { batchId: 'b1' });
    const pending = command('a', { batchId: 'b1' });
    for (const c of [a, b, pending]) await store.insert(c, 10);
    await store.update(a.id, ['queued'], { status: 'acked', finishedAt: 100 });
    await store.update(b.id, ['queued'], { status: 'expired', finishedAt: 200 });
    expect(await store.purgeFinished(99)).toBe(0);
    expect(await store.purgeFinished(150)).toBe(1);
    expect(await store.get(a.id)).toBeUndefined();
    expect((await store.list({ batchId: 'b1' }, {})).items.map((c) => c.id)).toEqual([b.id, pending.id]);
    expect(await store.purgeFinished(10_000)).toBe(1);
    expect((await store.list({ clientId: 'a' }, {})).items.map((c) => c.id)).toEqual([pending.id]);
  });

  it('lists by client, batch and status, paged by an opaque cursor in creation order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = command(i % 2 ? 'odd' : 'even', { batchId: 'B' });
      ids.push(c.id);
      await store.insert(c, 10);
    }
    await store.insert(command('even'), 10); // not in the batch
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
    expect((await store.list({}, { cursor: encodeCommandCursor(0) })).total).toBe(6);
  });

  it('insertMany applies the per-client bound as the batch fills, and answers in order', async () => {
    await store.insert(command('a'), 2);
    const results = await store.insertMany([command('a'), command('b'), command('a'), command('b', { status: 'acked', finishedAt: 1 })], 2);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: false, pending: 2 }, { ok: true }]);
    expect((await store.pending('a')).length).toBe(2);
    expect((await store.list({ clientId: 'b' }, {})).total).toBe(2);
  });

  it('insertMany copies data once for the batch, yet every reader gets a copy of its own', async () => {
    const data = { deep: [1] };
    const batch = [command('a', { data, batchId: 'B' }), command('b', { data, batchId: 'B' })];
    const clone = jest.spyOn(globalThis, 'structuredClone');
    await store.insertMany(batch, 10);
    expect(clone).toHaveBeenCalledTimes(1);
    clone.mockRestore();
    data.deep.push(2);
    const [first, second] = (await store.list({ batchId: 'B' }, {})).items;
    expect(first.data).toEqual({ deep: [1] });
    (first.data as { deep: number[] }).deep.push(3);
    expect(second.data).toEqual({ deep: [1] });
    expect((await store.get(batch[0].id))?.data).toEqual({ deep: [1] });
  });

  it('transition says which status it replaced, and with a clientId touches only that client\'s command', async () => {
    const c = command('a');
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

  it('hands out records without the fields never set', async () => {
    const c = command('a');
    await store.insert(c, 10);
    expect(Object.keys((await store.get(c.id)) as CommandRecord).sort()).toEqual(Object.keys(c).sort());
  });

  it('refuses a cursor it did not make', async () => {
    await expect(store.list({}, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(BadCursorError);
  });
});
