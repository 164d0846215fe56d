import { MemoryPresenceStore } from '../../../src/presence/memory-presence.store';
import { presenceRecord, presenceStoreContract } from '../../contract/presence-store.contract';

presenceStoreContract('memory', async () => ({ store: new MemoryPresenceStore(), close: async () => undefined }));

describe('MemoryPresenceStore', () => {
  it('keeps the record it was given (ownership passes) and hands out copies', async () => {
    const store = new MemoryPresenceStore();
    const r = presenceRecord('dev-1');
    await store.save(r);
    const got = await store.get('dev-1');
    expect(got).toEqual(r);
    expect(got).not.toBe(r);
  });
});
