import { CanActivate, ExecutionContext, Inject, Injectable, Logger, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { tokensEqual } from '../common/tokens-equal';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';

export class AdminTokenRequiredError extends Error {
  override readonly name = 'AdminTokenRequiredError';
  constructor() {
    super('ADMIN_TOKEN is not set and NODE_ENV is production: refusing to serve the admin API without authentication (set ADMIN_TOKEN; an app embedding LongLinkModule may pass adminApi: false instead)');
  }
}

/** Start-up rule: no admin token is only allowed outside production. */
export function assertAdminAuthConfig(config: LongLinkConfig): void {
  if (!config.adminToken && config.nodeEnv === 'production') throw new AdminTokenRequiredError();
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` on every admin route (not /health).
 * Without ADMIN_TOKEN the API is open, which start-up refuses in production
 * and warns about otherwise.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('AdminAuth');
  private readonly expected: string | undefined;

  constructor(@Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig) {
    this.expected = config.adminToken || undefined;
  }

  onModuleInit(): void {
    assertAdminAuthConfig(this.config);
    if (!this.expected) this.logger.warn('ADMIN_TOKEN is not set: the admin API is open to anyone who can reach it (refused when NODE_ENV=production)');
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    if (!header) throw new UnauthorizedException('missing Authorization header: send Authorization: Bearer <ADMIN_TOKEN>');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization header is not of the form Bearer <ADMIN_TOKEN>');
    if (!tokensEqual(match[1], this.expected)) throw new UnauthorizedException('wrong admin token');
    return true;
  }
}
