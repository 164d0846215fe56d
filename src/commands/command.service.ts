import { randomUUID } from 'node:crypto';
import { LogThrottle } from '../admission/log-throttle';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { filter, merge, Observable, Subject, Subscription, take } from 'rxjs';
import { CLOCK, Clock } from '../common/clock';
import { COMMAND_DELIVERY, CommandDelivery } from '../common/ports';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import type { ClientFilter, Page, PageRequest } from '../presence/presence.types';
import { PresenceService } from '../presence/presence.service';
import { cmdBody, cmdFrameBytes } from '../protocol/cmd-frame';
import { TRANSPORT_SESSIONS, TransportSessions } from '../transport/session-view';
import type { AckEvent } from '../transport/transport.events';
import {
  ClientClosedError,
  ClientNotFoundError,
  CommandNotFoundError,
  CommandTooLargeError,
  QueueFullError,
} from './command.errors';
import { COMMAND_STORE, CommandPatch, CommandStore } from './command.store';
import {
  CommandEvent,
  CommandQuery,
  CommandRecord,
  CommandStatus,
  isFinal,
  PENDING_STATUSES,
  SendCommandOptions,
} from './command.types';

/** The expiry/retention sweep runs at least this often; a shorter TTL arms an earlier one-shot. */
export const COMMAND_SWEEP_MS = 1000;

/**
 * Server push (docs/PROTOCOL.md §4): creates commands, sends them to the client's
 * live connection or queues them until its next LOGIN, re-sends what was
 * sent but not acked after a reconnect (at-least-once), records ACKs, and
 * expires what outlives its TTL. Every status change is one event on
 * `events$`. It reacts to presence's sessions (deliver on login), writes
 * through CommandDelivery, and knows neither sockets nor HTTP.
 */
