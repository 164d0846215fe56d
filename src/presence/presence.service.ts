import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { CLOCK, Clock } from '../common/clock';
import { SESSION_CONTROL, SessionControl } from '../common/ports';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { initialLiveness, LivenessState, nextWindow, WindowFacts } from '../heartbeat/heartbeat-counter';
import { HeartbeatService } from '../heartbeat/heartbeat.service';
import type { WindowReport } from '../heartbeat/window-report';
import { CloseReason } from '../transport/close-reason';
import { TRANSPORT_SESSIONS, TransportSessions } from '../transport/session-view';
import type { CloseEvent, LoginEvent } from '../transport/transport.events';
import { PresenceEntry, RecordBase } from './presence-entry';
import { PresenceWrites } from './presence-writes';
import { AdmissionControl } from '../admission/admission-control';
import { LimitHits } from '../admission/limit-hits';
import { detachRecord } from './detach-record';
import { RecordCap } from './record-cap';
import { PRESENCE_STORE, PresenceStore } from './presence.store';
import type { ClientFilter, ClientRecord, Page, PageRequest, PresenceEvent, PresenceStats, PresenceStatus, SessionEvent } from './presence.types';

export { PresenceEntry } from './presence-entry';

/** The reason of the `leave` of a client that was connected when the gateway died. */
export const GATEWAY_RESTARTED = 'gateway restarted';

/** Close reasons of a socket that end the session on purpose (status close); anything else is `leave`. */
const CLOSING_REASONS = new Set<string>([CloseReason.LOGOUT, CloseReason.KICKED, CloseReason.TIMEOUT]);

/**
 * The single truth of who is online: client records, every status change
 * (through `setStatus`, the only writer of a status) and its event. It
 * decides on the facts others report (logins and closes from the
 * transport, windows from the heartbeat detector) and writes no socket: to
 * end a session it asks SessionControl.
 *
 * The event flow, in order per client: transport login/close → the record
 * is updated (and its write queued, in order, fenced by the session's epoch)
 * → `events$` (a transition) → `sessions$` (a session began: commands
 * deliver on it). Everything reacting to a client reacts to these.
 */
