import { IdIndex } from '../../../src/commands/id-index';

describe('IdIndex', () => {
  it('keeps ids per key in the order added, one inline and more in a set, without duplicates', () => {
    const index = new IdIndex();
    index.add('k', 'a');
    expect([...index.ids('k')]).toEqual(['a']);
    index.add('k', 'a');
    expect(index.count('k')).toBe(1);
    index.add('k', 'b');
    index.add('k', 'c');
    index.add('other', 'x');
    expect([...index.ids('k')]).toEqual(['a', 'b', 'c']);
    expect(index.count('k')).toBe(3);
    expect([...index.all()].sort()).toEqual(['a', 'b', 'c', 'x']);
  });

  it('forgets a key once its last id is deleted, and ignores ids it does not hold', () => {
    const index = new IdIndex();
    index.add('one', 'a');
    index.delete('one', 'zzz');
    expect(index.count('one')).toBe(1);
    index.delete('one', 'a');
    expect(index.count('one')).toBe(0);
    expect([...index.ids('one')]).toEqual([]);
    index.add('two', 'a');
    index.add('two', 'b');
    index.delete('two', 'a');
    expect([...index.ids('two')]).toEqual(['b']);
    index.delete('two', 'b');
    index.delete('never', 'a');
    expect([...index.all()]).toEqual([]);
  });
});
