import { StoreUnavailableError } from '../store/store.errors';
import type { RedisClient } from './redis-connection';
import { toUnavailable } from './store/unavailable';

/** One pending wait per connection, however many callers wait (no listener per caller). */
const waits = new WeakMap<RedisClient, Promise<boolean>>();

/**
 * Resolves true when the connection is ready (at once if it is), false when
 * it is closed for good (the node is stopping) before that.
 */
export function untilReady(client: RedisClient): Promise<boolean> {
  if (client.isReady) return Promise.resolve(true);
  if (!client.isOpen) return Promise.resolve(false);
  let wait = waits.get(client);
  if (!wait) {
    wait = new Promise<boolean>((resolve) => {
      const done = (ready: boolean) => {
        client.off('ready', onReady);
        client.off('end', onEnd);
        waits.delete(client);
        resolve(ready);
      };
      const onReady = () => done(true);
      const onEnd = () => done(false);
      client.on('ready', onReady);
      client.on('end', onEnd);
    });
    waits.set(client, wait);
  }
  return wait;
}

/**
 * Runs `op`, and again each time it fails for want of Redis, once Redis is
 * back: for the writes that must not be lost to an outage and cannot be
 * re-done from memory later (a login's epoch: the session is fenced by it).
 * Any other failure, or the connection closed for good, rejects.
 */
export async function whenRedisAnswers<T>(client: RedisClient, op: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await op();
    } catch (error) {
      if (!(toUnavailable(error) instanceof StoreUnavailableError)) throw error;
      if (!(await untilReady(client))) throw error;
    }
  }
}
