import type { LimitHits } from '../admission/limit-hits';
import { LogThrottle } from '../admission/log-throttle';
import type { PresenceStatus } from './presence.types';

/** What the cap needs of a record: is its session still open here (such a one is never dropped)? */
export interface CappedEntry {
  readonly connected: boolean;
}

/**
 * MAX_CLIENT_RECORDS, the bound on what one-shot clientIds can make a node
 * keep (20,000 of them used to stay for CLOSED_RETENTION_MS, 24 h). Policy:
 * a known clientId always has its record; a new one gets room by dropping
 * the oldest `close` record (closed longest ago) early; when every record is
 * alive or leave, the new clientId is refused (its LOGIN gets a clear error),
 * so nothing already accepted is ever dropped silently.
 *
 * `close` records are tracked in the order they closed (a Map keeps
 * insertion order), so finding the oldest is O(1), not a scan.
 */
export class RecordCap<E extends CappedEntry> {
  private readonly closed = new Map<string, true>();
  private readonly throttled: LogThrottle;

  constructor(
    private readonly max: number,
    private readonly entries: ReadonlyMap<string, E>,
    private readonly remove: (clientId: string) => void,
    private readonly hits: LimitHits,
    warn: (line: string) => void,
    logThrottleMs: number,
  ) {
    this.throttled = new LogThrottle(warn, logThrottleMs);
  }

  /** Why a new clientId is refused (its LOGIN error). */
  get fullMessage(): string {
    return `the node holds MAX_CLIENT_RECORDS (${this.max}) client records and none of them is close`;
  }

  /** Every status change of a record. */
  onStatus(clientId: string, status: PresenceStatus): void {
    this.closed.delete(clientId);
    if (status === 'close') this.closed.set(clientId, true);
  }

  /** A record removed (retention ran out, or dropped here). */
  onRemoved(clientId: string): void {
    this.closed.delete(clientId);
  }

  /**
   * Room for `clientId`? True when it is known or there is room (dropping
   * the oldest close record if need be); false, counted and logged
   * (throttled), when only live records remain. With `refusing` false the
   * caller goes ahead anyway (nothing is counted as refused).
   */
  admit(clientId: string, refusing = true): boolean {
    if (this.entries.has(clientId) || this.entries.size < this.max) return true;
    for (const id of this.closed.keys()) {
      const entry = this.entries.get(id);
      if (entry === undefined) {
        this.closed.delete(id);
        continue;
      }
      // A kicked client whose socket is still flushing keeps its record until the close is seen.
      if (entry.connected) continue;
      this.closed.delete(id);
      this.remove(id);
      this.hits.hit('client_records_evicted');
      this.throttled.note('close record dropped early', () => `dropped close record '${id}' before CLOSED_RETENTION_MS: MAX_CLIENT_RECORDS (${this.max}) reached`);
      return true;
    }
    if (!refusing) return false;
    this.hits.hit('client_records_refused');
    this.throttled.note('new clientId refused', () => `refused new clientId '${clientId}': ${this.fullMessage}`);
    return false;
  }

  /** Writes what the log throttle holds back (shutdown). */
  close(): void {
    this.throttled.close();
  }

  get limit(): number {
    return this.max;
  }

  /** Close records tracked (for tests). */
  get closedCount(): number {
    return this.closed.size;
  }
}
