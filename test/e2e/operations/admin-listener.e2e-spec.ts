import * as net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { LoggerService } from '@nestjs/common';
import request from 'supertest';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { TOKEN } from '../admin/admin-helpers';

/** A raw socket to the admin port that records what it got and when it closed. */
async function rawHttp(port: number): Promise<{ socket: net.Socket; text: () => string; closed: Promise<number> }> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (b: Buffer) => (text += b.toString()));
  socket.on('error', () => undefined);
  const started = Date.now();
  const closed = once(socket, 'close').then(() => Date.now() - started);
  await once(socket, 'connect');
  return { socket, text: () => text, closed };
}

class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/** Issue 12 item 4: the admin listener is safe by default and bounded. */
describe('operations: admin listener safety', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });
  const bound = (g: TestGateway) => (g.app.getHttpServer().address() as AddressInfo).address;

  it('binds 127.0.0.1 without ADMIN_TOKEN unless HTTP_HOST is set, and every interface with one', async () => {
    gw = await startTestGateway({ HTTP_HOST: undefined });
    expect(bound(gw)).toBe('127.0.0.1');
    await gw.close();
    gw = await startTestGateway({ HTTP_HOST: undefined, ADMIN_TOKEN: TOKEN });
    expect(['0.0.0.0', '::']).toContain(bound(gw));
  });

  it('warns loudly when HTTP_HOST exposes an admin API without ADMIN_TOKEN, and not on loopback', async () => {
    const exposed = new CapturingLogger();
    gw = await startTestGateway({ HTTP_HOST: '0.0.0.0' }, { logger: exposed });
    expect(exposed.warnings.join('\n')).toMatch(/NO ADMIN_TOKEN and listens on 0\.0\.0\.0/);
    await gw.close();
    const loopback = new CapturingLogger();
    gw = await startTestGateway({ HTTP_HOST: '127.0.0.1' }, { logger: loopback });
    expect(loopback.warnings.join('\n')).not.toMatch(/NO ADMIN_TOKEN and listens/);
  });

  it('caps admin HTTP sockets at HTTP_MAX_CONNECTIONS, so idle ones cannot take the devices their SERVER_FULL', async () => {
    const logs = new CapturingLogger();
    gw = await startTestGateway({ HTTP_MAX_CONNECTIONS: 4, MAX_CONNECTIONS: 2, HTTP_HEADERS_TIMEOUT_MS: 60000, HTTP_REQUEST_TIMEOUT_MS: 60000 }, { logger: logs });
    const idle = await Promise.all(Array.from({ length: 12 }, () => rawHttp(gw!.httpPort)));
    // Those over the cap are dropped at once; the held ones stay open.
    const dropped = await Promise.all(idle.map((s) => Promise.race([s.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 1500))])));
    expect(dropped.filter(Boolean).length).toBe(8);
    // Said once, not once per socket.
    expect(logs.warnings.filter((w) => /HTTP_MAX_CONNECTIONS \(4\)/.test(w))).toEqual([expect.stringMatching(/dropping new ones/)]);
    // The devices: up to MAX_CONNECTIONS served, one more is told SERVER_FULL.
    const devices = [await RawClient.connect(gw.tcpPort), await RawClient.connect(gw.tcpPort)];
    for (const [i, d] of devices.entries()) expect(await d.login(`cap-${i}`)).toMatchObject({ ok: true });
    const refused = await RawClient.connect(gw.tcpPort);
    refused.send({ type: 'LOGIN', clientId: 'cap-x' });
    expect(await refused.nextOfType('ERROR')).toMatchObject({ code: 'SERVER_FULL' });
    for (const s of idle) s.socket.destroy();
    await Promise.all(idle.map((s) => s.closed));
    // Once the server has seen them go (its side closes a moment after ours), HTTP serves again.
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = await request(gw.httpUrl).get('/health').then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe(200);
    for (const d of devices) d.close();
  });

  it('closes a socket that sends nothing or half a request after HTTP_HEADERS_TIMEOUT_MS, and an idle keep-alive one', async () => {
    gw = await startTestGateway({ HTTP_HEADERS_TIMEOUT_MS: 200, HTTP_REQUEST_TIMEOUT_MS: 400, HTTP_KEEPALIVE_TIMEOUT_MS: 150 });
    const silent = await rawHttp(gw.httpPort);
    const half = await rawHttp(gw.httpPort);
    half.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const kept = await rawHttp(gw.httpPort);
    kept.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const [silentMs, halfMs, keptMs] = await Promise.all([silent.closed, half.closed, kept.closed]);
    expect(silentMs).toBeLessThan(3000);
    expect(halfMs).toBeLessThan(3000);
    expect(half.text()).toMatch(/^HTTP\/1\.1 408/);
    expect(kept.text()).toMatch(/^HTTP\/1\.1 200/);
    expect(keptMs).toBeLessThan(3000);
  });
});
