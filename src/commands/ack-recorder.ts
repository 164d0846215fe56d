import { Logger } from '@nestjs/common';
import { LogThrottle } from '../admission/log-throttle';
import type { Clock } from '../common/clock';
import type { AckEvent } from '../transport/transport.events';
import type { CommandPatch, CommandStore } from './command.store';
import type { CommandTransitions } from './command-transitions';

/** Records a client's ACKs as `acked`/`failed`; counts and logs (throttled) the ones that name no command of that client. */
export class AckRecorder {
  private readonly logger = new Logger('CommandService');
  /** ACKs that named a command this client does not have (metrics). */
  strayAcks = 0;
  /** A client can send ACKs for ids it makes up as fast as it likes: one line per LOG_THROTTLE_MS, with a count. */
  private readonly strayLog: LogThrottle;

  constructor(
    private readonly store: CommandStore,
    private readonly clock: Clock,
    private readonly transitions: CommandTransitions,
    logThrottleMs: number,
  ) {
    this.strayLog = new LogThrottle((line) => this.logger.warn(line), logThrottleMs);
  }

  /** The transport's 'ack' listener: failures are logged, never thrown into the socket. */
  readonly onAck = (event: AckEvent) => {
    this.record(event).catch((error: Error) => this.logger.error(`ACK '${event.ack.id}' not recorded: ${error.message}`));
  };

  /** One store round trip when the ACK is good; the reason is looked up only when it is not. */
  private async record({ clientId: owner, ack }: AckEvent): Promise<void> {
    const now = this.clock.now();
    const patch: CommandPatch = ack.ok
      ? { status: 'acked', ackedAt: now, finishedAt: now, ...(ack.result === undefined ? {} : { result: ack.result }) }
      : { status: 'failed', ackedAt: now, finishedAt: now, ...(ack.error === undefined ? {} : { error: ack.error }) };
    if (await this.transitions.transition(ack.id, patch, owner)) return;
    const command = await this.store.get(ack.id);
    if (!command || command.clientId !== owner) {
      this.strayAcks++;
      this.strayLog.note('stray ACK', () => `ignored ACK from '${owner}' for command '${ack.id}': ${command ? `it belongs to '${command.clientId}'` : 'unknown id'}`);
      return;
    }
    this.logger.debug(`ACK for command '${ack.id}' of '${command.clientId}' ignored: already ${command.status}`);
  }

  close(): void {
    this.strayLog.close();
  }
}
