import { Controller, Get, Injectable, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import request from 'supertest';
import { CommandService } from '../../../src/commands/command.service';
import { configFrom } from '../../../src/config';
import { LongLinkModule } from '../../../src/longlink.module';
import { PresenceService } from '../../../src/presence/presence.service';
import { LongLinkContext } from '../../../src/transport/long-link.context';
import { LongLinkServer } from '../../../src/transport/long-link.server';
import { RawClient } from '../../support/raw-client';
import { TOKEN } from '../admin/admin-helpers';

// ---- a small app of its own that embeds the gateway ------------------------------------

const SETTINGS = Symbol('SETTINGS');

@Module({ providers: [{ provide: SETTINGS, useValue: { adminToken: TOKEN } }], exports: [SETTINGS] })
class SettingsModule {}

/** The host's own service, injecting what the module gives. */
@Injectable()
class Dispatcher {
  constructor(
    readonly commands: CommandService,
    readonly presence: PresenceService,
  ) {}

  async reboot(clientId: string): Promise<string> {
    const command = await this.commands.send(clientId, 'reboot', { by: 'dispatcher' });
    return command.id;
  }
}

/** Uplink handlers of the host app. */
@Controller()
class DeviceController {
  constructor(private readonly dispatcher: Dispatcher) {}

  @MessagePattern('whoami')
  whoami(@Payload() data: { n: number }, @Ctx() ctx: LongLinkContext) {
    return { clientId: ctx.clientId, n: data.n };
  }

  @MessagePattern('please-reboot-me')
  async rebootMe(@Ctx() ctx: LongLinkContext) {
    return { commandId: await this.dispatcher.reboot(ctx.clientId) };
  }

  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}

@Module({
  imports: [
    LongLinkModule.forRootAsync({
      imports: [SettingsModule],
      inject: [SETTINGS],
      useFactory: (settings: { adminToken: string }) => ({
        config: configFrom({ TCP_HOST: '127.0.0.1', TCP_PORT: 0, ADMIN_TOKEN: settings.adminToken, SHUTDOWN_GRACE_MS: 200, STORE: 'memory' }),
      }),
    }),
  ],
  controllers: [DeviceController],
  providers: [Dispatcher],
})
class HostAppModule {}

// ---- the test ------------------------------------------------------------------------------

describe('LongLinkModule.forRootAsync in another Nest app', () => {
  let app: INestApplication;
  let url: string;
  let tcpPort: number;
  let client: RawClient;

  beforeAll(async () => {
    app = await NestFactory.create(HostAppModule, { logger: false });
    const server = app.get(LongLinkServer);
    app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    tcpPort = server.address()?.port ?? 0;
    client = await RawClient.connect(tcpPort);
    expect(await client.login('host-dev')).toMatchObject({ ok: true });
  });
  afterAll(async () => {
    client.close();
    await app.close();
  });

  it('routes uplink MSG to the host app @MessagePattern with the client context', async () => {
    client.send({ type: 'MSG', pattern: 'whoami', id: 'm1', data: { n: 7 } });
    expect(await client.nextOfType('MSG')).toEqual({ type: 'MSG', id: 'm1', ok: true, data: { clientId: 'host-dev', n: 7 } });
  });

  it('lets the host inject CommandService and push a command that the client acks', async () => {
    const dispatcher = app.get(Dispatcher);
    const id = await dispatcher.reboot('host-dev');
    const cmd = await client.nextOfType('CMD');
    expect(cmd).toMatchObject({ id, name: 'reboot', data: { by: 'dispatcher' } });
    client.send({ type: 'ACK', id, ok: true, result: 'ok' });
    expect(await dispatcher.commands.waitForOutcome(id, 5000)).toMatchObject({ status: 'acked', result: 'ok' });
    expect((await dispatcher.presence.get('host-dev'))?.status).toBe('alive');
  });

  it('can push from inside a message handler', async () => {
    client.send({ type: 'MSG', pattern: 'please-reboot-me', id: 'm2' });
    const reply = await client.nextOfType('MSG');
    const cmd = await client.nextOfType('CMD');
    expect(reply).toMatchObject({ id: 'm2', ok: true, data: { commandId: cmd.id } });
  });

  it('mounts the admin API with the token from the factory, and leaves host routes alone', async () => {
    await request(url).get('/clients').expect(401);
    const res = await request(url).get('/clients').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(res.body.items.map((r: { clientId: string }) => r.clientId)).toEqual(['host-dev']);
    // The admin guard, pipe and filter are scoped to the admin controllers.
    expect((await request(url).get('/hello').expect(200)).body).toEqual({ hello: 'world' });
  });
});

describe('LongLinkModule without the admin API', () => {
  it('serves no admin route, and still gives CommandService to inject', async () => {
    @Module({ imports: [LongLinkModule.forRoot({ config: configFrom({ TCP_HOST: '127.0.0.1', TCP_PORT: 0, NODE_ENV: 'production', STORE: 'memory' }), adminApi: false })] })
    class BareModule {}
    // NODE_ENV=production without ADMIN_TOKEN is fine when there is no admin API.
    const app = await NestFactory.create(BareModule, { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      await request(url).get('/clients').expect(404);
      expect(app.get(CommandService)).toBeInstanceOf(CommandService);
    } finally {
      await app.close();
    }
  });
});
