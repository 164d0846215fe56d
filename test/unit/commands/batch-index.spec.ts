import { BatchIndex } from '../../../src/commands/batch-index';

describe('BatchIndex', () => {
  it('lists a batch in the order added, and forgets it once every command of it was removed', () => {
    const index = new BatchIndex();
    for (const id of ['a', 'b', 'c']) index.add('B', id);
    index.add('other', 'x');
    expect(index.ids('B')).toEqual(['a', 'b', 'c']);
    index.removed('B');
    index.removed('B');
    // Removed ids stay listed (readers skip them) until the batch is gone.
    expect(index.ids('B')).toEqual(['a', 'b', 'c']);
    index.removed('B');
    expect(index.ids('B')).toEqual([]);
    expect(index.ids('other')).toEqual(['x']);
    index.removed('never');
    expect(index.ids('never')).toEqual([]);
  });
});
