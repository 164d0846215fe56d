import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { ClientRecord } from '../presence/presence.types';
import type { BusMessage } from './bus-messages';
import { keys } from './keys';
import { NodeInbox } from './node-inbox';
import type { NodeIdentity } from './node-identity';
import { NodeLease, OrphanTimeouts } from './node-lease';
import type { RedisClient } from './redis-connection';
import type { RedisCommandStore } from './store/redis-command.store';
import type { RedisPresenceStore } from './store/redis-presence.store';

/** What the cluster needs from this node's own parts (the Nest glue in cluster.module.ts provides it). */
export interface ClusterHost {
  /** Admin kick of a client whose session is on this node (status close, KICK, close); false when none is here. */
  localKick(clientId: string, reason: string): Promise<boolean>;
  /** Epoch of the client's session on this node, when one is connected here. */
  localEpoch(clientId: string): number | undefined;
  /** Another node took the client over: drop its session here (`KICK replaced`) without a transition of its own. */
  localReplace(clientId: string): void;
  /** Epoch of the record this node holds for the client, connected or not. */
  heldEpoch(clientId: string): number | undefined;
  /** Another node has the client now: drop the record held here (not connected here), without a transition or a write. */
  forget(clientId: string): void;
  /** Write the client's queued commands to its socket here (a remote post queued them). */
  deliverPending(clientId: string): void;
  /** A command posted here became final on another node: wake its waiters. */
  outcomeElsewhere(commandId: string): void;
  /** The records of the clients this node holds (connected or not), as it knows them: written back after Redis returns. */
  heldRecords(): ClientRecord[];
}

/** How long a kick routed to another node waits for that node's answer. */
export const REMOTE_KICK_TIMEOUT_MS = 2000;

/**
 * This node's part of the cluster: its lease, its inbox and what arrives in
 * it, the routing of kicks, takeovers, command nudges and outcomes to the
 * node that must act, and the write-back of its live clients when Redis
 * returns after an outage (maybe empty).
 */
export class ClusterNode {
  private readonly logger = new Logger('ClusterNode');
  readonly lease: NodeLease;
  readonly inbox: NodeInbox;
  private host: ClusterHost | undefined;
  private readonly requests = new Map<string, (found: string[]) => void>();
  private wasDown = false;
  /** Write-backs done since start (tests and logs). */
  writeBacks = 0;

  constructor(
    readonly identity: NodeIdentity,
    private readonly redis: RedisClient,
    inboxReader: RedisClient,
    private readonly presenceStore: RedisPresenceStore,
    private readonly commandStore: RedisCommandStore,
    leaseMs: number,
    timeouts: OrphanTimeouts,
  ) {
    this.lease = new NodeLease(redis, identity, leaseMs, timeouts);
    this.inbox = new NodeInbox(redis, inboxReader, identity.nodeId, (m) => this.receive(m));
    presenceStore.onDisplaced = (d) => {
      this.inbox.send(d.nodeId, { t: 'takeover', clientId: d.clientId, epoch: d.epoch, by: identity.nodeId });
    };
    presenceStore.onFenced = (clientId, epoch) => {
      if (this.host?.localEpoch(clientId) === epoch) this.host.localReplace(clientId);
    };
    commandStore.onRemoteOwners = (byNode) => {
      for (const [nodeId, clientIds] of byNode) this.inbox.send(nodeId, { t: 'cmds', clientIds });
    };
    commandStore.onTransition = (change, origin) => {
      const final = change.record.status === 'acked' || change.record.status === 'failed' || change.record.status === 'expired';
      if (final && origin !== '' && origin !== identity.nodeId) this.inbox.send(origin, { t: 'final', ids: [change.record.id] });
    };
    redis.on('error', () => (this.wasDown = true));
    redis.on('ready', () => {
      if (!this.wasDown) return;
      this.wasDown = false;
      void this.writeBack();
    });
  }

  get nodeId(): string {
    return this.identity.nodeId;
  }

  /**
   * Joins the cluster: clears what a previous life of this NODE_ID left in
   * Redis, beats, and reads the inbox. Called before the node accepts
   * sockets, so the clearing never touches a session of this life.
   */
  async start(host: ClusterHost): Promise<void> {
    this.host = host;
    if (this.redis.isReady) {
      const stale = await this.lease.clearPreviousLife();
      if (stale.length > 0) this.logger.log(`cleared ${stale.length} record(s) of a previous life of node ${this.nodeId}`);
    }
    this.lease.start();
    this.inbox.start();
  }

