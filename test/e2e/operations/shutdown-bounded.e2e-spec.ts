import * as net from 'node:net';
import { once } from 'node:events';
import request from 'supertest';
import { shutdownGateway } from '../../../src/bootstrap';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { loggedIn, SseClient, TOKEN } from '../admin/admin-helpers';

/** A socket to the admin port, and when it closed (ms after `since`). */
async function httpSocket(gw: TestGateway): Promise<{ socket: net.Socket; closedAt: Promise<number> }> {
  const socket = net.connect(gw.httpPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  socket.resume(); // reads a 408 or the FIN, so 'close' comes
  return { socket, closedAt: once(socket, 'close').then(() => Date.now()) };
}

/** Issue 12 item 2: shutdown ends within SHUTDOWN_GRACE_MS (+ a little) whatever the admin peers do. */
describe('operations: shutdown that always ends', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('KICKs devices first and ends despite an idle HTTP socket, a half-sent request and an SSE listener', async () => {
    const grace = 600;
    // Long HTTP timeouts: only the shutdown itself may end these sockets.
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, SHUTDOWN_GRACE_MS: grace, HTTP_HEADERS_TIMEOUT_MS: 60000, HTTP_REQUEST_TIMEOUT_MS: 60000 });
    const device = await loggedIn(gw, 'sd-device');
    const idle = await httpSocket(gw); // `nc host 3000`, nothing sent
    const half = await httpSocket(gw);
    half.socket.write('GET /clients HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    const sse = await SseClient.open(gw, '/events');
    const sseEnded = once(sse.res, 'close').then(() => Date.now());
    const kickAt = device.nextOfType('KICK').then((kick) => ({ kick, at: Date.now() }));

    const started = Date.now();
    await gw.close();
    const elapsed = Date.now() - started;
    gw = undefined;

    expect(elapsed).toBeLessThan(grace + 1000);
    const { kick, at } = await kickAt;
    expect(kick).toEqual({ type: 'KICK', reason: 'shutdown' });
    // The device heard first, before the grace that ends the stuck HTTP sockets.
    expect(at - started).toBeLessThan(grace);
    expect(await idle.closedAt).toBeGreaterThanOrEqual(at);
    await half.closedAt;
    // The SSE stream is ended by the shutdown itself, not left to the force at the grace.
    expect((await sseEnded) - started).toBeLessThan(grace);
    await device.waitClosed();
  });

  it('drains: /health/ready is 503 for SHUTDOWN_DRAIN_MS while everything else keeps serving, then closes', async () => {
    const drain = 400;
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, SHUTDOWN_DRAIN_MS: drain, SHUTDOWN_GRACE_MS: 500 });
    const http = request(gw.httpUrl);
    await http.get('/health/ready').expect(200, { status: 'ready', phase: 'serving' });
    await http.get('/health/live').expect(200);
    const device = await loggedIn(gw, 'drain-1');
    const kicked = device.nextOfType('KICK').then(() => Date.now());

    const started = Date.now();
    const done = shutdownGateway(gw);
    await http.get('/health/ready').expect(503, { status: 'draining', phase: 'draining' });
    expect((await http.get('/health').expect(503)).body).toMatchObject({ status: 'shutting_down', clients: 1 });
    await http.get('/health/live').expect(200, { status: 'ok', phase: 'draining' });
    // Still serving: admin routes, and devices connecting and logging in.
    await http.get('/clients').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    const late = await RawClient.connect(gw.tcpPort);
    expect(await late.login('drain-late')).toMatchObject({ ok: true });

    await done;
    gw = undefined;
    expect((await kicked) - started).toBeGreaterThanOrEqual(drain - 20);
    expect(await late.nextOfType('KICK')).toMatchObject({ reason: 'shutdown' });
    expect(Date.now() - started).toBeLessThan(drain + 500 + 1000);
  });

  it('with no drain configured (the default outside production) closes at once', async () => {
    gw = await startTestGateway({ SHUTDOWN_GRACE_MS: 300 });
    expect(gw.config.shutdownDrainMs).toBe(0);
    const device = await loggedIn(gw, 'nodrain-1');
    const started = Date.now();
    await shutdownGateway(gw);
    gw = undefined;
    expect(await device.nextOfType('KICK')).toMatchObject({ reason: 'shutdown' });
    // No drain to wait for (a 5 s production drain would show).
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
