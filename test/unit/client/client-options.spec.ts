import { LongLinkClient } from '../../../src/client';
import { resolveClientOptions } from '../../../src/client/client-options';

const base = { host: '127.0.0.1', port: 7000, clientId: 'dev-1' };

describe('LongLinkClient options', () => {
  it('fills in the documented defaults', () => {
    const o = resolveClientOptions(base);
    expect(o).toMatchObject({
      framing: 'length',
      heartbeatMs: 10_000,
      heartbeatTimeoutMs: undefined,
      reconnect: { minDelayMs: 1000, maxDelayMs: 30_000, factor: 2, maxAttempts: Infinity },
      stableAfterMs: 30_000,
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
      maxQueuedFrames: 1000,
      commandDedupSize: 1000,
      stopOnKick: ['replaced'],
      closeTimeoutMs: 1000,
    });
    expect(resolveClientOptions({ ...base, tls: true }).tls).toEqual({});
    // A minDelayMs above the default cap lifts the cap instead of failing.
    expect(resolveClientOptions({ ...base, reconnect: { minDelayMs: 60_000 } }).reconnect.maxDelayMs).toBe(60_000);
  });

  it('refuses bad options at construction, naming the option and the value', () => {
    expect(() => new LongLinkClient({ ...base, clientId: 'bad id!' })).toThrow("clientId must be 1-128 characters of [A-Za-z0-9._:@-], got 'bad id!'");
    expect(() => new LongLinkClient({ ...base, port: 70000 })).toThrow('port must be 1-65535, got 70000');
    expect(() => new LongLinkClient({ ...base, host: '' })).toThrow('host must be a non-empty string');
    expect(() => new LongLinkClient({ ...base, framing: 'xml' as never })).toThrow("framing must be 'length' or 'line', got 'xml'");
    expect(() => new LongLinkClient({ ...base, heartbeatMs: 0 })).toThrow('heartbeatMs must be a number > 0, got 0');
    expect(() => new LongLinkClient({ ...base, reconnect: { maxAttempts: -1 } })).toThrow('reconnect.maxAttempts must be >= 0, got -1');
    expect(() => new LongLinkClient({ ...base, reconnect: { minDelayMs: 100, maxDelayMs: 10 } })).toThrow('maxDelayMs must be a finite number >= minDelayMs (100), got 10');
  });

  it('a new client is idle, holds nothing, and close() on it resolves at once', async () => {
    const c = new LongLinkClient(base);
    expect(c.status).toBe('idle');
    expect(c.queuedFrames).toBe(0);
    await c.close();
    expect(c.status).toBe('closed');
  });
});
