import { Logger } from '@nestjs/common';
import type { BusMessage } from './bus-messages';
import { keys } from './keys';
import type { RedisClient } from './redis-connection';

/** Entries kept per inbox: a reader that fell this far behind is dead anyway (its clients reconnect elsewhere). */
const INBOX_MAXLEN = 10000;
/** How long one blocking read waits: the idle cost is one command per node per this period. */
const BLOCK_MS = 2000;

/**
 * The per-node inbox: a Redis STREAM ll:node:{id}:inbox, written with XADD
 * by any node and read by its owner with a blocking XREAD on a connection of
 * its own. No consumer group: there is exactly one reader, and what a dead
 * node did not read is moot (its clients log in elsewhere and the command
 * queues are the truth), so a group's pending list would buy nothing and
 * cost an XACK per read. A restarted node reads from `$` (what was sent to
 * its previous life is stale). Stream ids are Redis's clock, so after Redis
 * restarts empty new entries still sort after the last one read.
 *
 * Sends of one event-loop turn are grouped per target node: one XADD per
 * node however many messages (a broadcast to 10,000 clients on 3 other
 * nodes is 3 XADDs).
 */
export class NodeInbox {
  private readonly logger = new Logger('NodeInbox');
  private outgoing = new Map<string, BusMessage[]>();
  private flushScheduled = false;
  private running = false;
  private lastId = '$';
  private loop: Promise<void> | undefined;

  constructor(
    private readonly writer: RedisClient,
    /** A connection used only for the blocking read. */
    private readonly reader: RedisClient,
    private readonly nodeId: string,
    private readonly handle: (message: BusMessage) => void,
  ) {}

  /** Queues a message for `nodeId`'s inbox; written at the end of this turn. Resolves when written (rejects when Redis is down). */
  send(nodeId: string, message: BusMessage): void {
    let list = this.outgoing.get(nodeId);
    if (!list) this.outgoing.set(nodeId, (list = []));
    list.push(message);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Writes everything queued now (one XADD per target node). */
  async flush(): Promise<void> {
    this.flushScheduled = false;
    const batches = this.outgoing;
    this.outgoing = new Map();
    await Promise.all(
      [...batches].map(([nodeId, messages]) =>
        this.writer
          .sendCommand(['XADD', keys.inbox(nodeId), 'MAXLEN', '~', String(INBOX_MAXLEN), '*', 'm', JSON.stringify(messages)])
          .catch((error: Error) => this.logger.warn(`${messages.length} message(s) to node ${nodeId} not sent: ${error.message}`)),
      ),
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.readLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.flush();
    this.reader.destroy();
    await this.loop?.catch(() => undefined);
  }

  private async lastEntryId(): Promise<string> {
    const last = (await this.reader.sendCommand(['XREVRANGE', keys.inbox(this.nodeId), '+', '-', 'COUNT', '1'])) as Array<[string, string[]]>;
    return last.length > 0 ? last[0][0] : '0-0';
  }

  private async readLoop(): Promise<void> {
    while (this.running) {
      if (!this.reader.isReady) {
        await sleep(50);
        continue;
      }
      let reply: unknown;
      try {
        // '$' only once, made concrete: a second '$' would skip what arrived between two reads.
        if (this.lastId === '$') this.lastId = await this.lastEntryId();
        reply = await this.reader.sendCommand(['XREAD', 'COUNT', '1000', 'BLOCK', String(BLOCK_MS), 'STREAMS', keys.inbox(this.nodeId), this.lastId]);
      } catch (error) {
        if (this.running) await sleep(50);
        continue;
      }
      for (const [id, fields] of streamEntries(reply)) {
        this.lastId = id;
        const raw = fieldValue(fields, 'm');
        if (raw === undefined) continue;
        let messages: BusMessage[];
        try {
          messages = JSON.parse(raw) as BusMessage[];
        } catch {
          this.logger.warn(`inbox entry ${id} is not JSON; skipped`);
          continue;
        }
        for (const m of messages) {
          try {
            this.handle(m);
          } catch (error) {
            this.logger.error(`inbox message ${m.t} failed: ${(error as Error).message}`);
          }
        }
      }
    }
  }
}

/** [id, flat fields] of every entry of an XREAD reply, RESP2 (arrays) or RESP3 (a map by stream name). */
export function streamEntries(reply: unknown): Array<[string, string[]]> {
  if (!reply) return [];
  const streams: unknown[] = Array.isArray(reply) ? reply.map((s: unknown[]) => s[1]) : Object.values(reply as Record<string, unknown>);
  const out: Array<[string, string[]]> = [];
  for (const entries of streams) {
    for (const entry of entries as Array<[string, string[]]>) out.push([entry[0], entry[1]]);
  }
  return out;
}

export function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
