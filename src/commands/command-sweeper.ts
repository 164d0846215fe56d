import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock';
import type { CommandStore } from './command.store';
import type { CommandTransitions } from './command-transitions';

/** The expiry/retention sweep runs at least this often; a shorter TTL arms an earlier one-shot. */
export const COMMAND_SWEEP_MS = 1000;

export interface SweepOutcome {
  expired: number;
  removed: number;
}

/**
 * Expires pending commands past `expiresAt` and drops final ones older than
 * COMMAND_RETENTION_MS, every COMMAND_SWEEP_MS (sooner for a shorter TTL).
 */
export class CommandSweeper {
  private readonly logger = new Logger('CommandService');
  private sweepTimer: NodeJS.Timeout | undefined;
  private earlyTimer: NodeJS.Timeout | undefined;
  private earlyAt = Number.POSITIVE_INFINITY;
  /** Sweeps run one after another; the timer skips its turn while one is queued. */
  private sweepChain: Promise<unknown> = Promise.resolve();
  private sweepsQueued = 0;

  constructor(
    private readonly store: CommandStore,
    private readonly clock: Clock,
    private readonly transitions: CommandTransitions,
    private readonly retentionMs: number,
  ) {}

  start(): void {
    this.sweepTimer = setInterval(() => {
      if (this.sweepsQueued === 0) void this.sweep();
    }, COMMAND_SWEEP_MS);
    this.sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
    clearTimeout(this.earlyTimer);
  }

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
        if (await this.transitions.transition(command.id, { status: 'expired', finishedAt: now })) expired++;
      }
      const removed = await this.store.purgeFinished(now - this.retentionMs);
      return { expired, removed };
    } catch (error) {
      this.logger.error(`command sweep failed: ${(error as Error).message}`);
      return { expired, removed: 0 };
    }
  }

  /** A TTL shorter than the sweep period gets a one-shot timer of its own. */
  armExpiry(expiresAt: number): void {
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
}
