import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { LongLinkServer, setupAdminDocs } from 'longlink';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  setupAdminDocs(app);
  const server = app.get(LongLinkServer);
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const http = app.getHttpServer().address();
  // One line a supervisor (or the package test) can read the ports from.
  console.log(`host-app ready http=${typeof http === 'object' && http ? http.port : ''} tcp=${server.address()?.port ?? ''}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
