import { configFrom, ConfigValidationError } from '../../../src/config';
import { parseRedisUrl, redactRedisUrl, redisUrlProblem } from '../../../src/cluster/redis-url';
import { keys } from '../../../src/cluster/keys';
import { TestRedisServer } from '../../support/redis-server';

describe('REDIS_URL and the cluster keys', () => {
  it.each([
    ['localhost:6379', /REDIS_URL: has scheme 'localhost'/],
    ['http://x:1', /REDIS_URL: has scheme 'http'/],
    ['redis//nohost', /REDIS_URL: is not a URL/],
    ['redis://h:1/abc', /REDIS_URL: has database 'abc'/],
  ])('a bad REDIS_URL %s stops start-up naming the key', (url, message) => {
    expect(() => configFrom({ REDIS_URL: url })).toThrow(ConfigValidationError);
    expect(() => configFrom({ REDIS_URL: url })).toThrow(message);
  });

  it('never echoes a password in the error', () => {
    try {
      configFrom({ REDIS_URL: 'redis://u:secret@h:1/zz' });
      throw new Error('accepted');
    } catch (error) {
      expect((error as Error).message).toContain('REDIS_URL');
      expect((error as Error).message).not.toContain('secret');
    }
    expect(redactRedisUrl('redis://u:secret@h:1')).toBe('redis://u:***@h:1');
  });

  it('takes redis:// and rediss:// with defaults', () => {
    expect(redisUrlProblem('redis://127.0.0.1:6380/2')).toBeUndefined();
    expect(parseRedisUrl('redis://h')).toMatchObject({ host: 'h', port: 6379, tls: false, db: 0 });
    expect(parseRedisUrl('rediss://h:7/3')).toMatchObject({ host: 'h', port: 7, tls: true, db: 3 });
    const config = configFrom({ REDIS_URL: 'redis://127.0.0.1:6380', NODE_ID: 'n1', NODE_LEASE_MS: 300, CLUSTER_WORKERS: 3 });
    expect(config).toMatchObject({ redisUrl: 'redis://127.0.0.1:6380', nodeId: 'n1', nodeLeaseMs: 300, clusterWorkers: 3 });
  });

  it('CLUSTER_WORKERS needs REDIS_URL; NODE_LEASE_MS is a duration', () => {
    expect(() => configFrom({ CLUSTER_WORKERS: 2 })).toThrow(/CLUSTER_WORKERS: needs REDIS_URL/);
    expect(() => configFrom({ NODE_LEASE_MS: 5 })).toThrow(/NODE_LEASE_MS: must be >= 30/);
    expect(configFrom({}).nodeLeaseMs).toBe(10000);
  });

  it('names every key under ll:', () => {
    expect(keys.client('a')).toBe('ll:c:a');
    expect(keys.inbox('n1')).toBe('ll:node:n1:inbox');
    expect(keys.queue('a')).toBe('ll:c:a:q');
  });
});

describe('TestRedisServer', () => {
  it('starts a private server, and a restart comes back empty on the same port', async () => {
    const server = await TestRedisServer.start();
    try {
      await server.command('SET', 'k', 'v');
      expect(await server.command('GET', 'k')).toBe('v');
      const port = server.port;
      await server.restart();
      expect(server.port).toBe(port);
      expect(await server.command('DBSIZE')).toBe('0');
      expect(await server.totalCommands()).toBeGreaterThan(0);
      expect(await server.command('CONFIG', 'GET', 'appendonly')).toContain('no');
    } finally {
      await server.stop();
    }
  });
});
