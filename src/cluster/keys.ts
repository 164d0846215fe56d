/**
 * Every Redis key the cluster uses, in one place, under the `ll:` prefix
 * (docs/CLUSTER.md has the table). One Redis (or a primary with replicas):
 * the scripts touch keys of several clients and nodes at once, so Redis
 * Cluster's one-slot rule is not met on purpose.
 */
export const KEY_PREFIX = 'll:';

export const keys = {
  /** ZSET nodeId → last beat (Redis server time, ms). */
  nodes: `${KEY_PREFIX}nodes`,
  /** HASH of one node: boot id, started at. */
  node: (nodeId: string) => `${KEY_PREFIX}node:${nodeId}`,
  /** HASH clientId → 'epoch:bootId' of every record this node saved and still holds, connected or not (what the reaper takes over). */
  nodeClients: (nodeId: string) => `${KEY_PREFIX}node:${nodeId}:clients`,
  /** ZSET clientId → when its next step is due (ms): records no node holds (reaped), timed out by the cluster (orphan-scripts.ts). */
  orphans: `${KEY_PREFIX}orphans`,
  /** HASH clientId → the epoch an orphan was taken at (a newer session is not touched). */
  orphanEpochs: `${KEY_PREFIX}orphans:epoch`,
  /** STREAM of messages routed to this node (commands, kicks, takeovers, acks). */
  inbox: (nodeId: string) => `${KEY_PREFIX}node:${nodeId}:inbox`,
  /** HASH: one client record. */
  client: (clientId: string) => `${KEY_PREFIX}c:${clientId}`,
  /** ZSET (all scores 0): every clientId, for paging in clientId order. */
  clients: `${KEY_PREFIX}clients`,
  /** ZSET (all scores 0): the clientIds in one status, for filtered pages and counts. */
  clientsByStatus: (status: string) => `${KEY_PREFIX}clients:${status}`,
  /** HASH of counters kept by the transition scripts (see presence scripts). */
  stats: `${KEY_PREFIX}stats`,
  /** STREAM of presence and command events of every node. */
  events: `${KEY_PREFIX}events`,
  /** HASH: one command. */
  command: (id: string) => `${KEY_PREFIX}cmd:${id}`,
  /** ZSET seq → id: a client's queued and sent commands, in delivery order (the truth for re-delivery). */
  queue: (clientId: string) => `${KEY_PREFIX}c:${clientId}:q`,
  /** ZSET seq → id: every command of a client. */
  clientCommands: (clientId: string) => `${KEY_PREFIX}c:${clientId}:cmds`,
  /** ZSET seq → id: the commands of one broadcast. */
  batch: (batchId: string) => `${KEY_PREFIX}batch:${batchId}`,
  /** ZSET seq → id: every command. */
  commands: `${KEY_PREFIX}cmds`,
  /** ZSET expiresAt → id: pending commands, for expiry. */
  due: `${KEY_PREFIX}cmds:due`,
  /** ZSET finishedAt → id: final commands, for retention. */
  finished: `${KEY_PREFIX}cmds:finished`,
  /** STRING counter: command creation order. */
  commandSeq: `${KEY_PREFIX}cmds:seq`,
} as const;
