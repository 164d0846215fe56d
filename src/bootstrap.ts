import { DynamicModule, INestApplication, LogLevel, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LongLinkConfig } from './config';
import { LongLinkModule, LongLinkModuleOptions } from './longlink.module';
import { LongLinkServer } from './transport/long-link.server';
import { setupAdminDocs } from './admin/openapi';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL=warn → fatal, error, warn. */
export function logLevels(level: LongLinkConfig['logLevel']): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

export type GatewayOptions = Omit<LongLinkModuleOptions, 'config'> & {
  logger?: false | LogLevel[];
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
    logger: logger ?? logLevels(config.logLevel),
  });
  const server = app.get(LongLinkServer);
  if (moduleOptions.adminApi !== false) setupAdminDocs(app);
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  const httpAddress = app.getHttpServer().address();
  return {
    app,
    server,
    tcpPort: server.address()?.port ?? 0,
    httpPort: typeof httpAddress === 'object' && httpAddress ? httpAddress.port : 0,
  };
}
