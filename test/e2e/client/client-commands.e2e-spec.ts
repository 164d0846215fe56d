import { LongLinkClient } from '../../../src/client';
import { createDevice, parseDeviceArgs } from '../../../src/client/device';
import type { Framing } from '../../../src/transport/codec';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { AckRecorder, FAST, nextEvent, pushCommand } from './helpers';

describe('LongLinkClient: commands pushed by the gateway', () => {
  let gw: TestGateway;
  let acks: AckRecorder;
  const clients: LongLinkClient[] = [];
  const client = async (clientId: string, framing: Framing = 'length') => {
    const c = new LongLinkClient({ host: '127.0.0.1', port: gw.tcpPort, clientId, framing, ...FAST });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ HEARTBEAT_MS: 100 });
    acks = new AckRecorder(gw.server);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    acks.stop();
    await gw.close();
  });

  it.each<Framing>(['length', 'line'])('runs the handler and ACKs its result or its error (%s framing)', async (framing) => {
    const id = `cmd-${framing}`;
    const c = await client(id, framing);
    c.onCommand('add', (data) => {
      const { a, b } = data as { a: number; b: number };
      return { sum: a + b };
    });
    c.onCommand('explode', async () => {
      throw Object.assign(new Error('valve stuck'), { code: 'VALVE' });
    });
    await c.connect();
    const ok = acks.next(`${id}-1`);
    const failed = acks.next(`${id}-2`);
    pushCommand(gw.server, id, { id: `${id}-1`, name: 'add', data: { a: 2, b: 3 } });
    pushCommand(gw.server, id, { id: `${id}-2`, name: 'explode' });
    expect(await ok).toEqual({ type: 'ACK', id: `${id}-1`, ok: true, result: { sum: 5 } });
    expect(await failed).toEqual({ type: 'ACK', id: `${id}-2`, ok: false, error: { code: 'VALVE', message: 'valve stuck' } });
  });

  it('answers a command it has no handler for with ok:false NO_HANDLER', async () => {
    const c = await client('unknown-1');
    c.onCommand('echo', (d) => d);
    await c.connect();
    const ack = acks.next('u-1');
    pushCommand(gw.server, 'unknown-1', { id: 'u-1', name: 'reboot' });
    expect(await ack).toEqual({
      type: 'ACK',
      id: 'u-1',
      ok: false,
      error: { code: 'NO_HANDLER', message: "no handler for command 'reboot' on this client (handlers: echo)" },
    });
  });

  it('runs a repeated command id once and ACKs it twice, the second time with the same ACK', async () => {
    const c = await client('dup-1');
    let runs = 0;
    c.onCommand('count', () => ++runs);
    const events: boolean[] = [];
    c.on('command', (e) => events.push(e.duplicate));
    await c.connect();
    const first = acks.next('d-1');
    pushCommand(gw.server, 'dup-1', { id: 'd-1', name: 'count' });
    expect(await first).toMatchObject({ ok: true, result: 1 });
    const second = acks.next('d-1');
    pushCommand(gw.server, 'dup-1', { id: 'd-1', name: 'count' });
    expect(await second).toMatchObject({ ok: true, result: 1 });
    expect(runs).toBe(1);
    expect(acks.count('d-1')).toBe(2);
    expect(events).toEqual([false, true]);
  });

  it('a redelivery while the handler still runs is not run again; the one ACK goes on the connection alive at the end', async () => {
    const c = await client('dup-2');
    let runs = 0;
    let release!: () => void;
    c.onCommand('slow', () => {
      runs++;
      return new Promise((r) => (release = () => r('finished')));
    });
    await c.connect();
    pushCommand(gw.server, 'dup-2', { id: 's-1', name: 'slow' });
    await nextEvent(c, 'command');
    // The connection drops while the handler runs; the gateway would redeliver after the next LOGIN.
    const back = nextEvent(c, 'online');
    gw.server.getConnection('dup-2')!.socket.destroy();
    await back;
    const redelivered = nextEvent(c, 'command');
    pushCommand(gw.server, 'dup-2', { id: 's-1', name: 'slow' });
    expect(await redelivered).toMatchObject({ id: 's-1', duplicate: true });
    const ack = acks.next('s-1');
    release();
    expect(await ack).toMatchObject({ ok: true, result: 'finished' });
    expect(runs).toBe(1);
    expect(acks.count('s-1')).toBe(1);
  });

  it('the demo device answers echo, sleep and fail', async () => {
    const lines: string[] = [];
    const args = parseDeviceArgs(['--id', 'device-1', '--port', String(gw.tcpPort), '--framing', 'line']);
    const device = createDevice(args, (l) => lines.push(l));
    clients.push(device);
    await device.connect();
    const echo = acks.next('dev-echo');
    const sleep = acks.next('dev-sleep');
    const fail = acks.next('dev-fail');
    const badSleep = acks.next('dev-sleep-bad');
    pushCommand(gw.server, 'device-1', { id: 'dev-echo', name: 'echo', data: { hello: 'world' } });
    pushCommand(gw.server, 'device-1', { id: 'dev-sleep', name: 'sleep', data: { ms: 30 } });
    pushCommand(gw.server, 'device-1', { id: 'dev-fail', name: 'fail', data: { message: 'as asked' } });
    pushCommand(gw.server, 'device-1', { id: 'dev-sleep-bad', name: 'sleep', data: { ms: 'soon' } });
    expect(await echo).toMatchObject({ ok: true, result: { hello: 'world' } });
    expect(await sleep).toMatchObject({ ok: true, result: { sleptMs: 30 } });
    expect(await fail).toMatchObject({ ok: false, error: { code: 'DEVICE_FAILURE', message: 'as asked' } });
    expect(await badSleep).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } });
    expect(gw.server.getConnection('device-1')!.detectedFraming).toBe('line');
    expect(lines).toEqual(
      expect.arrayContaining([
        'status idle -> connecting (connect() called)',
        'status connecting -> online (logged in)',
        expect.stringMatching(/^command echo id=dev-echo data=\{"hello":"world"\}$/),
        expect.stringMatching(/^ack sleep id=dev-sleep ok result=\{"sleptMs":30\} in \d+ ms$/),
        expect.stringMatching(/^ack fail id=dev-fail failed DEVICE_FAILURE: as asked/),
      ]),
    );
  });

  it('the device CLI refuses bad arguments with the usage line', () => {
    expect(() => parseDeviceArgs([])).toThrow(/^--id is required\nusage: npm run device/);
    expect(() => parseDeviceArgs(['--id', 'x', '--port', 'abc'])).toThrow("--port must be 1-65535, got 'abc'");
    expect(() => parseDeviceArgs(['--id', 'x', '--framing', 'xml'])).toThrow("--framing must be 'length' or 'line', got 'xml'");
    expect(() => parseDeviceArgs(['--id', 'x', '--bogus'])).toThrow(/Unknown option '--bogus'/);
    expect(parseDeviceArgs(['--id', 'x'])).toEqual({ id: 'x', host: '127.0.0.1', port: 7000, token: undefined, framing: 'length', tls: false });
  });
});
