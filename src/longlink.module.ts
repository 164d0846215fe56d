import { DynamicModule, Global, InjectionToken, Module, ModuleMetadata, OptionalFactoryDependency, Provider, Type } from '@nestjs/common';
import { CLOCK, Clock, systemClock } from './common/clock';
import { LONGLINK_CONFIG, LongLinkConfig, LongLinkSettings, resolveConfig } from './config';
import { CLIENT_AUTHENTICATOR, ClientAuthenticator, ConfigClientAuthenticator } from './transport/client-authenticator';
import { LongLinkServer } from './transport/long-link.server';
import { autoCodec, LONGLINK_CODEC, type Codec } from './transport/codec';
import { HealthController } from './admin/health.controller';
import { ScheduleModule } from '@nestjs/schedule';
import { HeartbeatModule } from './heartbeat/heartbeat.module';
import { PresenceModule } from './presence/presence.module';
import { COMMAND_STORE, CommandStore } from './commands/command.store';
import { CommandService } from './commands/command.service';
import { COMMAND_DELIVERY, CommandDelivery, SESSION_CONTROL, SessionControl } from './common/ports';
import { CLUSTER_RUNTIME, clusterProviders, eventFeedFor, sessionControlFor } from './cluster/cluster-mode';
import { EVENT_FEED } from './admin/event-feed';
import { PRESENCE_STORE, PresenceStore } from './presence/presence.store';
import { asProvider, assertStoreAvailable, StoreProvider, storeProviders } from './stores';
import { LocalCommandDelivery, LocalSessionControl } from './transport/local-ports';
import { TRANSPORT_SESSIONS } from './transport/session-view';
import { MetricsService } from './metrics/metrics.service';
import { GatewayLifecycle } from './lifecycle/gateway-lifecycle';
import { LimitHits } from './admission/limit-hits';
import { AdmissionControl } from './admission/admission-control';
import { ADMIN_API_DEFAULTS, ADMIN_API_OPTIONS, AdminApiOptions } from './admin/admin.options';
import { assertAdminAuthConfig } from './admin/admin-auth';
import { AdminEventsService } from './admin/admin-events.service';
import { ClientsController } from './admin/clients.controller';
import { CommandsController } from './admin/commands.controller';
import { EventsController } from './admin/events.controller';
import { MetricsController } from './admin/metrics.controller';
import { DashboardController } from './admin/dashboard.controller';

export interface LongLinkModuleOptions {
  /**
   * Settings by the environment's keys (`{ TCP_PORT: 7100, ADMIN_TOKEN }`),
   * over `process.env`: a key left out is read from the environment as the
   * CLI reads it. Validated like the environment (a bad or unknown key
   * throws ConfigValidationError naming it). Each key's default is in
   * `.env.example` and on the `LongLinkConfig` field that names it.
   * @default {} (everything from process.env)
   */
  settings?: LongLinkSettings;
  /**
   * The whole configuration, already validated (`parseConfig(env)`,
   * `configFrom({...})`); instead of `settings`, not with it.
   * @default resolved from `settings` and process.env
   */
  config?: LongLinkConfig;
  /**
   * Replace the LOGIN check (database, JWT, …): a class implementing ClientAuthenticator.
   * @default ConfigClientAuthenticator (AUTH_MODE / AUTH_TOKENS / AUTH_TOKEN)
   */
  authenticator?: Type<ClientAuthenticator>;
  /** Time source; tests pass a FakeClock. @default systemClock */
  clock?: Clock;
  /**
   * Mount the HTTP admin API (health, clients, commands, events, metrics,
   * dashboard); `false` leaves every admin route out. Mount it under a
   * prefix with `RouterModule.register([{ path, module: LongLinkModule }])`.
   * @default true
   */
  adminApi?: boolean;
  /** Tuning of the admin API. @default ADMIN_API_DEFAULTS ({ sseHeartbeatMs: 15000 }) */
  admin?: Partial<AdminApiOptions>;
  /**
   * Where client records live, instead of the built-in store named by
   * `STORE`: a class implementing PresenceStore (constructed by Nest, so it
   * may inject LONGLINK_CONFIG, CLOCK, …) or a provider without `provide`
   * (`{ useFactory, inject }`, `{ useValue }`). It must pass
   * `presenceStoreContract` (test/contract/presence-store.contract.ts).
   * @default the store STORE names (memory)
   */
  presenceStore?: StoreProvider<PresenceStore>;
  /**
   * Where commands live, as `presenceStore`; must pass `commandStoreContract`.
   * @default the store STORE names (memory)
   */
  commandStore?: StoreProvider<CommandStore>;
  /**
   * How presence ends a session (kick). The transport's LocalSessionControl
   * is always provided (inject it to wrap it, e.g. a cluster bus that routes
   * kicks to the node holding the client).
   * @default LocalSessionControl
   */
  sessionControl?: StoreProvider<SessionControl>;
  /**
   * How commands reach a client's session; LocalCommandDelivery is always
   * provided, for a routing implementation to wrap.
   * @default LocalCommandDelivery
   */
  commandDelivery?: StoreProvider<CommandDelivery>;
  /**
   * The wire format of the TCP listener (docs/PROTOCOL.md §1.1): an object
   * implementing `Codec` (see examples/codecs/one-byte-heartbeat.codec.ts).
   * The built-ins (`autoCodec`, `lengthCodec`, `lineCodec`) keep the fast path.
   * @default autoCodec (length-prefixed or line JSON, detected from the first byte)
   */
  codec?: Codec;
}

