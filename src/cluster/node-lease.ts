import { Logger } from '@nestjs/common';
import { KEY_PREFIX } from './keys';
import { BEAT, CLAIM, FORGET } from './lease-scripts';
import type { NodeIdentity } from './node-identity';
import type { RedisClient } from './redis-connection';
import { REAP, SWEEP } from './store/orphan-scripts';

const REAP_PAGE = 500;
const SWEEP_BATCH = 500;

/** How long a record no node holds any more waits for its next step (the node's own settings: LEAVE_TIMEOUT_MS, CLOSED_RETENTION_MS). */
export interface OrphanTimeouts {
  leaveTimeoutMs: number;
  closedRetentionMs: number;
}

/**
 * This node's lease in ll:nodes and the reaper of dead peers. It beats every
 * lease/3; a node whose beat is older than the lease is dead, and the first
 * node to claim it (a short lock) marks its connected clients `leave` (only
 * where the record still names that node and epoch) and puts every record
 * it held on the orphan schedule, which any node's beat then works off:
 * `leave` -> `close` after LEAVE_TIMEOUT_MS, gone after CLOSED_RETENTION_MS,
 * as on the node that held them (orphan-scripts.ts). At start it first
 * clears what a previous life under the same NODE_ID left behind, so a node
 * that comes back does not resurrect stale records.
 */
export class NodeLease {
  private readonly logger = new Logger('NodeLease');
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  /** The next beat also records this boot in ll:node:{id} (after start and every reconnect). */
  private register = true;
  /** Reaps finished (for tests and logs). */
  onReaped: ((nodeId: string, clientIds: string[]) => void) | undefined;
  /** Orphan steps this node took (for tests and logs). */
  onSwept: ((closed: string[], removed: string[]) => void) | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly identity: NodeIdentity,
    private readonly leaseMs: number,
    private readonly timeouts: OrphanTimeouts,
    /** The clock of the orphan steps (leave and close times, what is due); the leases themselves run on Redis's TIME. */
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    void this.beat();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Clears the records of this NODE_ID's previous boots (they hold no socket
   * here any more). Entries written by this boot are kept.
   */
  async clearPreviousLife(): Promise<string[]> {
    return this.reap(this.identity.nodeId, `node ${this.identity.nodeId} restarted`, this.identity.bootId);
  }

  /** After Redis was unreachable: the next beat registers again (Redis may have come back empty). */
  reconnected(): void {
    this.register = true;
  }

  /** One beat (and a sweep for dead peers); never throws (Redis may be down). */
  beat(): Promise<void> {
    this.beating ??= this.beatOnce().finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async beatOnce(): Promise<void> {
    if (!this.redis.isReady) return;
    try {
      const [, dead, orphanDue] = await BEAT.run<[number, string[], string]>(this.redis, [], [KEY_PREFIX, this.identity.nodeId, this.identity.bootId, this.leaseMs, this.register ? 1 : 0]);
      this.register = false;
      for (const nodeId of dead) {
        if (nodeId === this.identity.nodeId) continue;
        const claimed = await CLAIM.run<number>(this.redis, [], [KEY_PREFIX, nodeId, this.identity.nodeId, Math.max(1000, this.leaseMs), this.leaseMs]);
        if (claimed !== 1) continue;
        const ids = await this.reap(nodeId, `node ${nodeId} lost (no beat for ${this.leaseMs} ms)`, '');
        await FORGET.run(this.redis, [], [KEY_PREFIX, nodeId]);
        this.logger.warn(`node ${nodeId} is dead: ${ids.length} client(s) marked leave`);
      }
      const due = Number(orphanDue);
      if (due >= 0 && due <= this.now()) await this.sweep();
    } catch (error) {
      this.logger.debug(`beat failed: ${(error as Error).message}`);
    }
  }

  /** Takes every orphan step due now (a batch at a time). */
  async sweep(): Promise<void> {
    for (;;) {
      const [looked, closed, removed] = await SWEEP.run<[number, string[], string[]]>(this.redis, [], [KEY_PREFIX, this.now(), SWEEP_BATCH, this.timeouts.closedRetentionMs]);
      if (closed.length + removed.length > 0) {
        this.logger.log(`orphaned records: ${closed.length} leave -> close (timeout), ${removed.length} past retention removed`);
        this.onSwept?.(closed, removed);
      }
      if (looked < SWEEP_BATCH) return;
    }
  }

  private async reap(nodeId: string, reason: string, keepBoot: string): Promise<string[]> {
    const marked: string[] = [];
    let cursor = '0';
    const { leaveTimeoutMs, closedRetentionMs } = this.timeouts;
    do {
      const [next, ids] = await REAP.run<[string, string[]]>(this.redis, [], [KEY_PREFIX, nodeId, reason, this.now(), cursor, REAP_PAGE, keepBoot, leaveTimeoutMs, closedRetentionMs]);
      marked.push(...ids);
      cursor = String(next);
    } while (cursor !== '0');
    this.onReaped?.(nodeId, marked);
    return marked;
  }
}
