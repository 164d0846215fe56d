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

// The contracts below must run against the private server, never the machine's 6379.
it('runs the contracts on a private redis-server, not the shared one', () => {
  expect(server.port).not.toBe(6379);
  expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
});
