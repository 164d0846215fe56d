import { RedisCommandStore } from '../../src/cluster/store/redis-command.store';
import { RedisPresenceStore } from '../../src/cluster/store/redis-presence.store';
import { createRedisConnection, RedisClient } from '../../src/cluster/redis-connection';
import type { TestRedisServer } from './redis-server';

/** A connected client on the test's redis-server, with the database emptied first (each contract test starts empty). */
export async function freshRedis(server: TestRedisServer): Promise<RedisClient> {
  const client = createRedisConnection(server.url, { name: 'test' });
  await client.connect();
  await client.sendCommand(['FLUSHALL']);
  return client;
}

export async function redisPresenceHandle(server: TestRedisServer) {
  const client = await freshRedis(server);
  return { store: new RedisPresenceStore(client), close: () => client.close() };
}

export async function redisCommandHandle(server: TestRedisServer) {
  const client = await freshRedis(server);
  return { store: new RedisCommandStore(client, 'node-test'), close: () => client.close() };
}
