import { Inject, Injectable, MessageEvent, OnModuleDestroy, Optional } from '@nestjs/common';
import { EVENT_FEED, EventFeed } from './event-feed';
import { BehaviorSubject, filter, interval, map, merge, Observable, Subject, Subscription, takeUntil } from 'rxjs';
import { CommandService } from '../commands/command.service';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { PresenceService } from '../presence/presence.service';
import { ADMIN_API_OPTIONS, AdminApiOptions } from './admin.options';
import { EventReplay, StampedEvent } from './event-replay';

/**
 * The live feed behind `GET /events`: presence and command events as SSE
 * messages with ids, plus a keep-alive comment. Every event is stamped and
 * kept in a ring of the last SSE_REPLAY_EVENTS, so a listener that comes
 * back with `Last-Event-ID` gets what it missed, then the live feed, with
 * nothing lost or doubled between the two (both happen in one synchronous
 * step). Beyond the ring it gets `event: reset` and must resync. Listeners
 * are counted so a leak would show; one that stops reading is dropped by the
 * SSE writer past SSE_MAX_PENDING_CHARS.
 */
@Injectable()
export class AdminEventsService implements OnModuleDestroy {
  private readonly count = new BehaviorSubject(0);
  /** Listeners right now; emits on every change (tests wait on it, metrics read it). */
  readonly listeners$: Observable<number> = this.count.asObservable();
  private readonly closing = new Subject<void>();
  private readonly live = new Subject<StampedEvent>();
  private readonly replay: EventReplay;
  private readonly sources: Subscription;

  constructor(
    presence: PresenceService,
    commands: CommandService,
    @Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions,
    @Inject(LONGLINK_CONFIG) config: LongLinkConfig,
    metrics: MetricsService,
    /** A cluster's feed of every node's events (cluster/cluster-mode.ts); without one, this node's. */
    @Optional() @Inject(EVENT_FEED) feed?: EventFeed,
  ) {
    this.replay = new EventReplay(config.sseReplayEvents);
    // Stamped whether anyone listens or not: the listener that reconnects is the one that was not listening.
    this.sources = merge(
      (feed?.presence$ ?? presence.events$).pipe(map((data) => this.replay.stamp('presence', data))),
      (feed?.commands$ ?? commands.events$).pipe(map((data) => this.replay.stamp('command', data))),
    ).subscribe(this.live);
    metrics.gauge('longlink_sse_listeners', 'Open GET /events streams', () => this.count.value);
  }

  get listeners(): number {
    return this.count.value;
  }

  /** Completes every open stream (and refuses none later: a new one ends at once), so HTTP shutdown does not wait on them. */
  endStreams(): void {
    this.closing.next();
    this.closing.complete();
  }

  onModuleDestroy(): void {
    this.endStreams();
    this.sources.unsubscribe();
  }

  /** `lastEventId`: the `Last-Event-ID` of a reconnecting listener. */
  stream(clientId?: string, lastEventId?: string): Observable<MessageEvent> {
    const mine = (e: StampedEvent) => clientId === undefined || e.data.clientId === clientId;
    const feed = merge(
      this.live.pipe(filter(mine)),
      interval(this.options.sseHeartbeatMs).pipe(map((): MessageEvent => ({ comment: 'ping' }))),
    ).pipe(takeUntil(this.closing));
    return new Observable<MessageEvent>((subscriber) => {
      this.count.next(this.count.value + 1);
      if (lastEventId !== undefined) {
        const missed = this.replay.since(lastEventId);
        if (missed.ok) {
          for (const event of missed.events) if (mine(event)) subscriber.next(event);
        } else {
          // Its id is kept, so that the next reconnect resumes from here.
          subscriber.next({ type: 'reset', id: this.replay.lastId, data: { reason: missed.reason, lastEventId, window: this.replay.capacity } });
        }
      }
      const subscription = feed.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        this.count.next(this.count.value - 1);
      };
    });
  }
}
