import { MemoryCommandStore, encodeCommandCursor } from '../../../src/commands/memory-command.store';
import type { CommandRecord } from '../../../src/commands/command.types';
import { commandStoreContract } from '../../contract/command-store.contract';

commandStoreContract('memory', async () => ({ store: new MemoryCommandStore(), close: async () => undefined }));

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

  it('reads a cursor of position 0 as the start', async () => {
    for (let i = 0; i < 3; i++) await store.insert(command('a'), 10);
    expect((await store.list({}, { cursor: encodeCommandCursor(0) })).total).toBe(3);
    expect((await store.list({}, { cursor: encodeCommandCursor(0) })).items).toHaveLength(3);
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

});
