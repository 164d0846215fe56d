import * as net from 'node:net';
import { once } from 'node:events';
import type { Framing } from '../../../src/transport/codec';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { haveOpenssl, makeSelfSignedCertificate, TestCertificate } from '../../support/tls-cert';
import { heartRoundTrip } from './helpers';

if (!haveOpenssl) {
  console.warn('\n\n*** openssl is not installed: SKIPPING the TLS e2e tests (test/e2e/transport/tls.e2e-spec.ts) ***\n\n');
}

/** TLS_CERT_FILE / TLS_KEY_FILE with a self-signed certificate made for this run. */
(haveOpenssl ? describe : describe.skip)('transport: TLS', () => {
  let tlsFiles: TestCertificate;
  let cert: Buffer;
  let gw: TestGateway;
  const clients: Array<RawClient | net.Socket> = [];

  beforeAll(async () => {
    tlsFiles = makeSelfSignedCertificate();
    cert = tlsFiles.cert;
    gw = await startTestGateway({ TLS_CERT_FILE: tlsFiles.certFile, TLS_KEY_FILE: tlsFiles.keyFile, LOGIN_TIMEOUT_MS: 2000, SHUTDOWN_GRACE_MS: 300 });
  });
  afterAll(async () => {
    for (const c of clients) (c instanceof RawClient ? c.socket : c).destroy();
    await gw?.close();
    tlsFiles?.remove();
  });

  it.each<Framing>(['length', 'line'])('LOGIN and HEART over TLS (%s framing)', async (framing) => {
    const c = await RawClient.connect(gw.tcpPort, { framing, tls: { ca: cert, servername: 'localhost' } });
    clients.push(c);
    expect(await c.login(`tls-${framing}`)).toMatchObject({ ok: true, clientId: `tls-${framing}` });
    expect(await heartRoundTrip(c)).toMatchObject({ ok: true });
    expect(gw.server.getConnection(`tls-${framing}`)?.remoteAddress).toBe('127.0.0.1');
  });

  it('a client that does not trust the certificate is refused, and the server keeps serving', async () => {
    await expect(RawClient.connect(gw.tcpPort, { tls: { servername: 'localhost' } })).rejects.toThrow(/self[- ]signed|certificate/i);
    const plain = net.connect(gw.tcpPort, '127.0.0.1');
    clients.push(plain);
    plain.on('error', () => undefined);
    await once(plain, 'connect');
    // Plain-text framing on a TLS port is not a handshake: the server drops it.
    plain.write('{"type":"LOGIN","clientId":"plain"}\n');
    await once(plain, 'close');
    const c = await RawClient.connect(gw.tcpPort, { tls: { ca: cert, servername: 'localhost' } });
    clients.push(c);
    expect(await c.login('tls-after')).toMatchObject({ ok: true });
  });

  it('shuts down within SHUTDOWN_GRACE_MS with a socket stuck before its TLS handshake', async () => {
    const c = await RawClient.connect(gw.tcpPort, { tls: { ca: cert, servername: 'localhost' } });
    clients.push(c);
    await c.login('tls-shutdown');
    const silent = net.connect(gw.tcpPort, '127.0.0.1');
    clients.push(silent);
    silent.on('error', () => undefined);
    await once(silent, 'connect');
    const started = Date.now();
    await gw.close();
    expect(Date.now() - started).toBeLessThan(300 + 500);
    expect(await c.nextOfType('KICK')).toMatchObject({ reason: 'shutdown' });
  });
});
