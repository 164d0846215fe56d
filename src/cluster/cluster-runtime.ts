import { Logger } from '@nestjs/common';
import type { LongLinkConfig } from '../config';
import { ClusterEvents } from './cluster-events';
import { ClusterNode } from './cluster-node';
import { newNodeIdentity, NodeIdentity } from './node-identity';
import { createRedisConnection, RedisClient } from './redis-connection';
import { RedisCommandStore } from './store/redis-command.store';
import { RedisPresenceStore } from './store/redis-presence.store';
import { guardUnavailable } from './store/unavailable';

/** How long start-up waits for Redis before going on without it (it connects when Redis comes). */
const START_CONNECT_WAIT_MS = 3000;

/**
 * Everything cluster mode adds to one node, made once per module from the
 * configuration: the Redis connections (commands and writes; the inbox's
 * blocking read; the event feed's reads open on demand), the Redis stores,
 * and this node's ClusterNode.
 */
export class ClusterRuntime {
  private readonly logger = new Logger('Cluster');
  readonly identity: NodeIdentity;
  readonly redis: RedisClient;
  private readonly inboxReader: RedisClient;
  readonly presenceStore: RedisPresenceStore;
  readonly commandStore: RedisCommandStore;
  readonly node: ClusterNode;
  readonly events: ClusterEvents;

  constructor(readonly config: LongLinkConfig & { redisUrl: string }) {
    this.identity = newNodeIdentity(config.nodeId);
    // Reconnect attempts at most a quarter window apart: when Redis returns, the view converges within a window or two.
    const maxBackoffMs = Math.min(1000, Math.max(50, Math.floor(config.heartbeat.heartbeatMs / 4)));
    const name = (role: string) => ({ name: `ll:${config.nodeId}:${role}`, maxBackoffMs });
    this.redis = createRedisConnection(config.redisUrl, name('main'));
    this.inboxReader = createRedisConnection(config.redisUrl, name('inbox'));
    this.presenceStore = new RedisPresenceStore(this.redis, this.identity.bootId);
    this.commandStore = new RedisCommandStore(this.redis, this.identity.nodeId);
    this.node = new ClusterNode(this.identity, this.redis, this.inboxReader, this.presenceStore, this.commandStore, config.nodeLeaseMs, {
      leaveTimeoutMs: config.heartbeat.leaveTimeoutMs,
      closedRetentionMs: config.presence.closedRetentionMs,
    });
    this.events = new ClusterEvents(this.redis, () => createRedisConnection(config.redisUrl, name('events')));
  }

  /** The stores as the rest of the gateway gets them: a lost connection is a 503, not a 500. */
  guardedPresenceStore(): RedisPresenceStore {
    return guardUnavailable(this.presenceStore);
  }

  guardedCommandStore(): RedisCommandStore {
    return guardUnavailable(this.commandStore);
  }

  /** Connects, waiting a little: with Redis down the node starts anyway and serves its sockets (docs/CLUSTER.md). */
  async connect(): Promise<void> {
    const connecting = Promise.all([this.redis.connect(), this.inboxReader.connect()]);
    connecting.catch((error: Error) => this.logger.error(`Redis connection failed: ${error.message}`));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), START_CONNECT_WAIT_MS).unref());
    if ((await Promise.race([connecting, timeout])) === 'timeout') {
      this.logger.warn(`Redis not reachable within ${START_CONNECT_WAIT_MS} ms: starting without it (cluster reads answer 503 until it is)`);
    }
  }

  async close(): Promise<void> {
    this.events.stop();
    await this.node.stop();
    if (this.redis.isOpen) await this.redis.close().catch(() => this.redis.destroy());
    else this.redis.destroy();
  }
}
