import type { Clock } from '../common/clock';
import type { CommandDelivery } from '../common/ports';
import { cmdBody } from '../protocol/cmd-frame';
import type { CommandStore } from './command.store';
import type { CommandTransitions } from './command-transitions';

/**
 * Per-client delivery chains: writes a client's pending commands to its live
 * connection, oldest first, one run at a time per client, so a command
 * created during a flush waits behind the older ones instead of overtaking them.
 */
export class DeliveryChain {
  /** clientId → the tail of its delivery chain: sends to one client never interleave. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: CommandStore,
    private readonly delivery: CommandDelivery,
    private readonly clock: Clock,
    private readonly transitions: CommandTransitions,
  ) {}

  /** Something is in flight for this client: a new command must queue behind it. */
  busy(clientId: string): boolean {
    return this.chains.has(clientId);
  }

  deliver(clientId: string, resendSent: boolean, countFirst = false): Promise<void> {
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
        await this.transitions.transition(command.id, { status: 'expired', finishedAt: now });
        continue;
      }
      // Looked up per command: the socket may close (or be replaced) mid-flush.
      if (!this.delivery.isConnected(clientId)) return;
      const updated = await this.transitions.transition(command.id, { status: 'sent', sentAt: now, attempts: command.attempts + 1 });
      if (!updated) continue; // acked or expired meanwhile
      this.delivery.deliver(clientId, [{ id: updated.id, body: cmdBody(updated.name, updated.data, updated.expiresAt) }]);
    }
  }
}
