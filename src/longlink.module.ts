import { DynamicModule, Global, InjectionToken, Module, ModuleMetadata, OptionalFactoryDependency, Provider, Type } from '@nestjs/common';
import { CLOCK, Clock, systemClock } from './common/clock';
import { LONGLINK_CONFIG, LongLinkConfig, parseConfig } from './config';
import { CLIENT_AUTHENTICATOR, ClientAuthenticator, ConfigClientAuthenticator } from './transport/client-authenticator';
import { LongLinkServer } from './transport/long-link.server';
import { HealthController } from './admin/health.controller';
import { ScheduleModule } from '@nestjs/schedule';
import { HeartbeatModule } from './heartbeat/heartbeat.module';
import { PresenceModule } from './presence/presence.module';
import { COMMAND_STORE } from './commands/command.store';
import { CommandService } from './commands/command.service';
import { MemoryCommandStore } from './commands/memory-command.store';
import { MetricsService } from './metrics/metrics.service';
import { GatewayLifecycle } from './lifecycle/gateway-lifecycle';
import { LimitHits } from './admission/limit-hits';
import { ADMIN_API_DEFAULTS, ADMIN_API_OPTIONS, AdminApiOptions } from './admin/admin.options';
import { assertAdminAuthConfig } from './admin/admin-auth';
import { AdminEventsService } from './admin/admin-events.service';
import { ClientsController } from './admin/clients.controller';
import { CommandsController } from './admin/commands.controller';
import { EventsController } from './admin/events.controller';
import { MetricsController } from './admin/metrics.controller';
import { DashboardController } from './admin/dashboard.controller';

export interface LongLinkModuleOptions {
  /** Validated configuration; default: parsed from process.env. */
  config?: LongLinkConfig;
  /** Replace the LOGIN check (database, JWT, …). Default: AUTH_MODE / AUTH_TOKENS / AUTH_TOKEN. */
  authenticator?: Type<ClientAuthenticator>;
  /** Time source; tests pass a FakeClock. */
  clock?: Clock;
  /** Mount the HTTP admin API. @default true */
  adminApi?: boolean;
  /** Tuning of the admin API (SSE keep-alive). */
  admin?: Partial<AdminApiOptions>;
}

/** What `forRootAsync`'s factory returns: the options that may need other providers to compute. */
export type LongLinkRuntimeOptions = Pick<LongLinkModuleOptions, 'config' | 'clock'>;

export interface LongLinkModuleAsyncOptions extends Pick<LongLinkModuleOptions, 'authenticator' | 'adminApi' | 'admin'> {
  /** Modules whose providers the factory injects (e.g. ConfigModule). */
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: any[]) => LongLinkRuntimeOptions | Promise<LongLinkRuntimeOptions>;
}

const LONGLINK_RUNTIME_OPTIONS = Symbol('LONGLINK_RUNTIME_OPTIONS');

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
    // Fails here, before anything listens, when production has no ADMIN_TOKEN.
    if (options.adminApi !== false) assertAdminAuthConfig(config);
    return LongLinkModule.assemble(options, [
      { provide: LONGLINK_CONFIG, useValue: config },
      { provide: CLOCK, useValue: options.clock ?? systemClock },
    ]);
  }

  /**
   * Like forRoot, with the configuration and clock from a factory that may
   * inject other providers. `authenticator` and `adminApi` stay static: they
   * decide which classes exist.
   */
  static forRootAsync(options: LongLinkModuleAsyncOptions): DynamicModule {
    const module = LongLinkModule.assemble(options, [
      { provide: LONGLINK_RUNTIME_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
      {
        provide: LONGLINK_CONFIG,
        inject: [LONGLINK_RUNTIME_OPTIONS],
        useFactory: (runtime: LongLinkRuntimeOptions) => {
          const config = runtime.config ?? parseConfig(process.env);
          if (options.adminApi !== false) assertAdminAuthConfig(config);
          return config;
        },
      },
      { provide: CLOCK, inject: [LONGLINK_RUNTIME_OPTIONS], useFactory: (runtime: LongLinkRuntimeOptions) => runtime.clock ?? systemClock },
    ]);
    return { ...module, imports: [...(options.imports ?? []), ...(module.imports ?? [])] };
  }

  private static assemble(
    options: Pick<LongLinkModuleOptions, 'authenticator' | 'adminApi' | 'admin'>,
    optionProviders: Provider[],
  ): DynamicModule {
    const adminApi = options.adminApi !== false;
    const providers: Provider[] = [
      ...optionProviders,
      { provide: CLIENT_AUTHENTICATOR, useClass: options.authenticator ?? ConfigClientAuthenticator },
      LongLinkServer,
      { provide: COMMAND_STORE, useClass: MemoryCommandStore },
      CommandService,
      MetricsService,
      LimitHits,
      GatewayLifecycle,
      ...(adminApi ? [{ provide: ADMIN_API_OPTIONS, useValue: { ...ADMIN_API_DEFAULTS, ...options.admin } }, AdminEventsService] : []),
    ];
    return {
      module: LongLinkModule,
      imports: [ScheduleModule.forRoot(), PresenceModule, HeartbeatModule],
      providers,
      controllers: adminApi ? [HealthController, ClientsController, CommandsController, EventsController, MetricsController, DashboardController] : [],
      exports: [LONGLINK_CONFIG, CLOCK, CLIENT_AUTHENTICATOR, LongLinkServer, PresenceModule, HeartbeatModule, COMMAND_STORE, CommandService, MetricsService, LimitHits, GatewayLifecycle],
    };
  }
}
