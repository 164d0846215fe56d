import { Observable, Subject } from 'rxjs';
import type { Clock } from '../common/clock';
import type { LongLinkConfig } from '../config';
import { initialLiveness } from '../heartbeat/heartbeat-counter';
import { CloseReason } from '../transport/close-reason';
import type { CloseEvent, LoginEvent } from '../transport/transport.events';
import { PresenceEntry, RecordBase } from './presence-entry';
import type { PresenceLedger } from './presence-ledger';
import type { PresenceStore } from './presence.store';
import type { SessionEvent } from './presence.types';

/** Close reasons of a socket that end the session on purpose (status close); anything else is `leave`. */
const CLOSING_REASONS = new Set<string>([CloseReason.LOGOUT, CloseReason.KICKED, CloseReason.TIMEOUT]);

/** What a login or a close reported by the transport does to a client's record (run in order per client by the caller). */
export class SessionDecisions {
  private readonly sessionSubject = new Subject<SessionEvent>();
  /** Every login (a new session), after its record is up to date; takeovers and re-logins too. */
  readonly sessions$: Observable<SessionEvent> = this.sessionSubject.asObservable();
  /**
   * Set once the records of a store that loads at start (SQLite) are all
   * held here: a client with no entry is then unknown to the store too, and
   * its login needs no read of it.
   */
  private holdsEveryRecord = false;
  /** The highest epoch loaded or issued here: a new client's first session is numbered above it. */
  private epochHigh = 0;

  constructor(
    private readonly config: LongLinkConfig,
    private readonly clock: Clock,
    private readonly store: PresenceStore,
    private readonly ledger: PresenceLedger,
  ) {}

  onLogin(event: LoginEvent): void | Promise<void> {
    const entry = this.ledger.entries.get(event.clientId);
    // A shared store (cluster) numbers sessions itself: another node may have had a newer one since our entry's.
    if (this.store.nextEpoch) return this.store.nextEpoch(event.clientId, entry?.base.epoch ?? 0).then((epoch) => this.login(entry, event, epoch - 1));
    if (entry) return this.login(entry, event, entry.base.epoch);
    // Above every epoch the store can hold for it, even a row whose delete failed: no read needed.
    if (this.holdsEveryRecord) return this.login(undefined, event, this.epochHigh);
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
    if (base.epoch > this.epochHigh) this.epochHigh = base.epoch;
    const session = { clientId, sessionId, epoch: base.epoch, at: now };
    if (!entry) {
      // Asked before the login completed; here room is only made (two new clients raced for the last place).
      this.ledger.cap.admit(clientId, false);
      const created = new PresenceEntry(base, initialLiveness(this.config.heartbeat, now));
      created.connected = true;
      created.session = this.ledger.liveSession(clientId, sessionId);
      created.lastSeenAt = now;
      this.ledger.entries.set(clientId, created);
      this.ledger.setStatus(created, 'alive', event.implicit ? 'first heartbeat' : 'login', created.liveness, null);
      this.sessionSubject.next(session);
      return;
    }
    const previousStatus = entry.status;
    entry.base = base;
    entry.connected = true;
    entry.session = this.ledger.liveSession(clientId, sessionId);
    entry.lastSeenAt = now;
    if (previousStatus === 'alive') {
      // Takeover or a quick re-login: same record, no transition.
      this.ledger.persist(entry);
    } else {
      entry.reported = {};
      this.ledger.setStatus(entry, 'alive', previousStatus === 'leave' ? 'relogin' : 'login', initialLiveness(this.config.heartbeat, now));
    }
    this.sessionSubject.next(session);
  }

  onClose(event: CloseEvent): void {
    const entry = this.ledger.entries.get(event.clientId as string);
    if (!entry || !entry.connected || entry.base.sessionId !== event.sessionId) return;
    entry.capture(event);
    entry.connected = false;
    entry.session = undefined;
    if (entry.status === 'close') this.ledger.persist(entry);
    else if (CLOSING_REASONS.has(event.reason)) this.ledger.setStatus(entry, 'close', event.reason);
    else if (entry.status === 'alive') this.ledger.setStatus(entry, 'leave', event.reason);
    else this.ledger.persist(entry);
  }

  /** Restore took over every record of the store (their highest epoch given): see holdsEveryRecord. */
  heldEveryRecord(highestEpoch: number): void {
    this.holdsEveryRecord = true;
    if (highestEpoch > this.epochHigh) this.epochHigh = highestEpoch;
  }

  close(): void {
    this.sessionSubject.complete();
  }
}
