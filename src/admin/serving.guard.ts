import { CanActivate, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { LongLinkServer } from '../transport/long-link.server';

/** 503 on admin routes once shutdown began: clients are being kicked, commands would go nowhere. */
@Injectable()
export class ServingGuard implements CanActivate {
  constructor(private readonly server: LongLinkServer) {}

  canActivate(): boolean {
    if (this.server.isShuttingDown) throw new ServiceUnavailableException('the gateway is shutting down');
    return true;
  }
}
