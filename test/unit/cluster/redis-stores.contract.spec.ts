import { commandStoreContract } from '../../contract/command-store.contract';
import { presenceStoreContract } from '../../contract/presence-store.contract';
import { redisCommandHandle, redisPresenceHandle } from '../../support/redis-store-handles';
import { TestRedisServer } from '../../support/redis-server';

// Each contract test is a few hundred round trips; late in a full run on a
// loaded 2-core machine one took over 20 s (alone the file takes seconds).
jest.setTimeout(60_000);

// One private redis-server for the file; every contract test gets it flushed.
let server: TestRedisServer;
beforeAll(async () => {
  server = await TestRedisServer.start();
});
afterAll(async () => {
  await server?.stop();
});

presenceStoreContract('redis', () => redisPresenceHandle(server));
commandStoreContract('redis', () => redisCommandHandle(server));