@Injectable()
export class PresenceService implements OnModuleDestroy {
  private readonly logger = new Logger('PresenceService');
  private readonly entries = new Map<string, PresenceEntry>();
  private readonly subject = new Subject<PresenceEvent>();
  private readonly sessionSubject = new Subject<SessionEvent>();
  /** Per client: what must run after the pending step (a first login that reads the store). */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly writes: PresenceWrites;
  /** Taking over the store's records of the last run (loadOnStart); every step of a client waits for it. */
  private restoring: Promise<void> | undefined;
  private readonly facts: WindowFacts = { active: false, connected: false, lagged: false, slowReader: false, now: 0 };
  /** Every transition, exactly once, in order. */
  readonly events$: Observable<PresenceEvent> = this.subject.asObservable();
  /** Every login (a new session), after its record is up to date; takeovers and re-logins too. */
  readonly sessions$: Observable<SessionEvent> = this.sessionSubject.asObservable();
  /** Transitions since start, by target status (metrics). */
  readonly transitionCounts: Record<PresenceStatus, number> = { alive: 0, leave: 0, close: 0 };
  private readonly cap: RecordCap<PresenceEntry>;

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PRESENCE_STORE) private readonly store: PresenceStore,
    @Inject(TRANSPORT_SESSIONS) private readonly transport: TransportSessions,
    @Inject(SESSION_CONTROL) private readonly control: SessionControl,
    heartbeat: HeartbeatService,
    limitHits: LimitHits,
    admission: AdmissionControl,
  ) {
    this.writes = new PresenceWrites(store, this.logger);
    const cap = new RecordCap(config.limits.maxClientRecords, this.entries, (id) => this.remove(id), limitHits, (line) => this.logger.warn(line), config.admission.logThrottleMs);
    this.cap = cap;
    // MAX_CLIENT_RECORDS is asked by the transport before a login completes (it knows no presence).
    admission.checkNewClientsWith((clientId) => (cap.admit(clientId) ? undefined : cap.fullMessage));
    if (store.loadOnStart) this.restoring = this.restore(store.loadOnStart());
    transport.on('login', (event) => this.inOrder(event.clientId, () => this.onLogin(event)));
    transport.on('close', (event) => {
      if (event.wasCurrent && event.clientId !== undefined) this.inOrder(event.clientId, () => this.onClose(event));
    });
    heartbeat.onWindow((report) => this.onWindow(report));
  }

  onModuleDestroy(): void {
    this.cap.close();
    this.subject.complete();
    this.sessionSubject.complete();
  }

  // ---- queries -------------------------------------------------------------------

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const entry = this.entries.get(clientId);
    if (entry) return this.snapshot(entry);
    return this.store.get(clientId);
  }

  /** Status of a client this node holds, without a store round trip. */
  localStatus(clientId: string): PresenceStatus | undefined {
    return this.entries.get(clientId)?.status;
  }

  async list(filter: ClientFilter = {}, page: PageRequest = {}): Promise<Page<ClientRecord>> {
    const result = await this.store.list(filter, page);
    // The store has each record as of its last transition; ours are fresher.
    result.items = result.items.map((r) => {
      const entry = this.entries.get(r.clientId);
      return entry ? this.snapshot(entry) : r;
    });
    return result;
  }

  /** clientIds matching the filter, without copying records (broadcast, bulk kick). */
  matchingIds(filter: ClientFilter = {}): Promise<string[]> {
    return this.store.ids(filter);
  }

  stats(): Promise<PresenceStats> {
    return this.store.stats();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Epoch of the client's session when it is connected to this node (cluster routing). */
  localEpoch(clientId: string): number | undefined {
    const entry = this.entries.get(clientId);
    return entry?.connected ? entry.base.epoch : undefined;
  }

  /** The records of the clients connected to this node (a cluster node writes them back when Redis returns). */
  liveRecords(): ClientRecord[] {
    const out: ClientRecord[] = [];
    for (const entry of this.entries.values()) if (entry.connected) out.push(entry.record(this.sessionOf(entry)));
    return out;
  }

  /**
   * Forgets a client without a transition or a store write: another node
   * took its session over (cluster), so this node's entry is stale and the
   * close of its socket here must change nothing.
   */
  forget(clientId: string): void {
    this.entries.delete(clientId);
  }

  /** Resolves once every store write queued so far is done (tests, shutdown). */
  flushWrites(): Promise<void> {
    return this.writes.flush();
  }

  // ---- decisions -------------------------------------------------------------------

  /**
   * Admin kick: status `close` with `reason`, then `KICK {reason}` and close
   * when connected. False for a client nobody knows.
   */
  async kick(clientId: string, reason: string = CloseReason.KICKED): Promise<boolean> {
    const entry = this.entries.get(clientId);
    if (!entry) {
      // Not held here: in a cluster its session may be on another node, which kicks it there.
      const stored = await this.store.get(clientId);
      if (stored?.connected) await this.control.kick(clientId, reason);
      return stored !== undefined;
    }
    if (entry.status !== 'close') this.setStatus(entry, 'close', reason);
    if (entry.connected) await this.control.kick(clientId, reason);
    return true;
  }

  /** One window closed: every record of this node through the liveness counter, then retention. */
  private onWindow(report: WindowReport): number {
    if (this.restoring) return 0;
    const facts = this.facts;
    let records = 0;
    for (const entry of this.entries.values()) {
      records++;
      if (entry.status === 'close') {
        this.expireIfClosed(entry, report.now);
        continue;
      }
      const next = nextWindow(entry.liveness, report.factsOf(entry.clientId, facts), this.config.heartbeat);
      if (next !== entry.liveness) this.applyWindow(entry, next);
    }
    return records;
  }

  private applyWindow(entry: PresenceEntry, next: LivenessState): void {
    if (!next.transition) {
      entry.liveness = next;
      return;
    }
    this.setStatus(entry, next.transition.to, next.transition.reason, next);
    if (next.status === 'close' && entry.connected) {
      this.control.kick(entry.clientId, CloseReason.TIMEOUT).catch((error: Error) => this.logger.error(`kick of '${entry.clientId}' failed: ${error.message}`));
    }
  }

  /** Drops a `close` record older than CLOSED_RETENTION_MS. */
  private expireIfClosed(entry: PresenceEntry, now: number): void {
    if (entry.connected) return;
    if (now - entry.liveness.statusSince < this.config.presence.closedRetentionMs) return;
    this.remove(entry.clientId);
  }

  private remove(clientId: string): void {
    this.entries.delete(clientId);
    this.cap.onRemoved(clientId);
    this.writes.delete(clientId);
  }

  /**
   * Takes over the records of the last run. Nobody saw the sockets of the
   * clients that were connected when the process died close: they are
   * `leave` now ('gateway restarted'), their leave timeout counted from now.
   */
  private async restore(load: Promise<ClientRecord[]>): Promise<void> {
    try {
      for (const record of await load) {
        const entry = PresenceEntry.fromRecord(record, this.config.nodeId);
        this.entries.set(record.clientId, entry);
        if (!record.connected && record.status !== 'alive') continue;
        if (entry.status === 'close') this.persist(entry);
        else this.setStatus(entry, 'leave', GATEWAY_RESTARTED);
      }
    } catch (error) {
      this.logger.error(`records of the last run not loaded: ${(error as Error).message}`);
    } finally {
      this.restoring = undefined;
    }
  }

  // ---- transport events ----------------------------------------------------------------

  /**
   * Runs `step` for the client after whatever is pending for it, at once
   * when nothing is (the common case: no promise, no allocation).
   */
  private inOrder(clientId: string, step: () => void | Promise<void>): void {
    const pending = this.queues.get(clientId) ?? this.restoring;
    const run = pending === undefined ? step() : pending.then(step);
    if (run === undefined) return;
    const tail = run.catch((error: Error) => this.logger.error(`presence of '${clientId}' not updated: ${error.message}`));
    this.queues.set(clientId, tail);
    void tail.then(() => {
      if (this.queues.get(clientId) === tail) this.queues.delete(clientId);
    });
  }

  private onLogin(event: LoginEvent): void | Promise<void> {
    const entry = this.entries.get(event.clientId);
    // A shared store (cluster) numbers sessions itself: another node may have had a newer one since our entry's.
    if (this.store.nextEpoch) return this.store.nextEpoch(event.clientId, entry?.base.epoch ?? 0).then((epoch) => this.login(entry, event, epoch - 1));
    if (entry) return this.login(entry, event, entry.base.epoch);
    // Not known here: the store may know it (a restart, another node) and
    // hold a higher epoch, which this session must exceed.
    return this.store.get(event.clientId).then((stored) => this.login(undefined, event, stored?.epoch ?? 0));
  }

  private login(entry: PresenceEntry | undefined, event: LoginEvent, lastEpoch: number): void {
    const { clientId, sessionId } = event;
    const now = this.clock.now();
    const base: RecordBase = {
      clientId,
      sessionId,
      remoteAddress: event.remoteAddress,
      remotePort: event.remotePort,
      meta: event.meta ?? entry?.base.meta ?? {},
      connectedAt: now,
      closeReason: null,
      closedAt: null,
      nodeId: this.config.nodeId,
      // A new session: its writes carry the next fence (see ClientRecord.epoch).
      epoch: lastEpoch + 1,
    };
    const session = { clientId, sessionId, epoch: base.epoch, at: now };
    if (!entry) {
      // Asked before the login completed; here room is only made (two new clients raced for the last place).
      this.cap.admit(clientId, false);
      const created = new PresenceEntry(base, initialLiveness(this.config.heartbeat, now));
      created.connected = true;
      created.lastSeenAt = now;
      this.entries.set(clientId, created);
      this.setStatus(created, 'alive', event.implicit ? 'first heartbeat' : 'login', created.liveness, null);
      this.sessionSubject.next(session);
      return;
    }
    const previousStatus = entry.status;
    entry.base = base;
    entry.connected = true;
    entry.lastSeenAt = now;
    if (previousStatus === 'alive') {
      // Takeover or a quick re-login: same record, no transition.
      this.persist(entry);
    } else {
      entry.reported = {};
      this.setStatus(entry, 'alive', previousStatus === 'leave' ? 'relogin' : 'login', initialLiveness(this.config.heartbeat, now));
    }
    this.sessionSubject.next(session);
  }

  private onClose(event: CloseEvent): void {
    const entry = this.entries.get(event.clientId as string);
    if (!entry || !entry.connected || entry.base.sessionId !== event.sessionId) return;
    entry.capture(event);
    entry.connected = false;
    if (entry.status === 'close') this.persist(entry);
    else if (CLOSING_REASONS.has(event.reason)) this.setStatus(entry, 'close', event.reason);
    else if (entry.status === 'alive') this.setStatus(entry, 'leave', event.reason);
    else this.persist(entry);
  }

  // ---- the one writer of a status ---------------------------------------------------------

  private setStatus(entry: PresenceEntry, next: PresenceStatus, reason: string, liveness?: LivenessState, from: PresenceStatus | null = entry.status): void {
    const now = this.clock.now();
    const l = liveness ?? entry.liveness;
    // Built field by field: an object spread plus extra keys makes V8 fall back to slow dictionary objects.
    entry.liveness = { status: next, cursor: l.cursor, strikes: l.strikes, recoverRun: liveness ? l.recoverRun : 0, statusSince: liveness ? l.statusSince : now };
    if (next === 'close') {
      entry.base.closeReason = reason;
      entry.base.closedAt = now;
    }
    const event: PresenceEvent = { clientId: entry.clientId, from, to: next, reason, at: now, nodeId: this.config.nodeId };
    entry.transitions.push(event);
    if (entry.transitions.length > this.config.presence.historySize) entry.transitions.shift();
    this.transitionCounts[next]++;
    this.cap.onStatus(entry.clientId, next);
    // Checked first: at 15,000 logins a second the unused string is not free.
    if (Logger.isLevelEnabled('log')) this.logger.log(`'${entry.clientId}' ${from ?? 'new'} -> ${next} (${reason})`);
    this.persist(entry);
    this.subject.next(event);
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** The entry's own session on this node, if it is still the registered one. */
  private sessionOf(entry: PresenceEntry) {
    if (!entry.connected) return undefined;
    const session = this.transport.session(entry.clientId);
    return session !== undefined && session.sessionId === entry.base.sessionId ? session : undefined;
  }

  private persist(entry: PresenceEntry): void {
    this.writes.save(entry.record(this.sessionOf(entry)));
  }

  /** A detached ClientRecord of the entry, for callers outside (one deep copy). */
  private snapshot(entry: PresenceEntry): ClientRecord {
    return detachRecord(entry.record(this.sessionOf(entry)));
  }
}
