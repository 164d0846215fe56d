import type { Logger } from '@nestjs/common';
import type { PresenceStore } from './presence.store';
import type { ClientRecord } from './presence.types';

/**
 * Store writes of presence. Each is issued at once, in the order presence
 * makes them (a store applies one client's calls in the order it gets them:
 * see PresenceStore), and awaited here so a failure is logged and a write
 * the store fences off (an older session's, see ClientRecord.epoch) is
 * seen. Issuing at once, rather than after the previous one resolved, keeps
 * a read right after a transition consistent with it on the memory store.
 */
export class PresenceWrites {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly store: PresenceStore,
    private readonly logger: Logger,
  ) {}

  save(record: ClientRecord): void {
    const { clientId, epoch } = record;
    this.track(
      this.store.save(record).then((written) => {
        if (!written) this.logger.debug(`write of '${clientId}' (epoch ${epoch}) fenced off: the store holds a newer session`);
      }),
      clientId,
    );
  }

  delete(clientId: string): void {
    this.track(this.store.delete(clientId), clientId);
  }

  /** Resolves once every write issued so far has settled. */
  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private track(write: Promise<unknown>, clientId: string): void {
    const settled: Promise<void> = write.then(
      () => {
        this.inFlight.delete(settled);
      },
      (error: Error) => {
        this.inFlight.delete(settled);
        this.logger.error(`presence store write for '${clientId}' failed: ${error.message}`);
      },
    );
    this.inFlight.add(settled);
  }
}
