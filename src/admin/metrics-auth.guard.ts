import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics: with METRICS_TOKEN set, `Bearer <METRICS_TOKEN>` or
 * `Bearer <ADMIN_TOKEN>` opens it, so a Prometheus scraper holds a token
 * that can list nothing and kick nobody. Without METRICS_TOKEN, the same
 * rule as every admin route (ADMIN_TOKEN, or open when that is unset).
 */
@Injectable()
export class MetricsAuthGuard implements CanActivate {
  /** Compared as digests: equal length, so timingSafeEqual never throws and the length does not leak. */
  private readonly accepted: Buffer[];
  private readonly wrong: string;

  constructor(@Inject(LONGLINK_CONFIG) config: LongLinkConfig) {
    const tokens = config.metricsToken ? [config.metricsToken, config.adminToken] : [config.adminToken];
    this.accepted = tokens.filter((t): t is string => Boolean(t)).map(digest);
    this.wrong = config.metricsToken ? 'wrong metrics token' : 'wrong admin token';
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.accepted.length === 0) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    if (!header) throw new UnauthorizedException('missing Authorization header: send Authorization: Bearer <ADMIN_TOKEN> (or <METRICS_TOKEN>)');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization header is not of the form Bearer <token>');
    const given = digest(match[1]);
    // Every token is compared, so the time does not tell which one matched.
    let ok = false;
    for (const expected of this.accepted) ok = timingSafeEqual(given, expected) || ok;
    if (!ok) throw new UnauthorizedException(this.wrong);
    return true;
  }
}
