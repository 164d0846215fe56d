import { SessionEntry, SessionRegistry } from '../../../src/transport/session-registry';

class FakeSession implements SessionEntry {
  closed = false;
  constructor(readonly clientId: string) {}
}

describe('SessionRegistry', () => {
  it('holds one session per client; a takeover returns the one it replaces', () => {
    const registry = new SessionRegistry<FakeSession>();
    const first = new FakeSession('a');
    expect(registry.register('a', first)).toBeUndefined();
    const second = new FakeSession('a');
    expect(registry.register('a', second)).toBe(first);
    expect(registry.get('a')).toBe(second);
    expect(registry.size).toBe(1);
    // Registering the same connection again replaces nothing.
    expect(registry.register('a', second)).toBeUndefined();
  });

  it('release: true only for the current session, so a replaced one closing is not the client leaving', () => {
    const registry = new SessionRegistry<FakeSession>();
    const first = new FakeSession('a');
    const second = new FakeSession('a');
    registry.register('a', first);
    registry.register('a', second);
    expect(registry.release(first)).toBe(false);
    expect(registry.get('a')).toBe(second);
    expect(registry.release(second)).toBe(true);
    expect(registry.get('a')).toBeUndefined();
    expect(registry.release(new FakeSession('nobody'))).toBe(false);
  });

  it('live: the registered session only while it is open', () => {
    const registry = new SessionRegistry<FakeSession>();
    const s = new FakeSession('a');
    registry.register('a', s);
    expect(registry.live('a')).toBe(s);
    s.closed = true;
    expect(registry.live('a')).toBeUndefined();
    expect(registry.get('a')).toBe(s); // until its close is handled
    expect([...registry.values()]).toEqual([s]);
  });
});
