import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { LongLinkServer } from '../transport/long-link.server';

@Controller('health')
export class HealthController {
  constructor(private readonly server: LongLinkServer) {}

  /** Liveness and readiness: 200 while serving, 503 while shutting down. */
  @Get()
  health(@Res({ passthrough: true }) res: Response) {
    const shuttingDown = this.server.isShuttingDown;
    if (shuttingDown) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: shuttingDown ? 'shutting_down' : 'ok',
      connections: this.server.connectionCount,
      clients: this.server.clientCount,
      tcpPort: this.server.address()?.port ?? null,
    };
  }
}
