import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection';

/**
 * A Lua script run by EVALSHA, loaded again by EVAL when Redis answers
 * NOSCRIPT (a restarted Redis has an empty script cache). One command per
 * call either way; node-redis pipelines the calls of one turn.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run<T = unknown>(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return (await client.sendCommand(['EVALSHA', this.sha, ...tail])) as T;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return (await client.sendCommand(['EVAL', this.source, ...tail])) as T;
    }
  }
}
