import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { filter, Observable, Subject, take } from 'rxjs';
import { CLOCK, Clock } from '../common/clock';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import type { ClientFilter, Page, PageRequest } from '../presence/presence.types';
import { PresenceService } from '../presence/presence.service';
import type { AckMessage } from '../protocol';
import type { Connection } from '../transport/connection';
import { LongLinkServer } from '../transport/long-link.server';
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
 * Server push (PROTOCOL.md §4): creates commands, sends them to the client's
 * live connection or queues them until its next LOGIN, re-sends what was
 * sent but not acked after a reconnect (at-least-once), records ACKs, and
 * expires what outlives its TTL. Every status change is one event on
 * `events$`. It knows sockets only through LongLinkServer, and HTTP not at all.
 */
@Injectable()
export class CommandService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CommandService');
  private readonly subject = new Subject<CommandEvent>();
  /** Every status change, exactly once, in order per command. */
  readonly events$: Observable<CommandEvent> = this.subject.asObservable();
  /** Transitions since start, by target status (metrics). */
  readonly transitionCounts: Record<CommandStatus, number> = { queued: 0, sent: 0, acked: 0, failed: 0, expired: 0 };
  /** ACKs that named a command this client does not have (metrics). */
  strayAcks = 0;

  /** clientId → the tail of its delivery chain: sends to one client never interleave. */
  private readonly chains = new Map<string, Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private earlyTimer: NodeJS.Timeout | undefined;
  private earlyAt = Number.POSITIVE_INFINITY;
  /** Sweeps run one after another; the timer skips its turn while one is queued. */
  private sweepChain: Promise<unknown> = Promise.resolve();
  private sweepsQueued = 0;
  private readonly onLogin = (conn: Connection) => this.flush(conn.clientId as string);
  private readonly onAck = (conn: Connection, ack: AckMessage) => {
    this.recordAck(conn, ack).catch((error: Error) => this.logger.error(`ACK '${ack.id}' not recorded: ${error.message}`));
  };

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    private readonly server: LongLinkServer,
    private readonly presence: PresenceService,
  ) {}

  onModuleInit(): void {
    // After PresenceService (which listens from its constructor), so the
    // client's record is up to date when its queue is flushed.
    this.server.on('login', this.onLogin);
    this.server.on('ack', this.onAck);
    this.sweepTimer = setInterval(() => {
      if (this.sweepsQueued === 0) void this.sweep();
    }, COMMAND_SWEEP_MS);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    this.server.off('login', this.onLogin);
    this.server.off('ack', this.onAck);
    clearInterval(this.sweepTimer);
    clearTimeout(this.earlyTimer);
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
    if (!this.liveConnection(clientId) && !options.queue) {
      const record = await this.presence.get(clientId);
      if (!record) throw new ClientNotFoundError(clientId);
      if (record.status === 'close') throw new ClientClosedError(clientId, record.closeReason);
    }
    const now = this.clock.now();
    const command: CommandRecord = {
      id: randomUUID(),
      clientId,
      name,
      ...(data === undefined ? {} : { data }),
      status: 'queued',
      createdAt: now,
      expiresAt: now + (options.ttlMs ?? this.config.commands.ttlMs),
      attempts: 0,
      ...(options.batchId === undefined ? {} : { batchId: options.batchId }),
    };
    const bytes = Buffer.byteLength(JSON.stringify(cmdFrame(command))) + TYPE_KEY_BYTES;
    if (bytes > this.config.maxFrameBytes) throw new CommandTooLargeError(bytes, this.config.maxFrameBytes);
    const max = this.config.commands.maxQueued;
    const inserted = await this.store.insert(command, max);
    if (!inserted.ok) throw new QueueFullError(clientId, inserted.pending, max);
    this.emit(command, null);
    this.armExpiry(command.expiresAt);
    await this.deliver(clientId, false);
    return (await this.store.get(command.id)) ?? command;
  }

  /**
   * One command per client matching `filter` (all known clients when empty),
   * under one batchId. A client that is `close` (or, named in clientIds, not
   * known) is skipped unless `queue` is set; one whose queue is full is
   * skipped too. Nothing is refused as a whole.
   */
  async broadcast(
    filter: ClientFilter,
    name: string,
    data?: unknown,
    options: Omit<SendCommandOptions, 'batchId'> = {},
  ): Promise<BroadcastResult> {
    const batchId = randomUUID();
    const result: BroadcastResult = { batchId, count: 0, skipped: { closed: 0, unknown: 0, queueFull: 0 } };
    const sendOne = async (clientId: string) => {
      try {
        await this.send(clientId, name, data, { ...options, batchId });
        result.count++;
      } catch (error) {
        if (error instanceof QueueFullError) result.skipped.queueFull++;
        else if (error instanceof ClientClosedError) result.skipped.closed++;
        else if (error instanceof ClientNotFoundError) result.skipped.unknown++;
        else throw error;
      }
    };
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await this.presence.list(filter, { limit: BROADCAST_PAGE, cursor });
      for (const record of page.items) {
        seen.add(record.clientId);
        await sendOne(record.clientId);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    // Named clients nobody knows yet: only a pure list of ids can mean them.
    const onlyIds = Object.entries(filter).every(([key, value]) => key === 'clientIds' || value === undefined);
    if (filter.clientIds && onlyIds) {
      for (const clientId of new Set(filter.clientIds)) if (!seen.has(clientId)) await sendOne(clientId);
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
      const subscription = this.events$
        .pipe(
          filter((e) => e.id === id && isFinal(e.to)),
          take(1),
        )
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

  // ---- deliver ------------------------------------------------------------------------

  /** At LOGIN: everything queued, and everything sent but not acked again (at-least-once). */
  private flush(clientId: string): void {
    this.deliver(clientId, true).catch((error: Error) =>
      this.logger.error(`delivery to '${clientId}' after LOGIN failed: ${error.message}`),
    );
  }

  /**
   * Writes the client's pending commands to its live connection, oldest
   * first. Runs one at a time per client, so a command created during a
   * flush waits behind the older ones instead of overtaking them.
   */
  private deliver(clientId: string, resendSent: boolean): Promise<void> {
    const previous = this.chains.get(clientId) ?? Promise.resolve();
    const run = previous.then(() => this.deliverNow(clientId, resendSent));
    const tail = run.catch(() => undefined);
    this.chains.set(clientId, tail);
    void tail.then(() => {
      if (this.chains.get(clientId) === tail) this.chains.delete(clientId);
    });
    return run;
  }

  private async deliverNow(clientId: string, resendSent: boolean): Promise<void> {
    if (!this.liveConnection(clientId)) return;
    for (const command of await this.store.pending(clientId)) {
      if (command.status === 'sent' && !resendSent) continue;
      const now = this.clock.now();
      if (command.expiresAt <= now) {
        await this.transition(command, { status: 'expired', finishedAt: now });
        continue;
      }
      // Looked up per command: the socket may close (or be replaced) mid-flush.
      const conn = this.liveConnection(clientId);
      if (!conn) return;
      const updated = await this.transition(command, { status: 'sent', sentAt: now, attempts: command.attempts + 1 });
      if (!updated) continue; // acked or expired meanwhile
      conn.send('CMD', cmdFrame(updated));
      this.server.stats.framesOut++;
    }
  }

  // ---- ACK ------------------------------------------------------------------------------

  private async recordAck(conn: Connection, ack: AckMessage): Promise<void> {
    const command = await this.store.get(ack.id);
    if (!command || command.clientId !== conn.clientId) {
      this.strayAcks++;
      this.logger.warn(`ignored ACK from '${conn.clientId}' for command '${ack.id}': ${command ? `it belongs to '${command.clientId}'` : 'unknown id'}`);
      return;
    }
    const now = this.clock.now();
    const patch: CommandPatch = ack.ok
      ? { status: 'acked', ackedAt: now, finishedAt: now, ...(ack.result === undefined ? {} : { result: ack.result }) }
      : { status: 'failed', ackedAt: now, finishedAt: now, ...(ack.error === undefined ? {} : { error: ack.error }) };
    const updated = await this.transition(command, patch);
    if (!updated) this.logger.debug(`ACK for command '${ack.id}' of '${command.clientId}' ignored: already ${command.status}`);
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
        if (await this.transition(command, { status: 'expired', finishedAt: now })) expired++;
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

  private async transition(command: CommandRecord, patch: CommandPatch): Promise<CommandRecord | undefined> {
    const updated = await this.store.update(command.id, PENDING_STATUSES, patch);
    if (updated && updated.status !== command.status) this.emit(updated, command.status);
    return updated;
  }

  private emit(command: CommandRecord, from: CommandStatus | null): void {
    this.transitionCounts[command.status]++;
    this.logger.debug?.(`command '${command.id}' (${command.name}) for '${command.clientId}': ${from ?? 'new'} -> ${command.status}`);
    this.subject.next({
      id: command.id,
      clientId: command.clientId,
      name: command.name,
      from,
      to: command.status,
      at: this.clock.now(),
      ...(command.batchId === undefined ? {} : { batchId: command.batchId }),
      nodeId: this.config.nodeId,
    });
  }

  private liveConnection(clientId: string): Connection | undefined {
    const conn = this.server.getConnection(clientId);
    return conn && !conn.closed ? conn : undefined;
  }
}

export interface BroadcastResult {
  batchId: string;
  /** Commands created. */
  count: number;
  skipped: { closed: number; unknown: number; queueFull: number };
}

/** Clients read per page while broadcasting. */
const BROADCAST_PAGE = 1000;

export interface SweepOutcome {
  expired: number;
  removed: number;
}

/** `"type":"CMD",` (or the `code` alias), which Connection.send puts in front of the body. */
const TYPE_KEY_BYTES = 13;

/** The CMD frame body of PROTOCOL.md §2. */
function cmdFrame(command: CommandRecord): Record<string, unknown> {
  return { id: command.id, name: command.name, data: command.data, expiresAt: command.expiresAt };
}
