import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { LongLinkServer } from '../transport/long-link.server';
import { HealthDto } from './dto/health.dto';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly server: LongLinkServer) {}

  /** Liveness and readiness: 200 while serving, 503 while shutting down. */
  @Get()
  @ApiOperation({ operationId: 'getHealth', summary: 'Readiness, with connection and client counts (no token)' })
  @ApiOkResponse({ type: HealthDto, description: 'Serving' })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'Shutting down' })
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
