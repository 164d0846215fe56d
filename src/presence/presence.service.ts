import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Observable } from 'rxjs';
import { CLOCK, Clock } from '../common/clock';
import { SESSION_CONTROL, SessionControl } from '../common/ports';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { HeartbeatService } from '../heartbeat/heartbeat.service';
import { CloseReason } from '../transport/close-reason';
import { TRANSPORT_SESSIONS, TransportSessions } from '../transport/session-view';
import { PresenceEntry } from './presence-entry';
import { PresenceLedger } from './presence-ledger';
import { AdmissionControl } from '../admission/admission-control';
import { LimitHits } from '../admission/limit-hits';
import { PRESENCE_STORE, PresenceStore } from './presence.store';
import type { ClientFilter, ClientRecord, Page, PageRequest, PresenceEvent, PresenceStats, PresenceStatus, SessionEvent } from './presence.types';
import { SessionDecisions } from './session-decisions';
import { WindowDecisions } from './window-decisions';

export { PresenceEntry } from './presence-entry';

/** The reason of the `leave` of a client that was connected when the gateway died. */
export const GATEWAY_RESTARTED = 'gateway restarted';

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
 *
 * The work is done beside it: the ledger (entries, the status writer,
 * store writes), the session decisions (login/close) and the window
 * decisions (liveness, retention); this is their facade, order and restore.
 */
@Injectable()
export class PresenceService implements OnModuleDestroy {
  private readonly logger = new Logger('PresenceService');
  private readonly ledger: PresenceLedger;
  private readonly entries: Map<string, PresenceEntry>;
  private readonly decisions: SessionDecisions;
  private readonly windows: WindowDecisions;
  /** Per client: what must run after the pending step (a first login that reads the store). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Taking over the store's records of the last run (loadOnStart); every step of a client waits for it. */
  private restoring: Promise<void> | undefined;
  /** Every transition, exactly once, in order. */
  readonly events$: Observable<PresenceEvent>;
  /** Every login (a new session), after its record is up to date; takeovers and re-logins too. */
  readonly sessions$: Observable<SessionEvent>;
  /** Transitions since start, by target status (metrics). */
  readonly transitionCounts: Record<PresenceStatus, number>;

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(PRESENCE_STORE) private readonly store: PresenceStore,
    @Inject(TRANSPORT_SESSIONS) transport: TransportSessions,
    @Inject(SESSION_CONTROL) private readonly control: SessionControl,
    heartbeat: HeartbeatService,
    limitHits: LimitHits,
    admission: AdmissionControl,
  ) {
    const ledger = new PresenceLedger(config, clock, store, transport, limitHits);
    this.ledger = ledger;
    this.entries = ledger.entries;
    this.events$ = ledger.events$;
    this.transitionCounts = ledger.transitionCounts;
    this.decisions = new SessionDecisions(config, clock, store, ledger);
    this.sessions$ = this.decisions.sessions$;
    this.windows = new WindowDecisions(config, ledger, control);
    const cap = ledger.cap;
    // MAX_CLIENT_RECORDS is asked by the transport before a login completes (it knows no presence).
    admission.checkNewClientsWith((clientId) => (cap.admit(clientId) ? undefined : cap.fullMessage));
    if (store.loadOnStart) this.restoring = this.restore(store.loadOnStart());
    transport.on('login', (event) => this.inOrder(event.clientId, () => this.decisions.onLogin(event)));
    transport.on('close', (event) => {
      if (event.wasCurrent && event.clientId !== undefined) this.inOrder(event.clientId, () => this.decisions.onClose(event));
    });
    // One window closed: every record of this node through the liveness counter, then retention.
    heartbeat.onWindow((report) => (this.restoring ? 0 : this.windows.onWindow(report)));
  }

  onModuleDestroy(): void {
    this.ledger.close();
    this.decisions.close();
  }

  // ---- queries -------------------------------------------------------------------

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const entry = this.entries.get(clientId);
    if (entry) return this.ledger.snapshot(entry);
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
      return entry ? this.ledger.snapshot(entry) : r;
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

  /** Epoch of the record this node holds for the client, connected or not (cluster: is a takeover about it?). */
  heldEpoch(clientId: string): number | undefined {
    return this.entries.get(clientId)?.base.epoch;
  }

  /** Epoch of the client's session when it is connected to this node (cluster routing). */
  localEpoch(clientId: string): number | undefined {
    const entry = this.entries.get(clientId);
    return entry?.connected ? entry.base.epoch : undefined;
  }

  /**
   * The records of every client this node holds, connected or not, as they
   * are now: a cluster node writes them back when Redis returns (maybe
   * empty), so that neither its live clients nor a transition whose write
   * the outage refused is lost. A record another node has since taken over
   * has a higher epoch there and is fenced off.
   */
  heldRecords(): ClientRecord[] {
    const out: ClientRecord[] = [];
    for (const entry of this.entries.values()) out.push(entry.record(this.ledger.sessionOf(entry)));
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
    return this.ledger.writes.flush();
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
    if (entry.status !== 'close') this.ledger.setStatus(entry, 'close', reason);
    if (entry.connected) await this.control.kick(clientId, reason);
    return true;
  }

  /**
   * Takes over the records of the last run. Nobody saw the sockets of the
   * clients that were connected when the process died close: they are
   * `leave` now ('gateway restarted'), their leave timeout counted from now.
   */
  private async restore(load: Promise<ClientRecord[]>): Promise<void> {
    try {
      let highestEpoch = 0;
      for (const record of await load) {
        if (record.epoch > highestEpoch) highestEpoch = record.epoch;
        const entry = PresenceEntry.fromRecord(record);
        this.entries.set(record.clientId, entry);
        if (!record.connected && record.status !== 'alive') continue;
        if (entry.status === 'close') this.ledger.persist(entry);
        else this.ledger.setStatus(entry, 'leave', GATEWAY_RESTARTED);
      }
      this.decisions.heldEveryRecord(highestEpoch);
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
}
