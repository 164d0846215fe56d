import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { filter, merge, Observable, Subject, Subscription, take } from 'rxjs';
import { CLOCK, Clock } from '../common/clock';
import { COMMAND_DELIVERY, CommandDelivery } from '../common/ports';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import type { ClientFilter, Page, PageRequest } from '../presence/presence.types';
import { PresenceService } from '../presence/presence.service';
import { TRANSPORT_SESSIONS, TransportSessions } from '../transport/session-view';
import { AckRecorder } from './ack-recorder';
import { ClientClosedError, ClientNotFoundError, CommandNotFoundError, QueueFullError } from './command.errors';
import { COMMAND_STORE, CommandStore } from './command.store';
import { CommandEvent, CommandQuery, CommandRecord, CommandStatus, isFinal, SendCommandOptions } from './command.types';
import { CommandDispatch } from './command-dispatch';
import { CommandSweeper, SweepOutcome } from './command-sweeper';
import { CommandTransitions } from './command-transitions';
import { DeliveryChain } from './delivery-chain';

export { COMMAND_SWEEP_MS, type SweepOutcome } from './command-sweeper';

/**
 * Server push (docs/PROTOCOL.md §4): creates commands, sends them to the client's
 * live connection or queues them until its next LOGIN, re-sends what was
 * sent but not acked after a reconnect (at-least-once), records ACKs, and
 * expires what outlives its TTL. Every status change is one event on
 * `events$`. It reacts to presence's sessions (deliver on login), writes
 * through CommandDelivery, and knows neither sockets nor HTTP. The work is
 * done by the pieces beside it (dispatch, delivery chain, ACKs, sweeper,
 * transitions); this is their facade and their lifecycle.
 */
