import { Inject, Injectable, MessageEvent, OnModuleDestroy } from '@nestjs/common';
import { BehaviorSubject, filter, interval, map, merge, Observable, Subject, takeUntil } from 'rxjs';
import { CommandService } from '../commands/command.service';
import { MetricsService } from '../metrics/metrics.service';
import { PresenceService } from '../presence/presence.service';
import { ADMIN_API_OPTIONS, AdminApiOptions } from './admin.options';

/**
 * The live feed behind `GET /events`: presence and command events as SSE
 * messages, plus a keep-alive comment. Each listener is a subscription to
 * the services' Subjects and nothing else (no buffer here: a listener that
 * stops reading is dropped by the SSE writer past SSE_MAX_PENDING_CHARS),
 * and it is counted so a leak would show.
 */
@Injectable()
export class AdminEventsService implements OnModuleDestroy {
  private readonly count = new BehaviorSubject(0);
  /** Listeners right now; emits on every change (tests wait on it, metrics read it). */
  readonly listeners$: Observable<number> = this.count.asObservable();
  private readonly closing = new Subject<void>();

  constructor(
    private readonly presence: PresenceService,
    private readonly commands: CommandService,
    @Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions,
    metrics: MetricsService,
  ) {
    metrics.gauge('longlink_sse_listeners', 'Open GET /events streams', () => this.count.value);
  }

  get listeners(): number {
    return this.count.value;
  }

  /** Completes every open stream, so that HTTP shutdown does not wait on them. */
  onModuleDestroy(): void {
    this.closing.next();
    this.closing.complete();
  }

  stream(clientId?: string): Observable<MessageEvent> {
    const mine = <T extends { clientId: string }>(source: Observable<T>) =>
      clientId === undefined ? source : source.pipe(filter((e) => e.clientId === clientId));
    const feed = merge(
      mine(this.presence.events$).pipe(map((data): MessageEvent => ({ type: 'presence', data }))),
      mine(this.commands.events$).pipe(map((data): MessageEvent => ({ type: 'command', data }))),
      interval(this.options.sseHeartbeatMs).pipe(map((): MessageEvent => ({ comment: 'ping' }))),
    ).pipe(takeUntil(this.closing));
    return new Observable<MessageEvent>((subscriber) => {
      this.count.next(this.count.value + 1);
      const subscription = feed.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        this.count.next(this.count.value - 1);
      };
    });
  }
}
