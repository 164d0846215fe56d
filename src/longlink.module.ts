import { DynamicModule, Global, Module, Provider, Type } from '@nestjs/common';
import { CLOCK, Clock, systemClock } from './common/clock';
import { LONGLINK_CONFIG, LongLinkConfig, parseConfig } from './config';
import { CLIENT_AUTHENTICATOR, ClientAuthenticator, ConfigClientAuthenticator } from './transport/client-authenticator';
import { LongLinkServer } from './transport/long-link.server';
import { HealthController } from './admin/health.controller';
import { ScheduleModule } from '@nestjs/schedule';
import { HeartbeatService } from './heartbeat/heartbeat.service';
import { MemoryPresenceStore } from './presence/memory-presence.store';
import { PRESENCE_STORE } from './presence/presence.store';
import { PresenceService } from './presence/presence.service';

export interface LongLinkModuleOptions {
  /** Validated configuration; default: parsed from process.env. */
  config?: LongLinkConfig;
  /** Replace the LOGIN check (database, JWT, …). Default: AUTH_MODE / AUTH_TOKENS / AUTH_TOKEN. */
  authenticator?: Type<ClientAuthenticator>;
  /** Time source; tests pass a FakeClock. */
  clock?: Clock;
  /** Mount the HTTP admin API. @default true */
  adminApi?: boolean;
}

/**
 * Everything the gateway is, as one module: the transport strategy
 * (`LongLinkServer`, to pass to `connectMicroservice`) and, when `adminApi`
 * is on, the HTTP admin API. `src/main.ts` is its standalone use.
 */
@Global()
@Module({})
export class LongLinkModule {
  static forRoot(options: LongLinkModuleOptions = {}): DynamicModule {
    const config = options.config ?? parseConfig(process.env);
    const providers: Provider[] = [
      { provide: LONGLINK_CONFIG, useValue: config },
      { provide: CLOCK, useValue: options.clock ?? systemClock },
      { provide: CLIENT_AUTHENTICATOR, useClass: options.authenticator ?? ConfigClientAuthenticator },
      LongLinkServer,
      { provide: PRESENCE_STORE, useClass: MemoryPresenceStore },
      PresenceService,
      HeartbeatService,
    ];
    return {
      module: LongLinkModule,
      imports: [ScheduleModule.forRoot()],
      providers,
      controllers: options.adminApi === false ? [] : [HealthController],
      exports: [LONGLINK_CONFIG, CLOCK, CLIENT_AUTHENTICATOR, LongLinkServer, PRESENCE_STORE, PresenceService, HeartbeatService],
    };
  }
}
