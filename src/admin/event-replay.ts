import { randomBytes } from 'node:crypto';
import type { MessageEvent } from '@nestjs/common';

/** An SSE event with its id: `<stream>-<seq>`. */
export interface StampedEvent extends MessageEvent {
  id: string;
  type: 'presence' | 'command';
  data: { clientId: string };
}

export type ReplayResult =
  /** Everything after the given id is still held (possibly nothing). */
  | { ok: true; events: StampedEvent[] }
  /** Some events after it were dropped (older than the window) or the id is of another run: the client must resync. */
  | { ok: false; reason: 'replay_window_exceeded' | 'unknown_event_id' };

/**
 * The last `capacity` events of the live feed, in a ring, for `GET /events`
 * listeners that come back with `Last-Event-ID`. Ids carry a random stream
 * tag of this process, so an id from before a restart (or from another
 * node behind the same balancer) is recognised as such instead of being
 * mistaken for a position in this stream.
 */
export class EventReplay {
  readonly stream = randomBytes(4).toString('hex');
  private readonly ring: Array<StampedEvent | undefined>;
  /** Sequence number of the last event stamped; 0 before the first. */
  private seq = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<StampedEvent | undefined>(capacity);
  }

  /** Stamps the next id on an event and keeps it. */
  stamp(type: StampedEvent['type'], data: StampedEvent['data']): StampedEvent {
    this.seq++;
    const event: StampedEvent = { id: `${this.stream}-${this.seq}`, type, data };
    if (this.capacity > 0) this.ring[this.seq % this.capacity] = event;
    return event;
  }

  /** The id a listener would resume from right now (that of the last event). */
  get lastId(): string {
    return `${this.stream}-${this.seq}`;
  }

  /** The events after `lastEventId`, oldest first, or why that is impossible. */
  since(lastEventId: string): ReplayResult {
    const dash = lastEventId.lastIndexOf('-');
    const stream = lastEventId.slice(0, dash);
    const after = Number(lastEventId.slice(dash + 1));
    if (dash < 0 || stream !== this.stream || !Number.isSafeInteger(after) || after < 0 || after > this.seq) {
      return { ok: false, reason: 'unknown_event_id' };
    }
    const oldest = this.oldestSeq();
    if (after + 1 < oldest) return { ok: false, reason: 'replay_window_exceeded' };
    return { ok: true, events: this.held(after + 1) };
  }

  private oldestSeq(): number {
    return Math.max(1, this.seq - this.capacity + 1);
  }

  private held(from: number): StampedEvent[] {
    const events: StampedEvent[] = [];
    if (this.capacity === 0) return events;
    for (let s = Math.max(from, this.oldestSeq()); s <= this.seq; s++) events.push(this.ring[s % this.capacity] as StampedEvent);
    return events;
  }
}
