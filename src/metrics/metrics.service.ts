import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { CommandService } from '../commands/command.service';
import { COMMAND_STATUSES } from '../commands/command.types';
import { HeartbeatService } from '../heartbeat/heartbeat.service';
import { PresenceService } from '../presence/presence.service';
import { PRESENCE_STATUSES } from '../presence/presence.types';
import { LongLinkServer, TransportStats } from '../transport/long-link.server';
import { registerCommandRtt, registerRuntimeMetrics } from './runtime-metrics';
import { LIMIT_NAMES, LimitHits } from '../admission/limit-hits';

/**
 * Prometheus metrics of one gateway, in a registry of its own (several
 * gateways in one process must not share prom-client's global one). Every
 * figure is read from the parts' plain counters when scraped, so the hot
 * path pays nothing for them.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private stopRuntime: (() => void) | undefined;
  private rtt: Subscription | undefined;

  constructor(
    private readonly server: LongLinkServer,
    private readonly presence: PresenceService,
    private readonly commands: CommandService,
    private readonly heartbeat: HeartbeatService,
    private readonly limitHits: LimitHits,
  ) {
    this.transportMetrics();
    this.presenceMetrics();
    this.commandMetrics();
    this.heartbeatMetrics();
    this.processMetrics();
    this.limitMetrics();
  }

  onModuleInit(): void {
    this.stopRuntime = registerRuntimeMetrics(this.registry);
    this.rtt = registerCommandRtt(this.registry, this.commands.events$);
  }

  onModuleDestroy(): void {
    this.stopRuntime?.();
    this.rtt?.unsubscribe();
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** For other parts (e.g. the admin API's SSE listeners): a gauge read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A counter whose value lives elsewhere (a plain field), copied in at scrape time. */
  private counter(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  private transportMetrics(): void {
    const stats: TransportStats = this.server.stats;
    this.gauge('longlink_connections', 'Open long-link sockets (logged in or not)', () => this.server.connectionCount);
    this.gauge('longlink_logged_in_connections', 'Open sockets of logged-in clients', () => this.server.clientCount);
    this.counter('longlink_connections_accepted_total', 'Sockets accepted', () => stats.accepted);
    this.counter('longlink_connections_rejected_total', 'Sockets refused at MAX_CONNECTIONS', () => stats.rejectedFull);
    this.counter('longlink_frames_in_total', 'Frames received', () => stats.framesIn);
    this.counter('longlink_frames_out_total', 'Frames sent', () => stats.framesOut);
    this.counter('longlink_bad_frames_total', 'Frames refused (BAD_JSON, BAD_MESSAGE, FRAME_TOO_LARGE, …)', () => stats.badFrames);
    this.counter('longlink_one_way_frames_withheld_total', 'ERROR and KICK frames not written to one-way connections (they never read)', () => stats.framesWithheld);
    this.counter('longlink_heartbeats_total', 'Heartbeats received (HEART and zero-length frames)', () => stats.heartbeats);
    this.counter('longlink_logins_total', 'Successful logins', () => stats.logins);
    this.counter('longlink_login_failures_total', 'Refused logins', () => stats.loginFailures);
    this.counter('longlink_messages_total', 'Uplink MSG frames', () => stats.messages);
  }

  private presenceMetrics(): void {
    const presence = this.presence;
    new Gauge({
      name: 'longlink_clients',
      help: 'Known clients by presence status',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const stats = await presence.stats();
        for (const status of PRESENCE_STATUSES) this.set({ status }, stats.byStatus[status]);
      },
    });
    new Counter({
      name: 'longlink_presence_transitions_total',
      help: 'Presence transitions by target status',
      labelNames: ['to'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const to of PRESENCE_STATUSES) this.inc({ to }, presence.transitionCounts[to]);
      },
    });
  }

  private commandMetrics(): void {
    const commands = this.commands;
    new Counter({
      name: 'longlink_commands_total',
      help: 'Command status changes by new status (queued and sent on the way, acked, failed and expired the outcomes)',
      labelNames: ['status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const status of COMMAND_STATUSES) this.inc({ status }, commands.transitionCounts[status]);
      },
    });
    this.counter('longlink_stray_acks_total', 'ACKs for an unknown command or one of another client (ignored)', () => commands.strayAcks);
  }

  private heartbeatMetrics(): void {
    const hb = this.heartbeat;
    this.counter('longlink_heartbeat_sweeps_total', 'Liveness sweeps run (one per HEARTBEAT_MS window)', () => hb.sweeps);
    this.counter('longlink_heartbeat_lagged_windows_total', 'Windows counted neither way because the sweep ran late', () => hb.laggedWindows);
    this.counter('longlink_heartbeat_probes_total', 'Server-side HEART probes sent', () => hb.probesSent);
    this.gauge('longlink_heartbeat_sweep_duration_seconds', 'Duration of the last liveness sweep', () => hb.lastSweepMs / 1000);
    this.gauge('longlink_heartbeat_sweep_lag_seconds', 'How late the last liveness sweep ran', () => hb.lastLagMs / 1000);
  }

  private limitMetrics(): void {
    const counts = this.limitHits.counts;
    new Counter({
      name: 'longlink_limit_hits_total',
      help: 'Times a bound was hit, by bound (docs/HARDENING.md)',
      labelNames: ['limit'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const limit of LIMIT_NAMES) this.inc({ limit }, counts[limit]);
      },
    });
  }

  /** Default process_* / nodejs_* metrics and the event-loop lag histogram are added at init (runtime-metrics.ts). */
  private processMetrics(): void {
    this.gauge('longlink_heap_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed);
  }
}
