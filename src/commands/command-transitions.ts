import { Logger } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { Clock } from '../common/clock';
import { CommandPatch, CommandStore } from './command.store';
import { CommandEvent, CommandRecord, CommandStatus, PENDING_STATUSES } from './command.types';

/**
 * The one writer of a command's status: every change goes through the store
 * here and comes out as exactly one event on `events$`, counted for metrics.
 */
export class CommandTransitions {
  private readonly logger = new Logger('CommandService');
  private readonly subject = new Subject<CommandEvent>();
  /** Every status change, exactly once, in order per command. */
  readonly events$: Observable<CommandEvent> = this.subject.asObservable();
  /** Transitions since start, by target status (metrics). */
  readonly counts: Record<CommandStatus, number> = { queued: 0, sent: 0, acked: 0, failed: 0, expired: 0 };

  constructor(
    private readonly store: CommandStore,
    private readonly clock: Clock,
    private readonly nodeId: string,
  ) {}

  /**
   * Applies `patch` while the command is pending (and, with `clientId`, that
   * client's); emits the change. The updated copy, or undefined.
   */
  async transition(id: string, patch: CommandPatch, clientId?: string): Promise<CommandRecord | undefined> {
    const change = await this.store.transition(id, PENDING_STATUSES, patch, clientId);
    if (!change) return undefined;
    if (change.record.status !== change.from) this.emit(change.record, change.from, change.record.status);
    return change.record;
  }

  /** Counted always; logged and published only when someone listens (a broadcast makes 20,000 of these). */
  emit(command: CommandRecord, from: CommandStatus | null, to: CommandStatus, debug = Logger.isLevelEnabled('debug')): void {
    this.counts[to]++;
    if (debug) {
      this.logger.debug(`command '${command.id}' (${command.name}) for '${command.clientId}': ${from ?? 'new'} -> ${to}`);
    }
    if (!this.subject.observed) return;
    this.subject.next({
      id: command.id,
      clientId: command.clientId,
      name: command.name,
      from,
      to,
      at: this.clock.now(),
      ...(command.batchId === undefined ? {} : { batchId: command.batchId }),
      nodeId: this.nodeId,
    });
  }

  complete(): void {
    this.subject.complete();
  }
}
