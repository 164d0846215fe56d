import { Subscription } from 'rxjs';
import { PresenceService } from '../../src/presence/presence.service';
import type { PresenceEvent } from '../../src/presence/presence.types';

/** Records every presence event and lets a test await the next one that matches. */
export class EventLog {
  readonly events: PresenceEvent[] = [];
  private waiters: Array<{ match: (e: PresenceEvent) => boolean; resolve: (e: PresenceEvent) => void }> = [];
  private readonly subscription: Subscription;

  constructor(presence: PresenceService) {
    this.subscription = presence.events$.subscribe((e) => {
      this.events.push(e);
      const i = this.waiters.findIndex((w) => w.match(e));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(e);
    });
  }

  /** `dev-1: alive -> leave (3 strikes)` lines, for readable assertions. */
  lines(clientId?: string): string[] {
    return this.events.filter((e) => clientId === undefined || e.clientId === clientId).map((e) => `${e.clientId}: ${e.from ?? 'new'} -> ${e.to} (${e.reason})`);
  }

  /** The first event (already seen or to come) for clientId with status `to` (and from `from`, when given). */
  waitFor(clientId: string, to: string, timeoutMs = 5000, from?: string | null): Promise<PresenceEvent> {
    const match = (e: PresenceEvent) => e.clientId === clientId && e.to === to && (from === undefined || e.from === from);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${clientId} -> ${to} within ${timeoutMs} ms; events: ${JSON.stringify(this.lines())}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}
