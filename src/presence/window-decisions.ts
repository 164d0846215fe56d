import { Logger } from '@nestjs/common';
import type { SessionControl } from '../common/ports';
import type { LongLinkConfig } from '../config';
import { LivenessState, nextWindow, WindowFacts } from '../heartbeat/heartbeat-counter';
import type { WindowReport } from '../heartbeat/window-report';
import { CloseReason } from '../transport/close-reason';
import type { PresenceEntry } from './presence-entry';
import type { PresenceLedger } from './presence-ledger';

/**
 * Presence's side of a heartbeat window (the detector reports, presence
 * decides): every record through the liveness counter, a timed-out session
 * kicked, and `close` records past CLOSED_RETENTION_MS dropped.
 */
export class WindowDecisions {
  private readonly logger = new Logger('PresenceService');
  private readonly facts: WindowFacts = { active: false, connected: false, lagged: false, slowReader: false, now: 0 };

  constructor(
    private readonly config: LongLinkConfig,
    private readonly ledger: PresenceLedger,
    private readonly control: SessionControl,
  ) {}

  /** One window closed; the number of records looked at. */
  onWindow(report: WindowReport): number {
    const facts = this.facts;
    let records = 0;
    for (const entry of this.ledger.entries.values()) {
      records++;
      if (entry.status === 'close') {
        this.expireIfClosed(entry, report.now);
        continue;
      }
      // The entry's own session when presence holds it; else the transport's by clientId (as before its login was handled).
      const session = entry.session;
      const windowFacts = session !== undefined && !session.closed ? report.factsOfSession(session, facts) : report.factsOf(entry.clientId, facts);
      const next = nextWindow(entry.liveness, windowFacts, this.config.heartbeat);
      if (next !== entry.liveness) this.applyWindow(entry, next);
    }
    return records;
  }

  private applyWindow(entry: PresenceEntry, next: LivenessState): void {
    if (!next.transition) {
      entry.liveness = next;
      return;
    }
    this.ledger.setStatus(entry, next.transition.to, next.transition.reason, next);
    if (next.status === 'close' && entry.connected) {
      this.control.kick(entry.clientId, CloseReason.TIMEOUT).catch((error: Error) => this.logger.error(`kick of '${entry.clientId}' failed: ${error.message}`));
    }
  }

  /** Drops a `close` record older than CLOSED_RETENTION_MS. */
  private expireIfClosed(entry: PresenceEntry, now: number): void {
    if (entry.connected) return;
    if (now - entry.liveness.statusSince < this.config.presence.closedRetentionMs) return;
    this.ledger.remove(entry.clientId);
  }
}
