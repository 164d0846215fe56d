import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory, RouterModule } from '@nestjs/core';
import request from 'supertest';
import { buildAdminDocument } from '../../../src/admin/openapi';
import { configFrom, ConfigValidationError, LONGLINK_CONFIG, LongLinkConfig } from '../../../src/config';
import { LongLinkModule } from '../../../src/longlink.module';
import { LongLinkServer } from '../../../src/transport/long-link.server';
import { RawClient } from '../../support/raw-client';

const TOKEN = 'module-options-token';
// STORE=memory: the SQLite default would write ./data in the working directory
// (the ConfigService app below keeps the default, on a DATA_DIR of its own).
const LOCAL = { TCP_HOST: '127.0.0.1', TCP_PORT: 0, HTTP_HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: 300, STORE: 'memory' };

async function start(root: Parameters<typeof NestFactory.create>[0]): Promise<{ app: INestApplication; url: string; tcpPort: number }> {
  const app = await NestFactory.create(root, { logger: false });
  const server = app.get(LongLinkServer);
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  return { app, url: `http://127.0.0.1:${address.port}`, tcpPort: server.address()?.port ?? 0 };
}

describe('LongLinkModule options in a host app', () => {
  describe("forRootAsync with @nestjs/config's ConfigService", () => {
    // The settings below name no STORE: the default (SQLite) on a temp DATA_DIR, never the repository's ./data.
    const dataDir = mkdtempSync(join(tmpdir(), 'longlink-module-options-'));
    @Module({
      imports: [
        LongLinkModule.forRootAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ ...LOCAL, HEARTBEAT_MS: 1234, ADMIN_TOKEN: TOKEN, DATA_DIR: dataDir })] })],
          inject: [ConfigService],
          // The environment's keys, from ConfigService: whatever it does not give comes from process.env.
          useFactory: (settings: ConfigService) => ({
            settings: {
              TCP_HOST: settings.get<string>('TCP_HOST'),
              TCP_PORT: settings.get<number>('TCP_PORT'),
              HEARTBEAT_MS: settings.get<number>('HEARTBEAT_MS'),
              ADMIN_TOKEN: settings.get<string>('ADMIN_TOKEN'),
              SHUTDOWN_GRACE_MS: settings.get<number>('SHUTDOWN_GRACE_MS'),
              DATA_DIR: settings.get<string>('DATA_DIR'),
            },
          }),
        }),
      ],
    })
    class AsyncApp {}

    let running: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      running = await start(AsyncApp);
    });
    afterAll(async () => {
      await running?.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('takes its settings from ConfigService and serves with them', async () => {
      const config = running.app.get<LongLinkConfig>(LONGLINK_CONFIG);
      expect(config.heartbeat.heartbeatMs).toBe(1234);
      expect({ store: config.store, dataDir: config.dataDir }).toEqual({ store: 'sqlite', dataDir });
      expect(existsSync(join(dataDir, 'longlink.db'))).toBe(true);
      // Derived from HEARTBEAT_MS as the environment's value would be.
      expect(config.heartbeat.serverPingMs).toBe(1234);
      expect(config.adminToken).toBe(TOKEN);
      const client = await RawClient.connect(running.tcpPort, { framing: 'line' });
      try {
        expect(await client.login('async-1')).toMatchObject({ ok: true, heartbeatMs: 1234 });
      } finally {
        client.close();
      }
      await request(running.url).get('/clients').expect(401);
      await request(running.url).get('/clients/async-1').set('authorization', `Bearer ${TOKEN}`).expect(200);
    });
  });

  it('forRoot({ settings }) stops start-up on a bad value, naming the key', () => {
    expect(() => LongLinkModule.forRoot({ settings: { TCP_PORT: 'seven' } })).toThrow(ConfigValidationError);
    expect(() => LongLinkModule.forRoot({ settings: { TCP_PORT: 'seven' } })).toThrow(/TCP_PORT: must be a whole number/);
    expect(() => LongLinkModule.forRoot({ settings: { TCP_PORT: 0 }, config: configFrom(LOCAL) })).toThrow(/not both/);
  });

  describe('admin routes under a prefix with RouterModule', () => {
    @Module({
      imports: [
        LongLinkModule.forRoot({ settings: { ...LOCAL, ADMIN_TOKEN: TOKEN } }),
        RouterModule.register([{ path: 'gateway', module: LongLinkModule }]),
      ],
    })
    class PrefixedApp {}

    let running: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      running = await start(PrefixedApp);
    });
    afterAll(() => running?.app.close());

    it('serves every admin route under /gateway and none at the root', async () => {
      await request(running.url).get('/gateway/clients').set('authorization', `Bearer ${TOKEN}`).expect(200);
      await request(running.url).get('/gateway/health/ready').expect(200);
      await request(running.url).get('/clients').set('authorization', `Bearer ${TOKEN}`).expect(404);
      await request(running.url).get('/health').expect(404);
    });

    it('describes them under the prefix in the OpenAPI document', () => {
      const paths = Object.keys(buildAdminDocument(running.app).paths);
      expect(paths).toEqual(expect.arrayContaining(['/gateway/clients', '/gateway/health/ready', '/gateway/commands/{id}']));
      expect(paths.filter((p) => !p.startsWith('/gateway/'))).toEqual([]);
    });
  });

  describe('adminApi: false', () => {
    @Module({ imports: [LongLinkModule.forRoot({ config: configFrom(LOCAL), adminApi: false })] })
    class NoAdminApp {}

    let running: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      running = await start(NoAdminApp);
    });
    afterAll(() => running?.app.close());

    it('mounts no admin route, and the transport still serves', async () => {
      await request(running.url).get('/clients').expect(404);
      await request(running.url).get('/health').expect(404);
      const client = await RawClient.connect(running.tcpPort, { framing: 'line' });
      try {
        expect(await client.login('no-admin-1')).toMatchObject({ ok: true });
      } finally {
        client.close();
      }
    });
  });
});
