import type { Server as HttpServer } from 'node:http';
import { ConsoleLogger, DynamicModule, INestApplication, Logger, LoggerService, LogLevel, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LongLinkConfig } from './config';
import { GatewayLifecycle } from './lifecycle/gateway-lifecycle';
import { LongLinkModule, LongLinkModuleOptions } from './longlink.module';
import { LongLinkServer } from './transport/long-link.server';
import { setupAdminDocs } from './admin/openapi';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL=warn → fatal, error, warn. */
export function logLevels(level: LongLinkConfig['logLevel']): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

/** The logger for LOG_LEVEL and LOG_FORMAT: Nest's ConsoleLogger, one JSON object per line with `json`. */
export function gatewayLogger(config: Pick<LongLinkConfig, 'logLevel' | 'logFormat'>): LoggerService | LogLevel[] {
  const levels = logLevels(config.logLevel);
  return config.logFormat === 'json' ? new ConsoleLogger({ json: true, logLevels: levels }) : levels;
}

export type GatewayOptions = Omit<LongLinkModuleOptions, 'config'> & {
  logger?: false | LogLevel[] | LoggerService;
  /**
   * The application's own modules (their controllers' `@MessagePattern` /
   * `@EventPattern` handlers receive uplink MSG), imported beside LongLinkModule.
   * @default []
   */
  extraModules?: Array<Type | DynamicModule>;
};

/** Root of an app that brings modules of its own next to the gateway. */
@Module({})
class GatewayAppModule {}

export interface RunningGateway {
  app: INestApplication;
  server: LongLinkServer;
  tcpPort: number;
  httpPort: number;
  lifecycle: GatewayLifecycle;
}

/**
 * Builds and starts the gateway: HTTP and the long-link transport in one
 * process (a hybrid Nest app). Used by main.ts and by the e2e tests (port 0).
 */
export async function startGateway(
  config: LongLinkConfig,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const { logger, extraModules = [], ...moduleOptions } = options;
  const gateway = LongLinkModule.forRoot({ ...moduleOptions, config });
  const root: DynamicModule = extraModules.length > 0 ? { module: GatewayAppModule, imports: [gateway, ...extraModules] } : gateway;
  const app = await NestFactory.create(root, {
    logger: logger ?? gatewayLogger(config),
    // A provider that cannot start (e.g. a DATA_DIR the store cannot use) throws to
    // the caller, instead of Nest exiting the process (or a test runner) itself.
    abortOnError: false,
  });
  const server = app.get(LongLinkServer);
  const lifecycle = app.get(GatewayLifecycle);
  const http = app.getHttpServer() as HttpServer;
  applyHttpLimits(http, config.http);
  lifecycle.trackHttpServer(http);
  if (moduleOptions.adminApi !== false) setupAdminDocs(app);
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  const httpAddress = http.address();
  warnIfExposed(config);
  return {
    app,
    server,
    lifecycle,
    tcpPort: server.address()?.port ?? 0,
    httpPort: typeof httpAddress === 'object' && httpAddress ? httpAddress.port : 0,
  };
}

/**
 * Bounds on the admin listener, so that stray sockets cannot take the file
 * descriptors the devices need: a connection cap (more are dropped at
 * accept) and timeouts for a request that never completes. Node checks the
 * timeouts every `connectionsCheckingInterval` (30 s by default), read when
 * it starts listening: set here, before listen, to a fraction of the
 * headers timeout.
 */
export function applyHttpLimits(http: HttpServer, limits: LongLinkConfig['http']): void {
  http.maxConnections = limits.maxConnections;
  http.headersTimeout = limits.headersTimeoutMs;
  http.requestTimeout = limits.requestTimeoutMs;
  http.keepAliveTimeout = limits.keepAliveTimeoutMs;
  (http as HttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    10,
    Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)),
  );
  // The first drop is said at once, the next ones as one count per DROP_LOG_MS: a flood must not become a log flood.
  const logger = new Logger('AdminHttp');
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  const report = () => {
    if (dropped > 0) logger.warn(`dropped ${dropped} more admin HTTP connections at HTTP_MAX_CONNECTIONS (${limits.maxConnections}) in ${DROP_LOG_MS / 1000} s`);
    dropped = 0;
    timer = undefined;
  };
  http.on('drop', () => {
    if (timer !== undefined) {
      dropped++;
      return;
    }
    logger.warn(`admin HTTP listener holds HTTP_MAX_CONNECTIONS (${limits.maxConnections}) sockets: dropping new ones`);
    timer = setTimeout(report, DROP_LOG_MS).unref();
  });
}

const DROP_LOG_MS = 5000;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** An admin API without a token on a non-loopback interface is said loudly, once per start. */
function warnIfExposed(config: LongLinkConfig): void {
  if (config.adminToken || LOOPBACK.test(config.http.host)) return;
  const logger = new Logger('AdminAuth');
  logger.warn('!!! ====================================================================== !!!');
  logger.warn(`!!! The admin API has NO ADMIN_TOKEN and listens on ${config.http.host}:${config.http.port} (HTTP_HOST).`);
  logger.warn('!!! Anyone who can reach that address can list and kick clients and push commands.');
  logger.warn('!!! Set ADMIN_TOKEN, or leave HTTP_HOST unset to listen on 127.0.0.1 only.');
  logger.warn('!!! ====================================================================== !!!');
}

/**
 * SIGTERM / SIGINT for the CLI: readiness 503 for SHUTDOWN_DRAIN_MS, then
 * Nest's close (devices KICKed, HTTP closed, everything destroyed at
 * SHUTDOWN_GRACE_MS), then exit. The process exits within drain + grace +
 * 1 s whatever the peers do; a second signal skips what is left of the drain.
 */
export function installShutdownSignals(running: Pick<RunningGateway, 'app' | 'lifecycle'>, config: LongLinkConfig): () => void {
  const logger = new Logger('longlink');
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      running.lifecycle.skipDrain();
      return;
    }
    stopping = true;
    logger.log(`${signal}: shutting down (drain ${config.shutdownDrainMs} ms, grace ${config.shutdownGraceMs} ms)`);
    void shutdownGateway(running)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error(`shutdown failed: ${error instanceof Error ? error.stack : String(error)}`);
        process.exit(1);
      });
    // The bound, whatever happens above; counted from the end of the drain.
    void running.lifecycle.drain().then(() => {
      setTimeout(() => {
        logger.error(`shutdown did not finish within SHUTDOWN_GRACE_MS + 1 s (${config.shutdownGraceMs + 1000} ms): exiting`);
        process.exit(1);
      }, config.shutdownGraceMs + 1000).unref();
    });
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

/** The drain, then Nest's close: what a host app calls instead of a bare `app.close()` to give its balancer the 503. */
export async function shutdownGateway(running: Pick<RunningGateway, 'app' | 'lifecycle'>): Promise<void> {
  await running.lifecycle.drain();
  await running.app.close();
}
