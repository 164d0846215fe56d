import { Controller, Module } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { of } from 'rxjs';
import { LongLinkContext } from '../../../src/transport/long-link.context';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { ClientPool, framesOfType, heartRoundTrip } from './helpers';

interface Delivered {
  data: unknown;
  clientId: string;
  sessionId: string;
}

/** Events the handlers below have seen; a test awaits the next one. */
const deliveries = {
  seen: [] as Delivered[],
  waiters: [] as Array<(d: Delivered) => void>,
  push(d: Delivered) {
    const w = this.waiters.shift();
    if (w) w(d);
    else this.seen.push(d);
  },
  next(): Promise<Delivered> {
    const d = this.seen.shift();
    return d ? Promise.resolve(d) : new Promise((resolve) => this.waiters.push(resolve));
  },
};

/** What an application adds: uplink handlers in its own module. */
@Controller()
class DeviceController {
  @MessagePattern('echo')
  echo(@Payload() data: unknown, @Ctx() ctx: LongLinkContext) {
    return { data, clientId: ctx.clientId, sessionId: ctx.sessionId, remotePort: ctx.remotePort, pattern: ctx.pattern };
  }

  @MessagePattern('double')
  async double(@Payload() n: number) {
    await new Promise((r) => setImmediate(r));
    return n * 2;
  }

  @MessagePattern('stream')
  stream() {
    return of(1, 2, 3);
  }

  @MessagePattern('nothing')
  nothing(): void {}

  @MessagePattern('boom')
  boom(): never {
    throw new Error('kaboom with internals');
  }

  @MessagePattern('refuse')
  refuse(): never {
    throw new RpcException('not in this state');
  }

  @MessagePattern('bigint')
  bigint() {
    return { n: BigInt(1) };
  }

  // <string> selects the plain overload: the typed-events one wants every parameter after `data` to be `unknown`.
  @EventPattern<string>('telemetry')
  telemetry(@Payload() data: unknown, @Ctx() ctx: LongLinkContext): void {
    deliveries.push({ data, clientId: ctx.clientId, sessionId: ctx.sessionId });
  }

  @EventPattern<string>('faulty')
  faulty(): never {
    throw new Error('event handler bug');
  }
}

@Module({ controllers: [DeviceController] })
class DeviceModule {}

describe('transport: MSG to @MessagePattern / @EventPattern handlers', () => {
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);

  beforeAll(async () => {
    gw = await startTestGateway({}, { extraModules: [DeviceModule] });
  });
  afterEach(() => pool.closeAll());
  afterAll(() => gw.close());

  it('routes MSG with an id to the @MessagePattern handler and replies with its result', async () => {
    const c = await pool.login('msg-1');
    c.send({ type: 'MSG', pattern: 'echo', id: 'r1', data: { hello: 'world' } });
    const reply = await c.nextOfType('MSG');
    expect(reply).toEqual({
      type: 'MSG',
      id: 'r1',
      ok: true,
      data: {
        data: { hello: 'world' },
        clientId: 'msg-1',
        sessionId: gw.server.getConnection('msg-1')?.sessionId,
        remotePort: c.socket.localPort,
        pattern: 'echo',
      },
    });
  });

  it('awaits async handlers, takes the last value of an Observable, and replies without data for undefined', async () => {
    const c = await pool.login('msg-2', 'line');
    c.send({ type: 'MSG', pattern: 'double', id: 'd', data: 21 });
    c.send({ type: 'MSG', pattern: 'stream', id: 's' });
    c.send({ type: 'MSG', pattern: 'nothing', id: 'n' });
    const replies = [await c.nextOfType('MSG'), await c.nextOfType('MSG'), await c.nextOfType('MSG')];
    expect(replies).toEqual(
      expect.arrayContaining([
        { type: 'MSG', id: 'd', ok: true, data: 42 },
        { type: 'MSG', id: 's', ok: true, data: 3 },
        { type: 'MSG', id: 'n', ok: true },
      ]),
    );
  });

  it('answers a throwing handler with ok:false HANDLER_ERROR and keeps the connection', async () => {
    const c = await pool.login('msg-3');
    c.send({ type: 'MSG', pattern: 'boom', id: 'b1' });
    const reply = await c.nextOfType('MSG');
    expect(reply).toMatchObject({ type: 'MSG', id: 'b1', ok: false, error: { code: 'HANDLER_ERROR', message: expect.any(String) } });
    // Nest's exception filter hides an unexpected error's text; an RpcException's is the client's to see.
    expect(JSON.stringify(reply)).not.toContain('internals');
    c.send({ type: 'MSG', pattern: 'refuse', id: 'b2' });
    expect(await c.nextOfType('MSG')).toMatchObject({ id: 'b2', ok: false, error: { code: 'HANDLER_ERROR', message: 'not in this state' } });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
  });

  it('answers a result that JSON cannot carry with HANDLER_ERROR instead of leaving the request unanswered', async () => {
    const c = await pool.login('msg-4');
    c.send({ type: 'MSG', pattern: 'bigint', id: 'big' });
    expect(await c.nextOfType('MSG')).toMatchObject({ id: 'big', ok: false, error: { code: 'HANDLER_ERROR', message: expect.stringContaining('JSON') } });
  });

  it('answers MSG to an unknown pattern with ERROR NO_HANDLER carrying the id', async () => {
    const c = await pool.login('msg-5');
    c.send({ type: 'MSG', pattern: 'no.such.pattern', id: 'u1' });
    expect(await c.nextOfType('ERROR')).toMatchObject({ type: 'ERROR', code: 'NO_HANDLER', id: 'u1', message: expect.stringContaining('no.such.pattern') });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
  });

  it('delivers MSG without an id to the @EventPattern handler, with the context, and sends no reply', async () => {
    const c = await pool.login('evt-1');
    c.send({ type: 'MSG', pattern: 'telemetry', data: { temp: 21.5 } });
    const delivered = await deliveries.next();
    expect(delivered).toEqual({ data: { temp: 21.5 }, clientId: 'evt-1', sessionId: gw.server.getConnection('evt-1')?.sessionId });
    // Frames are answered in order: a reply to the event would arrive before this HEART's.
    await heartRoundTrip(c);
    expect(framesOfType(c, 'MSG')).toEqual([]);
    expect(c.frames).toEqual([]);
  });

  it('survives an event handler that throws', async () => {
    const c = await pool.login('evt-2');
    c.send({ type: 'MSG', pattern: 'faulty', data: 1 });
    c.send({ type: 'MSG', pattern: 'telemetry', data: 'after' });
    expect(await deliveries.next()).toMatchObject({ data: 'after', clientId: 'evt-2' });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
  });

  it('mirrors the code alias in MSG replies', async () => {
    const c = await pool.connect('line');
    c.send({ code: 'LOGIN', clientId: 'msg-alias' });
    await c.nextOfType('LOGIN');
    c.send({ code: 'MSG', pattern: 'double', id: 'a1', data: 2 });
    const reply = await c.nextOfType('MSG');
    expect(reply).toEqual({ code: 'MSG', id: 'a1', ok: true, data: 4 });
  });
});
