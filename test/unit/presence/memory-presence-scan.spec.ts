import { MemoryPresenceStore, SCAN_SLICE } from '../../../src/presence/memory-presence.store';
import { SortedById } from '../../../src/presence/sorted-by-id';
import { presenceRecord } from '../../contract/presence-store.contract';

/**
 * Issue 12, item 5: each `?q=` search over 22,000 records held the event
 * loop ~150 ms, added to every device's round trip. The store now keeps the
 * search texts and the order, and scans in slices with a turn between them.
 */
describe('MemoryPresenceStore scans in slices', () => {
  const id = (i: number) => `dev-${String(i).padStart(6, '0')}`;

  it('lets other work run between slices of one query', async () => {
    const store = new MemoryPresenceStore();
    const n = SCAN_SLICE * 3 + 10;
    for (let i = 0; i < n; i++) await store.save({ ...presenceRecord(id(i)), meta: { region: i % 2 ? 'eu' : 'us' } });
    let turns = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const page = await store.list({ q: 'EU' }, { limit: 5 });
    done = true;
    expect(page.total).toBe(Math.floor(n / 2));
    expect(page.items.map((r) => r.clientId)).toEqual([id(1), id(3), id(5), id(7), id(9)]);
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('sees records added and removed while it yields, and loses none that stayed', async () => {
    const store = new MemoryPresenceStore();
    const n = SCAN_SLICE * 2 + 1;
    for (let i = 0; i < n; i++) await store.save(presenceRecord(id(i * 2)));
    const pending = store.ids({});
    // Runs after the first slice: one id before the resume point, one after it, one removed.
    setImmediate(() => {
      void store.save(presenceRecord(id(1)));
      void store.save(presenceRecord(id(n * 2 + 1)));
      void store.delete(id(n * 2 - 2));
    });
    const ids = new Set(await pending);
    for (let i = 0; i < n - 1; i++) expect(ids.has(id(i * 2))).toBe(true);
    expect(ids.has(id(n * 2 + 1))).toBe(true);
    expect(ids.has(id(n * 2 - 2))).toBe(false);
  });

  it('finds meta again after it changed (the cached search text follows the record)', async () => {
    const store = new MemoryPresenceStore();
    await store.save({ ...presenceRecord('dev-1'), meta: { region: 'eu' } });
    expect((await store.list({ q: 'eu' }, {})).total).toBe(1);
    await store.save({ ...presenceRecord('dev-1'), meta: { region: 'us' } });
    expect((await store.list({ q: 'eu' }, {})).total).toBe(0);
    expect((await store.list({ q: 'US' }, {})).total).toBe(1);
  });
});

describe('SortedById', () => {
  it('keeps code-unit order through adds, replaces and deletes', () => {
    const s = new SortedById<{ id: string; v: number }>();
    for (const id of ['b', 'a', 'C', 'c', 'a']) s.add({ id, v: 1 });
    s.add({ id: 'b', v: 2 });
    s.delete('c');
    s.delete('zz');
    expect(Array.from({ length: s.length }, (_, i) => s.at(i))).toEqual([
      { id: 'C', v: 1 },
      { id: 'a', v: 1 },
      { id: 'b', v: 2 },
    ]);
    expect(s.after(undefined)).toBe(0);
    expect(s.after('a')).toBe(2);
    expect(s.after('aa')).toBe(2);
  });
});
