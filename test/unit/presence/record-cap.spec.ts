import { LimitHits } from '../../../src/admission/limit-hits';
import { RecordCap } from '../../../src/presence/record-cap';

/** Issue 12, item 3: 20,000 one-shot clientIds stayed for 24 h. MAX_CLIENT_RECORDS and its policy. */
describe('RecordCap', () => {
  function setup(max: number) {
    const entries = new Map<string, { connected: boolean }>();
    const hits = new LimitHits();
    const lines: string[] = [];
    const cap = new RecordCap(max, entries, (id) => entries.delete(id), hits, (l) => lines.push(l), 0);
    const add = (id: string, status: 'alive' | 'leave' | 'close', connected = false) => {
      entries.set(id, { connected });
      cap.onStatus(id, status);
    };
    return { entries, hits, lines, cap, add };
  }

  it('admits anyone while there is room, and a known clientId always', () => {
    const { cap, add } = setup(2);
    add('a', 'alive');
    expect(cap.admit('b')).toBe(true);
    add('b', 'alive');
    expect(cap.admit('a')).toBe(true);
  });

  it('drops the record that closed longest ago to make room, counted and logged', () => {
    const { cap, add, entries, hits, lines } = setup(3);
    add('old', 'close');
    add('live', 'alive');
    add('newer', 'close');
    expect(cap.admit('fresh')).toBe(true);
    expect([...entries.keys()]).toEqual(['live', 'newer']);
    expect(hits.counts.client_records_evicted).toBe(1);
    expect(lines).toEqual(["dropped close record 'old' before CLOSED_RETENTION_MS: MAX_CLIENT_RECORDS (3) reached"]);
  });

  it('orders by when a record closed, not when it was created; a reopened one is no longer a candidate', () => {
    const { cap, add, entries } = setup(2);
    add('a', 'close');
    add('b', 'close');
    cap.onStatus('a', 'alive'); // a logged in again
    cap.onStatus('a', 'close'); // and closed after b
    expect(cap.admit('c')).toBe(true);
    expect([...entries.keys()]).toEqual(['a']);
    cap.onStatus('a', 'alive');
    entries.set('c', { connected: false });
    expect(cap.admit('d')).toBe(false);
  });

  it('refuses a new clientId when only alive and leave records remain, and drops nothing', () => {
    const { cap, add, entries, hits, lines } = setup(2);
    add('a', 'alive');
    add('b', 'leave');
    expect(cap.admit('c')).toBe(false);
    expect(entries.size).toBe(2);
    expect(hits.counts.client_records_refused).toBe(1);
    expect(lines[0]).toBe("refused new clientId 'c': the node holds MAX_CLIENT_RECORDS (2) client records and none of them is close");
  });

  it('never drops a close record whose socket is still attached (a kick being flushed)', () => {
    const { cap, add } = setup(1);
    add('kicked', 'close', true);
    expect(cap.admit('x')).toBe(false);
  });

  it('only makes room, without counting a refusal, when asked not to refuse', () => {
    const { cap, add, hits } = setup(1);
    add('a', 'alive');
    expect(cap.admit('b', false)).toBe(false);
    expect(hits.counts.client_records_refused).toBe(0);
  });
});
