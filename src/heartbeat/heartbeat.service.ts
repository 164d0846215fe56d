import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CLOCK, Clock } from '../common/clock';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { LongLinkServer } from '../transport/long-link.server';
import type { SessionView } from '../transport/session-view';
import type { WindowFacts } from './heartbeat-counter';
import type { WindowListener, WindowReport } from './window-report';

export const SWEEP_INTERVAL_NAME = 'longlink:heartbeat-sweep';
export const PROBE_INTERVAL_NAME = 'longlink:server-probe';
export const STALL_INTERVAL_NAME = 'longlink:stall-ticker';

export interface SweepResult {
  /** Records looked at (by the window listeners: presence counts its own). */
  records: number;
  /** The window counted neither way because the sweep ran late. */
  lagged: boolean;
  /** How late the sweep ran, by the injected clock (ms). */
  lagMs: number;
  /** The longest event-loop stall seen during the window (ms). */
  stallMs: number;
  /** Wall time of the pass (ms). */
  durationMs: number;
}

/**
 * Liveness detection (docs/PROTOCOL.md §3). One sweep per HEARTBEAT_MS
 * window (no timer per client) closes the window and reports it: for each
 * client, whether it sent anything (its session's `lastReadAt`) and whether
 * it is a slow reader (`lastBackpressureAt`, unsent bytes). It reads those
 * facts and never writes them; presence, which listens, decides. It also
 * sends the server-side HEART probes, so both ends heartbeat.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HeartbeatService');
  private readonly listeners: WindowListener[] = [];
  private lastSweepAt: number | undefined;
  /** Longest event-loop stall since the last sweep (ms), seen by a ticker every `stallTickMs`. */
  private maxStallMs = 0;
  private lastTickAt = 0;
  private stallTickMs = 0;
  /** Sweeps run, windows skipped for lag, probes sent, last pass duration (metrics). */
  sweeps = 0;
  laggedWindows = 0;
  probesSent = 0;
  lastSweepMs = 0;
  lastLagMs = 0;
  lastStallMs = 0;

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly server: LongLinkServer,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.lastSweepAt = clock.now();
  }

  /** Called with every window report, in the order of registration. */
  onWindow(listener: WindowListener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    const { heartbeatMs, serverPingMs } = this.config.heartbeat;
    this.lastSweepAt = this.clock.now();
    // perf_hooks' monitorEventLoopDelay would do, but it skips the first
    // sample after reset(), which is exactly a stall that starts right after
    // a sweep. A ticker of our own, ten per window (at most one per second),
    // costs nothing and sees it.
    this.stallTickMs = Math.max(1, Math.min(1000, Math.floor(heartbeatMs / 10)));
    this.lastTickAt = performance.now();
    this.scheduler.addInterval(STALL_INTERVAL_NAME, setInterval(() => this.tick(), this.stallTickMs));
    this.scheduler.addInterval(SWEEP_INTERVAL_NAME, setInterval(() => this.sweep(), heartbeatMs));
    // Checked twice per ping period, so a probe goes out between 1 and 1.5 periods of silence.
    this.scheduler.addInterval(PROBE_INTERVAL_NAME, setInterval(() => this.probe(), Math.max(1, Math.floor(serverPingMs / 2))));
  }

  onModuleDestroy(): void {
    for (const name of [SWEEP_INTERVAL_NAME, PROBE_INTERVAL_NAME, STALL_INTERVAL_NAME]) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
  }

  /** Close the current window and report it. Public so tests can drive windows with a fake clock. */
  sweep(): SweepResult {
    const started = performance.now();
    const now = this.clock.now();
    const windowMs = this.config.heartbeat.heartbeatMs;
    const since = this.lastSweepAt ?? now;
    const lagMs = Math.max(0, now - since - windowMs);
    this.lastSweepAt = now;
    // The loop may have stalled without delaying this sweep much (a stall that
    // began right after the previous sweep delays this one by less than its length).
    this.tick(); // a stall that ends with this very sweep
    const stallMs = this.maxStallMs;
    this.maxStallMs = 0;
    // A late sweep or a stalled loop means the server itself was not reading
    // (GC, blocked loop, suspended process): frames may be waiting unread, so
    // the window proves nothing.
    const lagged = lagMs > windowMs / 2 || stallMs > windowMs / 2;
    const server = this.server;
    const report: WindowReport = {
      now,
      since,
      lagged,
      factsOf(clientId: string, into: WindowFacts): WindowFacts {
        return this.factsOfSession(server.session(clientId), into);
      },
      factsOfSession(session: SessionView | undefined, into: WindowFacts): WindowFacts {
        into.now = now;
        into.lagged = lagged;
        if (session === undefined) {
          into.connected = false;
          into.active = false;
          into.slowReader = false;
          return into;
        }
        // `>=`: a read in the very millisecond the last window closed is this window's.
        into.connected = true;
        into.active = session.lastReadAt >= since;
        into.slowReader = session.lastBackpressureAt >= since || session.outboundBytes > 0;
        return into;
      },
    };
    let records = 0;
    for (const listener of this.listeners) records += listener(report);
    this.sweeps++;
    if (lagged) {
      this.laggedWindows++;
      this.logger.warn(
        `sweep ran ${lagMs} ms late, event loop stalled up to ${Math.round(stallMs)} ms (window ${windowMs} ms): this window counts neither way`,
      );
    }
    this.lastLagMs = lagMs;
    this.lastStallMs = stallMs;
    this.lastSweepMs = performance.now() - started;
    return { records, lagged, lagMs, stallMs, durationMs: this.lastSweepMs };
  }

  private tick(): void {
    const now = performance.now();
    const stall = now - this.lastTickAt - this.stallTickMs;
    if (stall > this.maxStallMs) this.maxStallMs = stall;
    this.lastTickAt = now;
  }

  /** HEART to every logged-in client the server has sent nothing to for SERVER_PING_MS. */
  probe(): number {
    const now = this.clock.now();
    const pingMs = this.config.heartbeat.serverPingMs;
    let sent = 0;
    for (const conn of this.server.liveConnections()) {
      // A one-way client never reads: a probe would only fill its buffers (TCP keepalive stays on).
      if (!conn.oneWay && now - conn.lastWriteAt >= pingMs) {
        conn.send('HEART', { serverTime: now });
        sent++;
      }
    }
    this.probesSent += sent;
    return sent;
  }
}
