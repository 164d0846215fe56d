import { performance } from 'node:perf_hooks';
import { Backoff } from './backoff';
import type { ResolvedClientOptions } from './client-options';
import type { ClientSocket } from './client-socket';

/** What the loop tells its client, and asks of it. */
export interface ReconnectHost {
  /** The delay is over: open the next connection. */
  reconnect(): void;
  /** The next attempt is `attempt`, in `delayMs`, after a connection ended for `reason`. */
  reconnectScheduled(attempt: number, delayMs: number, reason: string): void;
  /** maxAttempts attempts in a row failed; `why` says so for the close reason. */
  reconnectFailed(attempts: number, reason: string, why: string): void;
}

/**
 * The client's attempts to be online: every connection has connectTimeoutMs
 * to get logged in; after one ends the next is scheduled with exponential
 * backoff and full jitter (the backoff starts over after a connection that
 * stayed up stableAfterMs); after reconnect.maxAttempts failures in a row it
 * gives up. Two timers, both cleared by stop().
 */
export class ReconnectLoop {
  private readonly backoff: Backoff;
  private failedAttempts = 0;
  private onlineAt = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ResolvedClientOptions,
    private readonly host: ReconnectHost,
  ) {
    this.backoff = new Backoff(options.reconnect);
  }

  /** Attempts in a row without getting online. */
  get attempts(): number {
    return this.failedAttempts;
  }

  /** A connection is being opened: destroyed unless logged in within connectTimeoutMs. */
  opened(socket: ClientSocket): void {
    const ms = this.options.connectTimeoutMs;
    this.connectTimer = setTimeout(() => socket.destroy(`not logged in within connectTimeoutMs (${ms} ms)`), ms);
  }

  /** Logged in: the deadline is met, and no attempt failed in a row any more. */
  online(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.failedAttempts = 0;
    this.onlineAt = performance.now();
  }

  /** The connection ended and the client is to go on: the next attempt, or giving up. */
  ended(wasOnline: boolean, reason: string): void {
    if (wasOnline && performance.now() - this.onlineAt >= this.options.stableAfterMs) this.backoff.reset();
    const { maxAttempts } = this.options.reconnect;
    if (this.failedAttempts >= maxAttempts) {
      const why = `gave up after ${this.failedAttempts} reconnect attempts (maxAttempts ${maxAttempts}); last: ${reason}`;
      this.host.reconnectFailed(this.failedAttempts, reason, why);
      return;
    }
    this.failedAttempts++;
    const delayMs = this.backoff.duration();
    // Armed before the host hears of it: a listener that closes the client then cancels it (stop()).
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.host.reconnect();
    }, delayMs);
    this.host.reconnectScheduled(this.failedAttempts, delayMs, reason);
  }

  /** No deadline and no attempt pending (the connection ended, or the client closed). Safe to call twice. */
  stop(): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.reconnectTimer);
    this.connectTimer = this.reconnectTimer = undefined;
  }
}
