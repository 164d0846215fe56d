import { ConfigValidationError, resolveConfig } from '../../../src/config';

describe('resolveConfig (the module option `settings`)', () => {
  it('takes the given keys over the environment and the rest from it', () => {
    const config = resolveConfig({ TCP_PORT: 7100, HEARTBEAT_MS: 2000 }, { TCP_PORT: '7000', MAX_CONNECTIONS: '50' });
    expect(config.tcp.port).toBe(7100);
    expect(config.maxConnections).toBe(50);
    expect(config.heartbeat.heartbeatMs).toBe(2000);
    // Derived from the given value, as the environment's would be.
    expect(config.heartbeat.serverPingMs).toBe(2000);
  });

  it('leaves a key given as undefined to the environment', () => {
    expect(resolveConfig({ TCP_PORT: undefined }, { TCP_PORT: '7200' }).tcp.port).toBe(7200);
  });

  it('validates a given value as the environment would, naming the key', () => {
    expect(() => resolveConfig({ TCP_PORT: 'abc' }, {})).toThrow(ConfigValidationError);
    expect(() => resolveConfig({ TCP_PORT: 70000 }, {})).toThrow(/TCP_PORT: must be <= 65535/);
  });

  it('refuses a key that is not a configuration key', () => {
    expect(() => resolveConfig({ TCP_PROT: 1 } as never, {})).toThrow(/TCP_PROT: not a configuration key/);
  });
});