  async stop(): Promise<void> {
    this.lease.stop();
    await this.inbox.stop();
  }

  /**
   * Routes kicks to the nodes holding these clients' sessions (one message
   * per node), each doing its admin kick there, and waits for their answers:
   * the ids a node had a session for.
   */
  async kickRemote(clientIds: string[], reason: string): Promise<string[]> {
    const byNode = await this.owners(clientIds);
    const answers = await Promise.all(
      [...byNode].map(
        ([nodeId, ids]) =>
          new Promise<string[]>((resolve) => {
            const req = randomUUID();
            const timer = setTimeout(() => {
              this.requests.delete(req);
              resolve([]);
            }, REMOTE_KICK_TIMEOUT_MS);
            this.requests.set(req, (found) => {
              clearTimeout(timer);
              this.requests.delete(req);
              resolve(found);
            });
            this.inbox.send(nodeId, { t: 'kick', clientIds: ids, reason, from: this.nodeId, req });
          }),
      ),
    );
    return answers.flat();
  }

  /** The other nodes holding a connected session of these clients, grouped by node (one pipelined HMGET each). */
  async owners(clientIds: readonly string[]): Promise<Map<string, string[]>> {
    const replies = await Promise.all(clientIds.map((id) => this.redis.sendCommand(['HMGET', keys.client(id), 'node', 'connected']) as Promise<Array<string | null>>));
    const byNode = new Map<string, string[]>();
    replies.forEach(([node, connected], i) => {
      if (!node || connected !== '1' || node === this.nodeId) return;
      const list = byNode.get(node);
      if (list) list.push(clientIds[i]);
      else byNode.set(node, [clientIds[i]]);
    });
    return byNode;
  }

  /**
   * Writes every client this node holds back to Redis (after an outage:
   * Redis may have come back empty, and the transitions made meanwhile were
   * refused). The connected ones first, as a login would: they are the view
   * that must converge.
   */
  async writeBack(): Promise<number> {
    if (!this.host) return 0;
    this.lease.reconnected();
    // Redis may have been down since start-up: what a previous life left is cleared first (never this boot's).
    await this.lease.clearPreviousLife().catch(() => undefined);
    const records = this.host.heldRecords().sort((a, b) => Number(b.connected) - Number(a.connected));
    const results = await Promise.allSettled(records.map((r) => this.presenceStore.save(r)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    const live = records.filter((r) => r.connected).length;
    this.writeBacks++;
    this.logger.log(`Redis is back: wrote back ${records.length - failed} record(s), ${live} connected${failed ? `; ${failed} failed` : ''}`);
    await this.lease.beat();
    return records.length - failed;
  }

  private receive(m: BusMessage): void {
    const host = this.requireHost();
    switch (m.t) {
      case 'cmds':
        for (const id of m.clientIds) host.deliverPending(id);
        return;
      case 'kick':
        void Promise.all(m.clientIds.map(async (id) => ((await host.localKick(id, m.reason)) ? id : undefined))).then((found) => {
          if (m.req) this.inbox.send(m.from, { t: 'reply', req: m.req, found: found.filter((x): x is string => x !== undefined) });
        });
        return;
      case 'takeover': {
        // Only the session the login replaced (or an older one): a newer session here wins.
        const epoch = host.heldEpoch(m.clientId);
        if (epoch === undefined || epoch > m.epoch) return;
        // Connected here: KICK replaced. Not connected (leave or close here): the record held here is stale, and
        // would show in this node's answers and time out here with an event of its own.
        if (host.localEpoch(m.clientId) !== undefined) host.localReplace(m.clientId);
        else host.forget(m.clientId);
        return;
      }
      case 'final':
        for (const id of m.ids) host.outcomeElsewhere(id);
        return;
      case 'reply':
        this.requests.get(m.req)?.(m.found);
        return;
    }
  }

  private requireHost(): ClusterHost {
    if (!this.host) throw new Error('ClusterNode used before start()');
    return this.host;
  }
}
