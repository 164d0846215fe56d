import { Logger } from '@nestjs/common';
import { createClient } from 'redis';
import { parseRedisUrl, redactRedisUrl } from './redis-url';


export interface RedisConnectionOptions {
  /** Name in logs and in CLIENT LIST (`ll:<nodeId>:<role>`). */
  name: string;
  /** Bound on one connect attempt. @default 2000 */
  connectTimeoutMs?: number;
  /** Longest wait between reconnect attempts. @default 1000 */
  maxBackoffMs?: number;
}

/**
 * One node-redis connection, set up the way the cluster needs it:
 * - reconnects forever with a short capped backoff (a node must come back by
 *   itself when Redis does; the cap keeps "Redis returned" → "view
 *   converged" within a heartbeat window or two);
 * - no offline queue: while Redis is unreachable a command fails at once
 *   (reads answer 503, writes are refused or re-done from this node's memory
 *   on return) instead of piling up in memory and landing late;
 * - errors are logged once per outage, never thrown at the process.
 * node-redis already writes every command issued in one event-loop turn in
 * one socket write, which is the "pipelined per turn" of docs/CLUSTER.md.
 */
export function createRedisConnection(url: string, options: RedisConnectionOptions): RedisClient {
  const target = parseRedisUrl(url);
  const logger = new Logger(`Redis(${options.name})`);
  const maxBackoff = options.maxBackoffMs ?? 1000;
  let down = false;
  const client = build(url, options.name, options.connectTimeoutMs ?? 2000, maxBackoff);
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`${redactRedisUrl(target.url)} unreachable: ${error.message}`);
  });
  client.on('ready', () => {
    if (down) logger.log(`${redactRedisUrl(target.url)} reachable again`);
    down = false;
  });
  return client;
}

/** Thrown (and turned into 503 by the admin API) when Redis cannot answer. */
export class ClusterUnavailableError extends Error {
  override readonly name = 'ClusterUnavailableError';
  constructor(cause: unknown) {
    super(`cluster store (Redis) unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

function build(url: string, name: string, connectTimeout: number, maxBackoff: number) {
  return createClient({
    url,
    name: name.replace(/\s/g, '_'),
    disableOfflineQueue: true,
    socket: {
      connectTimeout,
      // Jitter so that 50 nodes do not reconnect in the same millisecond.
      reconnectStrategy: (retries: number) => Math.min(20 * 2 ** Math.min(retries, 10), maxBackoff) + Math.floor(Math.random() * 20),
    },
  });
}

export type RedisClient = ReturnType<typeof build>;