/** The options that decide which classes exist (static in forRootAsync too). */
type StaticOptions = Pick<LongLinkModuleOptions, 'authenticator' | 'adminApi' | 'admin' | 'presenceStore' | 'commandStore' | 'sessionControl' | 'commandDelivery' | 'codec'>;

/** What `forRootAsync`'s factory returns: the options that may need other providers to compute. */
export type LongLinkRuntimeOptions = Pick<LongLinkModuleOptions, 'settings' | 'config' | 'clock'>;

export interface LongLinkModuleAsyncOptions extends StaticOptions {
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
    const config = configOf(options);
    // Fails here, before anything listens, naming the key.
    assertStartable(config, options);
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
          const config = configOf(runtime);
          assertStartable(config, options);
          return config;
        },
      },
      { provide: CLOCK, inject: [LONGLINK_RUNTIME_OPTIONS], useFactory: (runtime: LongLinkRuntimeOptions) => runtime.clock ?? systemClock },
    ]);
    return { ...module, imports: [...(options.imports ?? []), ...(module.imports ?? [])] };
  }

  private static assemble(options: StaticOptions, optionProviders: Provider[]): DynamicModule {
    const adminApi = options.adminApi !== false;
    const providers: Provider[] = [
      ...optionProviders,
      { provide: CLIENT_AUTHENTICATOR, useClass: options.authenticator ?? ConfigClientAuthenticator },
      { provide: LONGLINK_CODEC, useValue: options.codec ?? autoCodec },
      LongLinkServer,
      { provide: TRANSPORT_SESSIONS, useExisting: LongLinkServer },
      LocalSessionControl,
      LocalCommandDelivery,
      // With REDIS_URL: routed to the node holding the session (a no-op wrapper otherwise).
      asProvider(SESSION_CONTROL, options.sessionControl ?? { inject: [LocalSessionControl, CLUSTER_RUNTIME], useFactory: sessionControlFor }),
      asProvider(COMMAND_DELIVERY, options.commandDelivery ?? { useExisting: LocalCommandDelivery }),
      ...clusterProviders(),
      ...storeProviders(options),
      CommandService,
      MetricsService,
      LimitHits,
      AdmissionControl,
      GatewayLifecycle,
      ...(adminApi
        ? [
            { provide: ADMIN_API_OPTIONS, useValue: { ...ADMIN_API_DEFAULTS, ...options.admin } },
            { provide: EVENT_FEED, inject: [CLUSTER_RUNTIME], useFactory: eventFeedFor },
            AdminEventsService,
          ]
        : []),
    ];
    return {
      module: LongLinkModule,
      imports: [ScheduleModule.forRoot(), PresenceModule, HeartbeatModule],
      providers,
      controllers: adminApi ? [HealthController, ClientsController, CommandsController, EventsController, MetricsController, DashboardController] : [],
      exports: [
        LONGLINK_CONFIG,
        CLOCK,
        CLIENT_AUTHENTICATOR,
        LongLinkServer,
        TRANSPORT_SESSIONS,
        SESSION_CONTROL,
        COMMAND_DELIVERY,
        LocalSessionControl,
        LocalCommandDelivery,
        PresenceModule,
        HeartbeatModule,
        PRESENCE_STORE,
        COMMAND_STORE,
        CommandService,
        MetricsService,
        LimitHits,
        AdmissionControl,
        GatewayLifecycle,
      ],
    };
  }
}

/** Start-up rules on the configuration, before anything listens; each names its key. */
/** `config` as given, else `settings` over process.env. */
function configOf(options: LongLinkRuntimeOptions): LongLinkConfig {
  if (options.config && options.settings) throw new Error('LongLinkModule: pass `settings` or `config`, not both');
  return options.config ?? resolveConfig(options.settings);
}

function assertStartable(config: LongLinkConfig, options: StaticOptions): void {
  // Production without ADMIN_TOKEN.
  if (options.adminApi !== false) assertAdminAuthConfig(config);
  assertStoreAvailable(config, options);
}
