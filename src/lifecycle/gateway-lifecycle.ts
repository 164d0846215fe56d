import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AdminEventsService } from '../admin/admin-events.service';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { LongLinkServer } from '../transport/long-link.server';

export type LifecyclePhase = 'serving' | 'draining' | 'stopping';

/** How often, while stopping, sockets that became idle (an SSE stream just ended) are closed. */
const IDLE_SWEEP_MS = 25;

/**
 * Readiness and the shutdown sequence. `drain()` (called by the CLI on
 * SIGTERM, before Nest's close) turns readiness to 503 and waits, with every
 * listener still serving, so that a load balancer takes the node out first.
 * Then Nest's close bounds the rest whatever the peers do: `onModuleDestroy`
 * KICKs every device, then ends the SSE streams (it depends on the SSE
 * service, so Nest destroys it first), `beforeApplicationShutdown` closes the HTTP listener
 * and its idle sockets (again as SSE streams end) and destroys what remains
 * at SHUTDOWN_GRACE_MS. Nest's own HTTP close and the transport's close then
 * find nothing left to wait for.
 */
@Injectable()
export class GatewayLifecycle implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');
  private state: LifecyclePhase = 'serving';
  private drainTimer: NodeJS.Timeout | undefined;
  private endDrain: (() => void) | undefined;
  private draining: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private transportClosed: Promise<void> | undefined;
  /** Every admin HTTP socket, so that none can outlive the grace (closeAllConnections misses upgraded ones). */
  private readonly httpSockets = new Set<Socket>();
  private trackedServer: HttpServer | undefined;

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    private readonly server: LongLinkServer,
    private readonly adapterHost: HttpAdapterHost,
    /** Absent with `adminApi: false`. */
    @Optional() private readonly events?: AdminEventsService,
  ) {}

  get phase(): LifecyclePhase {
    return this.state;
  }

  /** Taking traffic: false from the start of the drain on. */
  get ready(): boolean {
    return this.state === 'serving' && !this.server.isShuttingDown;
  }

  /** Starts tracking the admin listener's sockets; called once it exists (bootstrap does, before listen). */
  trackHttpServer(http: HttpServer): void {
    if (this.trackedServer === http) return;
    this.trackedServer = http;
    http.on('connection', (socket: Socket) => {
      this.httpSockets.add(socket);
      socket.once('close', () => this.httpSockets.delete(socket));
    });
  }

  /**
   * Readiness 503 for `ms` while everything keeps serving; every caller gets
   * the same drain. Resolves early on `skipDrain()` (a second signal: the
   * operator wants out now) or when the shutdown itself begins.
   */
  drain(ms: number = this.config.shutdownDrainMs): Promise<void> {
    this.draining ??= this.startDrain(ms);
    return this.draining;
  }

  skipDrain(): void {
    clearTimeout(this.drainTimer);
    this.endDrain?.();
  }

  private startDrain(ms: number): Promise<void> {
    if (this.state === 'serving') this.state = 'draining';
    if (ms <= 0) return Promise.resolve();
    this.logger.log(`draining: /health/ready answers 503 for ${ms} ms before the listeners close (SHUTDOWN_DRAIN_MS)`);
    return new Promise<void>((resolve) => {
      this.endDrain = resolve;
      this.drainTimer = setTimeout(resolve, ms);
    });
  }

  /** Devices first: the transport writes KICK shutdown to every one of them now, and bounds itself by the grace. */
  onModuleDestroy(): void {
    this.skipDrain();
    this.state = 'stopping';
    this.transportClosed ??= this.server.close();
    this.events?.endStreams();
  }

  beforeApplicationShutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    this.onModuleDestroy(); // when called on its own
    await Promise.all([this.transportClosed, this.closeHttp(this.config.shutdownGraceMs)]);
  }

  /** Stops accepting, closes idle sockets as they become idle, and destroys the rest at the grace. */
  private closeHttp(graceMs: number): Promise<void> {
    const http = this.adapterHost.httpAdapter?.getHttpServer() as HttpServer | undefined;
    if (!http || typeof http.close !== 'function') return Promise.resolve();
    this.trackHttpServer(http);
    if (!http.listening && this.httpSockets.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearInterval(sweep);
        clearTimeout(force);
        resolve();
      };
      // Node's close() neither ends a connection that never sent a request
      // nor one mid-request, and it stops the header/request timeouts: both
      // would hold it open for good (`nc host 3000`). Hence the sweep and the force.
      const sweep = setInterval(() => {
        http.closeIdleConnections();
        if (this.httpSockets.size === 0) finish();
      }, IDLE_SWEEP_MS);
      const force = setTimeout(() => {
        if (this.httpSockets.size > 0) {
          this.logger.warn(`shutdown grace (${graceMs} ms) over: destroying ${this.httpSockets.size} admin HTTP sockets`);
        }
        http.closeAllConnections();
        for (const socket of this.httpSockets) socket.destroy();
        finish();
      }, graceMs);
      if (http.listening) http.close(() => finish());
      http.closeIdleConnections();
    });
  }
}
