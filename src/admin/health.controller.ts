import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { GatewayLifecycle } from '../lifecycle/gateway-lifecycle';
import { LongLinkServer } from '../transport/long-link.server';
import { HealthDto, LivenessDto, ReadinessDto } from './dto/health.dto';

/** No token on these: a load balancer or an orchestrator probes them (docs/OPERATIONS.md). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly server: LongLinkServer,
    private readonly lifecycle: GatewayLifecycle,
  ) {}

  /** Readiness with counts, as before: 200 while serving, 503 from SIGTERM (the drain) on. */
  @Get()
  @ApiOperation({ operationId: 'getHealth', summary: 'Readiness, with connection and client counts (no token)' })
  @ApiOkResponse({ type: HealthDto, description: 'Serving' })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'Shutting down' })
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
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: 200 while the process answers, drain included (no token)' })
  @ApiOkResponse({ type: LivenessDto })
  live() {
    return { status: 'ok', phase: this.lifecycle.phase };
  }

  /** Readiness: take traffic or not. 503 from the start of the drain on, so a balancer sees it before the listeners close. */
  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness', summary: 'Readiness: 200 while taking traffic, 503 from the start of the drain (no token)' })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'Draining or shutting down' })
  ready(@Res({ passthrough: true }) res: Response) {
    const ready = this.lifecycle.ready;
    if (!ready) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'draining', phase: this.lifecycle.phase };
  }
}
