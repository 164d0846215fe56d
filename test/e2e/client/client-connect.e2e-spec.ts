import { Controller, Module } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { LongLinkClient, ClientClosedError, QueueFullError, ServerError } from '../../../src/client';
import type { Framing } from '../../../src/transport/codec';
import type { LongLinkContext } from '../../../src/transport/long-link.context';
import type { CloseEvent, LoginEvent } from '../../../src/transport/transport.events';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { FAST, nextEvent, recordStatuses, waitUntil } from './helpers';

const HEARTBEAT_MS = 50;

const telemetry: Array<{ data: unknown; clientId: string | undefined }> = [];

/** Uplink handlers as an application writes them (mounted with extraModules). */
@Controller()
class SdkTestController {
  @MessagePattern('math.sum')
  sum(@Payload() data: number[], @Ctx() ctx: unknown) {
    return { sum: data.reduce((a, b) => a + b, 0), clientId: (ctx as LongLinkContext).clientId };
  }

  @MessagePattern('math.fail')
  fail(@Payload() _data: unknown): unknown {
    throw new Error('cannot divide by zero');
  }

  @EventPattern('telemetry')
  telemetry(@Payload() data: unknown, @Ctx() ctx: unknown): void {
    telemetry.push({ data, clientId: (ctx as LongLinkContext).clientId });
  }
}

@Module({ controllers: [SdkTestController] })
class SdkTestModule {}

describe('LongLinkClient against the gateway: login, heartbeat, messages, close', () => {
  let gw: TestGateway;
  const clients: LongLinkClient[] = [];
  const client = (clientId: string, extra: Partial<ConstructorParameters<typeof LongLinkClient>[0]> = {}) => {
    const c = new LongLinkClient({ host: '127.0.0.1', port: gw.tcpPort, clientId, ...FAST, ...extra });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS }, { extraModules: [SdkTestModule] });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => gw.close());

  it.each<Framing>(['length', 'line'])('logs in and heartbeats at the interval the gateway names (%s framing)', async (framing) => {
    // The client's own default is 10 s: heartbeats every ~50 ms prove it took the server's value.
    const c = client(`hb-${framing}`, { framing });
    const statuses = recordStatuses(c);
    const online = nextEvent(c, 'online');
    await c.connect();
    expect(c.status).toBe('online');
    expect(await online).toMatchObject({ clientId: `hb-${framing}`, heartbeatMs: HEARTBEAT_MS });
    expect(statuses.map((s) => `${s.from}->${s.to}`)).toEqual(['idle->connecting', 'connecting->online']);
    const conn = gw.server.getConnection(`hb-${framing}`)!;
    expect(conn.detectedFraming).toBe(framing);
    const before = gw.server.stats.heartbeats;
    const lastSeen = conn.lastReadAt;
    await waitUntil('4 heartbeats from the client', () => gw.server.stats.heartbeats - before >= 4, 2000);
    expect(conn.lastReadAt).toBeGreaterThan(lastSeen);
    expect(conn.closed).toBe(false);
  });

  it('sends LOGIN meta and HEART fields the gateway keeps', async () => {
    const c = client('meta-1', { meta: { model: 'x1' }, heartbeatFields: () => ({ battery: 97 }) });
    const login = new Promise<Record<string, unknown> | undefined>((resolve) => {
      const listener = (e: LoginEvent) => {
        if (e.clientId !== 'meta-1') return;
        gw.server.off('login', listener);
        resolve(e.meta);
      };
      gw.server.on('login', listener);
    });
    await c.connect();
    expect(await login).toEqual({ model: 'x1' });
    const conn = gw.server.getConnection('meta-1')!;
    await waitUntil('a HEART with fields', () => conn.reported !== undefined, 2000);
    expect(conn.reported).toMatchObject({ type: 'HEART', battery: 97 });
  });

  it('close() says BYE (the gateway sees a logout), leaves status closed and refuses later use', async () => {
    const c = client('bye-1');
    await c.connect();
    const closed = new Promise<CloseEvent>((resolve) => {
      const listener = (e: CloseEvent) => {
        if (e.clientId !== 'bye-1') return;
        gw.server.off('close', listener);
        resolve(e);
      };
      gw.server.on('close', listener);
    });
    const status = nextEvent(c, 'status');
    await c.close('test done');
    expect(await status).toEqual({ from: 'online', to: 'closed', reason: 'test done' });
    expect((await closed).reason).toBe('logout');
    await expect(c.connect()).rejects.toThrow(ClientClosedError);
    expect(() => c.emit('x')).toThrow('emit(\'x\'): client is closed (test done)');
    await expect(c.send('x')).rejects.toThrow(ClientClosedError);
    await c.close(); // twice is fine
  });

  it('send() to a pattern without a handler rejects with the gateway\'s NO_HANDLER error', async () => {
    const c = client('msg-1');
    await c.connect();
    const error = await c.send('no.such.pattern', { a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 'NO_HANDLER' });
    expect((error as Error).message).toContain("no handler for pattern 'no.such.pattern'");
  });

  it('frames emitted before connect() are queued and flushed, in order, right after LOGIN', async () => {
    const c = client('queue-1');
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.message));
    c.emit('queued.first', 1);
    c.emit('queued.second', 2);
    const reply = c.send('queued.third');
    expect(c.queuedFrames).toBe(3);
    await c.connect();
    expect(c.queuedFrames).toBe(0);
    // No handlers in this app: the gateway answers each with ERROR NO_HANDLER, which proves each arrived.
    await expect(reply).rejects.toMatchObject({ code: 'NO_HANDLER' });
    await waitUntil('two ERRORs for the emits', () => errors.length === 2, 2000);
    expect(errors[0]).toContain("'queued.first'");
    expect(errors[1]).toContain("'queued.second'");
  });

  it('refuses a frame beyond maxQueuedFrames with a clear error instead of dropping it', async () => {
    const c = client('queue-2', { maxQueuedFrames: 2 });
    c.emit('a');
    c.emit('b');
    expect(() => c.emit('c')).toThrow(QueueFullError);
    expect(() => c.emit('c')).toThrow("emit('c') refused: client is idle and 2 frames are already queued (maxQueuedFrames 2)");
    await expect(c.send('d')).rejects.toThrow(QueueFullError);
  });

  it('close() rejects a request that was still queued rather than dropping it silently', async () => {
    const c = client('queue-3');
    const reply = c.send('never.sent').catch((e: unknown) => e);
    await c.close('closing with a frame queued');
    const error = await reply;
    expect(error).toBeInstanceOf(ClientClosedError);
    expect((error as Error).message).toBe("send('never.sent'): client is closed (closing with a frame queued)");
    expect(c.queuedFrames).toBe(0);
  });

  it('send() round-trips to an app @MessagePattern and emit() reaches an @EventPattern', async () => {
    const c = client('rpc-1', { framing: 'line' });
    await c.connect();
    expect(await c.send('math.sum', [1, 2, 39])).toEqual({ sum: 42, clientId: 'rpc-1' });
    const error = await c.send('math.fail', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 'HANDLER_ERROR' });
    expect((error as Error).message).toMatch(/^MSG 'math\.fail' failed: HANDLER_ERROR: /);
    c.emit('telemetry', { temp: 21.5 });
    // Requests and events share one ordered socket: once this reply is in, the event has been handled.
    expect(await c.send('math.sum', [1])).toEqual({ sum: 1, clientId: 'rpc-1' });
    expect(telemetry).toEqual([{ data: { temp: 21.5 }, clientId: 'rpc-1' }]);
  });
});
