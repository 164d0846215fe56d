import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayLifecycle } from '../lifecycle/gateway-lifecycle';
import { LongLinkServer } from '../transport/long-link.server';

/** No token on these: a load balancer or an orchestrator probes them (docs/OPERATIONS.md). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly server: LongLinkServer,
    private readonly lifecycle: GatewayLifecycle,
  ) {}

  /** Readiness with counts, as before: 200 while serving, 503 from SIGTERM (the drain) on. */
  @Get()
  health(@Res({ passthrough: true }) res: Response) {
    const ready = this.lifecycle.ready;
    if (!ready) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ready ? 'ok' : 'shutting_down',
      connections: this.server.connectionCount,
      clients: this.server.clientCount,
      tcpPort: this.server.address()?.port ?? null,
    };
  }

  /** Liveness: the process answers. 200 until it exits, drain included (restarting a draining node helps nobody). */
  @Get('live')
  live() {
    return { status: 'ok', phase: this.lifecycle.phase };
  }

  /** Readiness: take traffic or not. 503 from the start of the drain on, so a balancer sees it before the listeners close. */
  @Get('ready')
  ready(@Res({ passthrough: true }) res: Response) {
    const ready = this.lifecycle.ready;
    if (!ready) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'draining', phase: this.lifecycle.phase };
  }
}
