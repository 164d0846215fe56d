import { Logger } from '@nestjs/common';
import { Observable, share } from 'rxjs';
import type { CommandEvent } from '../commands/command.types';
import type { PresenceEvent } from '../presence/presence.types';
import { keys } from './keys';
import { fieldValue, streamEntries } from './node-inbox';
import type { RedisClient } from './redis-connection';

export type ClusterEvent = { kind: 'presence'; event: PresenceEvent } | { kind: 'command'; event: CommandEvent };

const EVENTS_MAXLEN = 10000;
const BLOCK_MS = 2000;
/**
 * A watching node reads at most this often while events flow: the feed is
 * read by every node (GET /events replays need it stamped whether anyone
 * listens or not), so without a pause each node would read once per event
 * batch of every other node. Costs SSE at most this much delay.
 */
const READ_EVERY_MS = 200;

/**
 * The cluster-wide event feed behind `GET /events`: every node appends its
 * presence and command events to the STREAM ll:events (one XADD per node per
 * event-loop turn, however many events), and every node reads it with a
 * blocking XREAD on a connection of its own, at most every READ_EVERY_MS
 * while events flow (one blocked read per 2 s when none do).
 * Presence events the reaper makes for a dead node's clients are written by
 * the reap script itself.
 */
export class ClusterEvents {
  private readonly logger = new Logger('ClusterEvents');
  private pending: unknown[] = [];
  private flushScheduled = false;
  private readonly feed$: Observable<ClusterEvent>;
  private stopped = false;

  constructor(
    private readonly writer: RedisClient,
    /** Makes the connection a reader blocks on (one per feed while watched). */
    private readonly openReader: () => RedisClient,
  ) {
    this.feed$ = new Observable<ClusterEvent>((subscriber) => {
      const reader = this.openReader();
      let running = true;
      const loop = async () => {
        await reader.connect().catch(() => undefined);
        // From now: SSE shows what happens while watching, as on one node.
        let lastId = '$';
        while (running && !this.stopped) {
          if (!reader.isReady) {
            await sleep(50);
            continue;
          }
          try {
            if (lastId === '$') {
              const last = (await reader.sendCommand(['XREVRANGE', keys.events, '+', '-', 'COUNT', '1'])) as Array<[string, string[]]>;
              lastId = last.length > 0 ? last[0][0] : '0-0';
            }
            const readAt = Date.now();
            const reply = await reader.sendCommand(['XREAD', 'COUNT', '1000', 'BLOCK', String(BLOCK_MS), 'STREAMS', keys.events, lastId]);
            const entries = streamEntries(reply);
            for (const [id, fields] of entries) {
              lastId = id;
              for (const e of decodeEntry(fields)) subscriber.next(e);
            }
            if (entries.length > 0) await sleep(Math.max(0, READ_EVERY_MS - (Date.now() - readAt)));
          } catch {
            if (running) await sleep(50);
          }
        }
      };
      void loop();
      return () => {
        running = false;
        reader.destroy();
      };
    }).pipe(share());
  }

  /** Every node's events (including this node's), while subscribed. */
  get events$(): Observable<ClusterEvent> {
    return this.feed$;
  }

  publish(kind: 'presence' | 'command', event: PresenceEvent | CommandEvent): void {
    if (this.stopped) return;
    this.pending.push(kind === 'presence' ? ['p', event] : ['c', event]);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = this.pending;
      this.pending = [];
      this.writer
        .sendCommand(['XADD', keys.events, 'MAXLEN', '~', String(EVENTS_MAXLEN), '*', 'e', JSON.stringify(batch)])
        .catch((error: Error) => this.logger.debug(`${batch.length} event(s) not published: ${error.message}`));
    });
  }

  stop(): void {
    this.stopped = true;
  }
}

/** An ll:events entry: `e` (a batch from one node) or `presence` (one event from the reap script). */
function decodeEntry(fields: string[]): ClusterEvent[] {
  try {
    const single = fieldValue(fields, 'presence');
    if (single !== undefined) return [{ kind: 'presence', event: JSON.parse(single) as PresenceEvent }];
    const batch = fieldValue(fields, 'e');
    if (batch === undefined) return [];
    return (JSON.parse(batch) as Array<['p' | 'c', PresenceEvent | CommandEvent]>).map(([k, event]) =>
      k === 'p' ? { kind: 'presence', event: event as PresenceEvent } : { kind: 'command', event: event as CommandEvent },
    );
  } catch {
    return [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
