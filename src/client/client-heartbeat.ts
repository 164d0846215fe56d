import { performance } from 'node:perf_hooks';
import { LongLinkClientError } from './client-errors';
import { CLIENT_DEFAULTS, ResolvedClientOptions } from './client-options';
import type { ClientSocket } from './client-socket';

const HEART = { type: 'HEART' } as const;

/**
 * The client's heartbeat and dead-server detection: a HEART every
 * heartbeatMs while online, and the server taken for dead when nothing at
 * all arrives within heartbeatTimeoutMs of one (half-open connections).
 */
export class ClientHeartbeat {
  private heartTimer: NodeJS.Timeout | undefined;
  private deadTimer: NodeJS.Timeout | undefined;
  private timeoutMs: number;
  /** When the oldest HEART that nothing has answered yet was sent (performance.now()); undefined when the server spoke since. */
  private unansweredSince: number | undefined;

  constructor(
    private readonly options: ResolvedClientOptions,
    /** The socket to write on now (online), or undefined. */
    private readonly live: () => ClientSocket | undefined,
    /** The current socket, online or not. */
    private readonly current: () => ClientSocket | undefined,
    private readonly onError: (error: LongLinkClientError) => void,
  ) {
    this.timeoutMs = this.timeoutFor(options.heartbeatMs);
  }

  /** Online at the interval the gateway named. */
  start(heartbeatMs: number): void {
    this.timeoutMs = this.timeoutFor(heartbeatMs);
    this.heartTimer = setInterval(() => this.sendHeart(), heartbeatMs);
  }

  /** Any bytes from the server count as life. */
  heard(): void {
    this.unansweredSince = undefined;
  }

  stop(): void {
    clearInterval(this.heartTimer);
    clearTimeout(this.deadTimer);
    this.heartTimer = this.deadTimer = undefined;
    this.unansweredSince = undefined;
  }

  private timeoutFor(heartbeatMs: number): number {
    return this.options.heartbeatTimeoutMs ?? Math.round(heartbeatMs * CLIENT_DEFAULTS.heartbeatTimeoutFactor);
  }

  private sendHeart(): void {
    const socket = this.live();
    if (socket === undefined) return;
    socket.send(this.heartMessage());
    this.unansweredSince ??= performance.now();
    if (this.deadTimer === undefined) this.armDeadTimer(this.timeoutMs);
  }

  private heartMessage(): object {
    const build = this.options.heartbeatFields;
    if (build === undefined) return HEART;
    try {
      return { ...build(), type: 'HEART' };
    } catch (error) {
      // A broken reporter must not cost the connection its heartbeat.
      this.onError(new LongLinkClientError('HEARTBEAT_FIELDS', `heartbeatFields() threw: ${(error as Error).message}`));
      return HEART;
    }
  }

  private armDeadTimer(ms: number): void {
    this.deadTimer = setTimeout(() => this.checkDead(), ms);
  }

  /**
   * One timer, re-armed with the time left (not rescheduled per frame): any
   * bytes from the server clear `unansweredSince`, and the next HEART arms
   * the timer again.
   */
  private checkDead(): void {
    this.deadTimer = undefined;
    const since = this.unansweredSince;
    const socket = this.current();
    if (since === undefined || socket === undefined) return;
    const silentMs = Math.round(performance.now() - since);
    if (silentMs < this.timeoutMs) {
      this.armDeadTimer(this.timeoutMs - silentMs);
      return;
    }
    socket.destroy(`no frame from the server within heartbeatTimeoutMs (${this.timeoutMs} ms) after a HEART (silent for ${silentMs} ms)`);
  }
}