@Injectable()
export class CommandService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CommandService');
  private readonly subject = new Subject<CommandEvent>();
  /** Ids of commands that became final on another node (cluster): wakes waitForOutcome here. */
  private readonly finishedElsewhere = new Subject<string>();
  /** Every status change, exactly once, in order per command. */
  readonly events$: Observable<CommandEvent> = this.subject.asObservable();
  /** Transitions since start, by target status (metrics). */
  readonly transitionCounts: Record<CommandStatus, number> = { queued: 0, sent: 0, acked: 0, failed: 0, expired: 0 };
  /** ACKs that named a command this client does not have (metrics). */
  strayAcks = 0;
  /** A client can send ACKs for ids it makes up as fast as it likes: one line per LOG_THROTTLE_MS, with a count. */
  private readonly strayLog: LogThrottle;

  /** clientId → the tail of its delivery chain: sends to one client never interleave. */
  private readonly chains = new Map<string, Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private earlyTimer: NodeJS.Timeout | undefined;
  private earlyAt = Number.POSITIVE_INFINITY;
  /** Sweeps run one after another; the timer skips its turn while one is queued. */
  private sweepChain: Promise<unknown> = Promise.resolve();
  private sweepsQueued = 0;
  private sessions: Subscription | undefined;
  private readonly onAck = (event: AckEvent) => {
    this.recordAck(event).catch((error: Error) => this.logger.error(`ACK '${event.ack.id}' not recorded: ${error.message}`));
  };

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    @Inject(COMMAND_DELIVERY) private readonly delivery: CommandDelivery,
    @Inject(TRANSPORT_SESSIONS) private readonly transport: TransportSessions,
    private readonly presence: PresenceService,
  ) {
    this.strayLog = new LogThrottle((line) => this.logger.warn(line), config.admission.logThrottleMs);
  }

  onModuleInit(): void {
    // A session event comes after presence has updated the client's record.
    this.sessions = this.presence.sessions$.subscribe((event) => this.flush(event.clientId));
    this.transport.on('ack', this.onAck);
    this.sweepTimer = setInterval(() => {
      if (this.sweepsQueued === 0) void this.sweep();
    }, COMMAND_SWEEP_MS);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    this.sessions?.unsubscribe();
    this.transport.off('ack', this.onAck);
    clearInterval(this.sweepTimer);
    clearTimeout(this.earlyTimer);
    this.strayLog.close();
    this.subject.complete();
  }

  // ---- create ---------------------------------------------------------------------

  /**
   * Creates a command and sends it at once when the client is connected, else
   * queues it. Refuses (CommandError) an unknown or `close` client unless
   * `queue` is set, a client with MAX_QUEUED_COMMANDS undelivered commands,
   * and data whose CMD frame would exceed MAX_FRAME_BYTES.
   */
  async send(clientId: string, name: string, data?: unknown, options: SendCommandOptions = {}): Promise<CommandRecord> {
    const [outcome] = await this.dispatch([clientId], name, data, options);
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
    for (const outcome of await this.dispatch(clientIds, name, data, { ...options, batchId })) {
      if (outcome.kind === 'created') result.count++;
      else result.skipped[outcome.kind]++;
    }
    this.logger.log(`broadcast '${name}' (batch ${batchId}): ${result.count} commands, skipped ${JSON.stringify(result.skipped)}`);
    return result;
  }

  /**
   * The one way commands are created, for one client (`send`) or many
   * (`broadcast`): name and data serialised once, the records stored in one
   * call, and the CMD written straight to every connected client that has
   * nothing else in flight, in one synchronous loop. Those are stored as
   * `sent` before the write, and nothing else runs between the store's
   * answer and the write, so an ACK always finds its command `sent`.
   * The rest is stored `queued` and goes through the client's delivery
   * chain, behind what it already has (order per client holds).
   */
  private async dispatch(clientIds: readonly string[], name: string, data: unknown, options: SendCommandOptions): Promise<DispatchOutcome[]> {
    const outcomes: Array<DispatchOutcome | undefined> = new Array(clientIds.length);
    const live: boolean[] = new Array(clientIds.length);
    let accepted = 0;
    let awaited = false;
    for (let i = 0; i < clientIds.length; i++) {
      live[i] = this.delivery.isConnected(clientIds[i]);
      if (!live[i] && !options.queue) {
        awaited = true;
        const record = await this.presence.get(clientIds[i]);
        if (!record) outcomes[i] = { kind: 'unknown' };
        else if (record.status === 'close') outcomes[i] = { kind: 'closed', closeReason: record.closeReason };
      }
      if (outcomes[i] === undefined) accepted++;
    }
    if (accepted === 0) return outcomes as DispatchOutcome[];

    const now = this.clock.now();
    const expiresAt = now + (options.ttlMs ?? this.config.commands.ttlMs);
    const body = cmdBody(name, data, expiresAt);
    const bytes = cmdFrameBytes(body);
    if (bytes > this.config.maxFrameBytes) throw new CommandTooLargeError(bytes, this.config.maxFrameBytes);

    const records: CommandRecord[] = new Array(accepted);
    const slots: number[] = new Array(accepted);
    for (let i = 0, j = 0; i < clientIds.length; i++) {
      if (outcomes[i] !== undefined) continue;
      const clientId = clientIds[i];
      // Connections may have come or gone during an await above.
      const connected = awaited ? this.delivery.isConnected(clientId) : live[i];
      const direct = connected && !this.chains.has(clientId);
      const record: CommandRecord = { id: randomUUID(), clientId, name, status: direct ? 'sent' : 'queued', createdAt: now, expiresAt, attempts: direct ? 1 : 0 };
      if (data !== undefined) record.data = data;
      if (direct) record.sentAt = now;
      if (options.batchId !== undefined) record.batchId = options.batchId;
      records[j] = record;
      slots[j++] = i;
    }
    // A broadcast, on a store that decides the bound at once (SQLite), stores
    // its rows after the CMDs below are written; the answer still waits for
    // their commit. (Should that fail, e.g. on a full disk, the 503 comes
    // after connected clients got the CMD: at-least-once. A single command
    // is stored first, so a refused one is never sent.)
    const early = options.batchId === undefined ? undefined : this.store.insertManyNow?.(records, this.config.commands.maxQueued);
    const inserted = early ? early.results : await this.store.insertMany(records, this.config.commands.maxQueued);

    const debug = Logger.isLevelEnabled('debug');
    const queued: string[] = [];
    let created = 0;
    for (let j = 0; j < records.length; j++) {
      const result = inserted[j];
      if (!result.ok) {
        outcomes[slots[j]] = { kind: 'queueFull', pending: result.pending };
        continue;
      }
      const command = records[j];
      outcomes[slots[j]] = { kind: 'created', command };
      created++;
      this.emit(command, null, 'queued', debug);
      if (command.status === 'queued') {
        queued.push(command.clientId);
        continue;
      }
      this.emit(command, 'queued', 'sent', debug);
      // Closed since: it stays `sent`, re-sent at the next LOGIN.
      this.delivery.deliver(command.clientId, [{ id: command.id, body }]);
    }
    if (created > 0) this.armExpiry(expiresAt);
    // A client that connected meanwhile gets its queued command now, as send() always did.
    await Promise.all(queued.filter((clientId) => this.delivery.isConnected(clientId)).map((clientId) => this.deliver(clientId, false)));
    // The HTTP 201/202 names committed rows only.
    if (early) await early.committed;
    return outcomes as DispatchOutcome[];
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
    this.deliver(clientId, false).catch((error: Error) => this.logger.error(`delivery to '${clientId}' failed: ${error.message}`));
  }

  // ---- deliver ------------------------------------------------------------------------

  /** At LOGIN: everything queued, and everything sent but not acked again (at-least-once). */
  private flush(clientId: string): void {
    this.deliver(clientId, true, true).catch((error: Error) =>
      this.logger.error(`delivery to '${clientId}' after LOGIN failed: ${error.message}`),
    );
  }

  /**
   * Writes the client's pending commands to its live connection, oldest
   * first. Runs one at a time per client, so a command created during a
   * flush waits behind the older ones instead of overtaking them.
   */
  private deliver(clientId: string, resendSent: boolean, countFirst = false): Promise<void> {
    const previous = this.chains.get(clientId) ?? Promise.resolve();
    // In the chain from the first tick, so that a command created while the
    // count is read queues behind the older ones instead of overtaking them.
    const run = previous.then(async () => {
      // Nothing pending (the common LOGIN): skip reading the queue.
      if (countFirst && (await this.store.pendingCount(clientId)) === 0) return;
      await this.deliverNow(clientId, resendSent);
    });
    const tail = run.catch(() => undefined);
    this.chains.set(clientId, tail);
    void tail.then(() => {
      if (this.chains.get(clientId) === tail) this.chains.delete(clientId);
    });
    return run;
  }

  private async deliverNow(clientId: string, resendSent: boolean): Promise<void> {
    if (!this.delivery.isConnected(clientId)) return;
    for (const command of await this.store.pending(clientId)) {
      if (command.status === 'sent' && !resendSent) continue;
      const now = this.clock.now();
      if (command.expiresAt <= now) {
        await this.transition(command.id, { status: 'expired', finishedAt: now });
        continue;
      }
      // Looked up per command: the socket may close (or be replaced) mid-flush.
      if (!this.delivery.isConnected(clientId)) return;
      const updated = await this.transition(command.id, { status: 'sent', sentAt: now, attempts: command.attempts + 1 });
      if (!updated) continue; // acked or expired meanwhile
      this.delivery.deliver(clientId, [{ id: updated.id, body: cmdBody(updated.name, updated.data, updated.expiresAt) }]);
    }
  }

  // ---- ACK ------------------------------------------------------------------------------

  /** One store round trip when the ACK is good; the reason is looked up only when it is not. */
  private async recordAck({ clientId: owner, ack }: AckEvent): Promise<void> {
    const now = this.clock.now();
    const patch: CommandPatch = ack.ok
      ? { status: 'acked', ackedAt: now, finishedAt: now, ...(ack.result === undefined ? {} : { result: ack.result }) }
      : { status: 'failed', ackedAt: now, finishedAt: now, ...(ack.error === undefined ? {} : { error: ack.error }) };
    if (await this.transition(ack.id, patch, owner)) return;
    const command = await this.store.get(ack.id);
    if (!command || command.clientId !== owner) {
      this.strayAcks++;
      this.strayLog.note('stray ACK', () => `ignored ACK from '${owner}' for command '${ack.id}': ${command ? `it belongs to '${command.clientId}'` : 'unknown id'}`);
      return;
    }
    this.logger.debug(`ACK for command '${ack.id}' of '${command.clientId}' ignored: already ${command.status}`);
  }

  // ---- expiry and retention ------------------------------------------------------------

  /**
   * Expires pending commands past `expiresAt` and drops final ones older than
   * COMMAND_RETENTION_MS. Runs on its own every COMMAND_SWEEP_MS (sooner for
   * a shorter TTL); public so that tests with a FakeClock can run it now.
   */
  sweep(): Promise<SweepOutcome> {
    // Queued rather than joined: a caller that just moved the clock gets a sweep that reads it.
    this.sweepsQueued++;
    const run = this.sweepChain.then(() => this.sweepNow()).finally(() => this.sweepsQueued--);
    this.sweepChain = run;
    return run;
  }

  private async sweepNow(): Promise<SweepOutcome> {
    const now = this.clock.now();
    let expired = 0;
    try {
      for (const command of await this.store.due(now)) {
        if (await this.transition(command.id, { status: 'expired', finishedAt: now })) expired++;
      }
      const removed = await this.store.purgeFinished(now - this.config.commands.retentionMs);
      return { expired, removed };
    } catch (error) {
      this.logger.error(`command sweep failed: ${(error as Error).message}`);
      return { expired, removed: 0 };
    }
  }

  /** A TTL shorter than the sweep period gets a one-shot timer of its own. */
  private armExpiry(expiresAt: number): void {
    const delay = expiresAt - this.clock.now();
    if (delay >= COMMAND_SWEEP_MS || expiresAt >= this.earlyAt) return;
    clearTimeout(this.earlyTimer);
    this.earlyAt = expiresAt;
    this.earlyTimer = setTimeout(() => {
      this.earlyTimer = undefined;
      this.earlyAt = Number.POSITIVE_INFINITY;
      void this.sweep();
    }, Math.max(0, delay) + 1);
    this.earlyTimer.unref();
  }

  // ---- the one writer of a status -------------------------------------------------------

  /**
   * Applies `patch` while the command is pending (and, with `clientId`, that
   * client's); emits the change. The updated copy, or undefined.
   */
  private async transition(id: string, patch: CommandPatch, clientId?: string): Promise<CommandRecord | undefined> {
    const change = await this.store.transition(id, PENDING_STATUSES, patch, clientId);
    if (!change) return undefined;
    if (change.record.status !== change.from) this.emit(change.record, change.from, change.record.status);
    return change.record;
  }

  /** Counted always; logged and published only when someone listens (a broadcast makes 20,000 of these). */
  private emit(command: CommandRecord, from: CommandStatus | null, to: CommandStatus, debug = Logger.isLevelEnabled('debug')): void {
    this.transitionCounts[to]++;
    if (debug) {
      this.logger.debug(`command '${command.id}' (${command.name}) for '${command.clientId}': ${from ?? 'new'} -> ${to}`);
    }
    if (!this.subject.observed) return;
    this.subject.next({
      id: command.id,
      clientId: command.clientId,
      name: command.name,
      from,
      to,
      at: this.clock.now(),
      ...(command.batchId === undefined ? {} : { batchId: command.batchId }),
      nodeId: this.config.nodeId,
    });
  }

}

export interface BroadcastResult {
  batchId: string;
  /** Commands created. */
  count: number;
  skipped: { closed: number; unknown: number; queueFull: number };
}

/** What dispatch did for one client. */
type DispatchOutcome =
  | { kind: 'created'; command: CommandRecord }
  | { kind: 'unknown' }
  | { kind: 'closed'; closeReason: string | null }
  | { kind: 'queueFull'; pending: number };

export interface SweepOutcome {
  expired: number;
  removed: number;
}