@Injectable()
export class CommandService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CommandService');
  /** Ids of commands that became final on another node (cluster): wakes waitForOutcome here. */
  private readonly finishedElsewhere = new Subject<string>();
  private readonly transitions: CommandTransitions;
  private readonly chains: DeliveryChain;
  private readonly acks: AckRecorder;
  private readonly sweeper: CommandSweeper;
  private readonly dispatcher: CommandDispatch;
  /** Every status change, exactly once, in order per command. */
  readonly events$: Observable<CommandEvent>;
  /** Transitions since start, by target status (metrics). */
  readonly transitionCounts: Record<CommandStatus, number>;
  private sessions: Subscription | undefined;

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    @Inject(COMMAND_DELIVERY) delivery: CommandDelivery,
    @Inject(TRANSPORT_SESSIONS) private readonly transport: TransportSessions,
    private readonly presence: PresenceService,
  ) {
    this.transitions = new CommandTransitions(store, clock, config.nodeId);
    this.events$ = this.transitions.events$;
    this.transitionCounts = this.transitions.counts;
    this.chains = new DeliveryChain(store, delivery, clock, this.transitions);
    this.acks = new AckRecorder(store, clock, this.transitions, config.admission.logThrottleMs);
    this.sweeper = new CommandSweeper(store, clock, this.transitions, config.commands.retentionMs);
    this.dispatcher = new CommandDispatch(config, clock, store, delivery, presence, this.chains, this.transitions, this.sweeper);
  }

  /** ACKs that named a command this client does not have (metrics). */
  get strayAcks(): number {
    return this.acks.strayAcks;
  }

  onModuleInit(): void {
    // A session event comes after presence has updated the client's record.
    this.sessions = this.presence.sessions$.subscribe((event) => this.flush(event.clientId));
    this.transport.on('ack', this.acks.onAck);
    this.sweeper.start();
  }

  onModuleDestroy(): void {
    this.sessions?.unsubscribe();
    this.transport.off('ack', this.acks.onAck);
    this.sweeper.stop();
    this.acks.close();
    this.transitions.complete();
  }

  // ---- create ---------------------------------------------------------------------

  /**
   * Creates a command and sends it at once when the client is connected, else
   * queues it. Refuses (CommandError) an unknown or `close` client unless
   * `queue` is set, a client with MAX_QUEUED_COMMANDS undelivered commands,
   * and data whose CMD frame would exceed MAX_FRAME_BYTES.
   */
  async send(clientId: string, name: string, data?: unknown, options: SendCommandOptions = {}): Promise<CommandRecord> {
    const [outcome] = await this.dispatcher.dispatch([clientId], name, data, options);
    switch (outcome.kind) {
      case 'unknown':
        throw new ClientNotFoundError(clientId);
      case 'closed':
        throw new ClientClosedError(clientId, outcome.closeReason);
      case 'queueFull':
        throw new QueueFullError(clientId, outcome.pending, this.config.commands.maxQueued);
      case 'created':
        // Written already: as built. Queued: as its delivery chain left it.
        if (outcome.command.status === 'sent') return outcome.command;
        return (await this.store.get(outcome.command.id)) ?? outcome.command;
    }
  }

  /**
   * One command per client matching `filter` (all known clients when empty),
   * under one batchId. A client that is `close` (or, named in clientIds, not
   * known) is skipped unless `queue` is set; one whose queue is full is
   * skipped too. Nothing is refused as a whole but data too large for a frame.
   */
  async broadcast(
    filter: ClientFilter,
    name: string,
    data?: unknown,
    options: Omit<SendCommandOptions, 'batchId'> = {},
  ): Promise<BroadcastResult> {
    const batchId = randomUUID();
    const clientIds = await this.presence.matchingIds(filter);
    // Named clients nobody knows yet: only a pure list of ids can mean them.
    const onlyIds = Object.entries(filter).every(([key, value]) => key === 'clientIds' || value === undefined);
    if (filter.clientIds && onlyIds) {
      const seen = new Set(clientIds);
      for (const clientId of new Set(filter.clientIds)) if (!seen.has(clientId)) clientIds.push(clientId);
    }
    const result: BroadcastResult = { batchId, count: 0, skipped: { closed: 0, unknown: 0, queueFull: 0 } };
    for (const outcome of await this.dispatcher.dispatch(clientIds, name, data, { ...options, batchId })) {
      if (outcome.kind === 'created') result.count++;
      else result.skipped[outcome.kind]++;
    }
    this.logger.log(`broadcast '${name}' (batch ${batchId}): ${result.count} commands, skipped ${JSON.stringify(result.skipped)}`);
    return result;
  }

  // ---- query ------------------------------------------------------------------------

  async get(id: string): Promise<CommandRecord | undefined> {
    return this.store.get(id);
  }

  /** Like `get`, but a CommandNotFoundError for an unknown id. */
  async require(id: string): Promise<CommandRecord> {
    const command = await this.store.get(id);
    if (!command) throw new CommandNotFoundError(id);
    return command;
  }

  list(query: CommandQuery = {}, page: PageRequest = {}): Promise<Page<CommandRecord>> {
    return this.store.list(query, page);
  }

  /**
   * Resolves with the command once it is acked, failed or expired, or after
   * `ms` with its current state; undefined for an unknown id.
   */
  waitForOutcome(id: string, ms: number): Promise<CommandRecord | undefined> {
    return new Promise((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        subscription.unsubscribe();
        this.store.get(id).then(resolve, reject);
      };
      // Subscribed before the first read, so an outcome in between is not missed.
      const subscription = merge(
        this.events$.pipe(filter((e) => e.id === id && isFinal(e.to))),
        this.finishedElsewhere.pipe(filter((finishedId) => finishedId === id)),
      )
        .pipe(take(1))
        .subscribe({ next: finish, complete: finish });
      this.store.get(id).then((command) => {
        if (done) return;
        if (!command || isFinal(command.status)) {
          done = true;
          subscription.unsubscribe();
          resolve(command);
          return;
        }
        timer = setTimeout(finish, ms);
      }, reject);
    });
  }

  /** A command became final on another node (the cluster bus tells the node it was posted on). */
  outcomeElsewhere(id: string): void {
    this.finishedElsewhere.next(id);
  }

  /** Delivers the client's queued commands now (the cluster bus: a command for this node's socket was posted elsewhere). */
  deliverQueued(clientId: string): void {
    this.chains.deliver(clientId, false).catch((error: Error) => this.logger.error(`delivery to '${clientId}' failed: ${error.message}`));
  }

  // ---- deliver ------------------------------------------------------------------------

  /** At LOGIN: everything queued, and everything sent but not acked again (at-least-once). */
  private flush(clientId: string): void {
    this.chains.deliver(clientId, true, true).catch((error: Error) =>
      this.logger.error(`delivery to '${clientId}' after LOGIN failed: ${error.message}`),
    );
  }

  // ---- expiry and retention ------------------------------------------------------------

  /**
   * Expires pending commands past `expiresAt` and drops final ones older than
   * COMMAND_RETENTION_MS. Runs on its own every COMMAND_SWEEP_MS (sooner for
   * a shorter TTL); public so that tests with a FakeClock can run it now.
   */
  sweep(): Promise<SweepOutcome> {
    return this.sweeper.sweep();
  }
}

export interface BroadcastResult {
  batchId: string;
  /** Commands created. */
  count: number;
  skipped: { closed: number; unknown: number; queueFull: number };
}
