import { ClientClosedError, LongLinkClient, LongLinkClientError } from '../../../src/client';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { haveOpenssl, makeSelfSignedCertificate, TestCertificate } from '../../support/tls-cert';
import { FAST, nextEvent, waitUntil } from './helpers';

describe('LongLinkClient: token auth', () => {
  let gw: TestGateway;
  const clients: LongLinkClient[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({ AUTH_MODE: 'token', AUTH_TOKENS: 'dev-a:s3cret' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => gw.close());

  it('logs in with its token', async () => {
    const c = new LongLinkClient({ host: '127.0.0.1', port: gw.tcpPort, clientId: 'dev-a', token: 's3cret', ...FAST });
    clients.push(c);
    await c.connect();
    expect(c.session?.clientId).toBe('dev-a');
  });

  it('a refused LOGIN is final: connect() rejects with the gateway\'s reason and no retry follows', async () => {
    const c = new LongLinkClient({ host: '127.0.0.1', port: gw.tcpPort, clientId: 'dev-a', token: 'wrong', ...FAST });
    clients.push(c);
    const errors: LongLinkClientError[] = [];
    c.on('error', (e) => errors.push(e));
    const scheduled: unknown[] = [];
    c.on('reconnect_scheduled', (r) => scheduled.push(r));
    const failuresBefore = gw.server.stats.loginFailures;
    const error = await c.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientClosedError);
    expect((error as Error).message).toBe("connect(): client is closed (LOGIN refused for 'dev-a': AUTH_FAILED: wrong clientId or token)");
    expect(errors.map((e) => e.code)).toEqual(['AUTH_FAILED']);
    expect(scheduled).toEqual([]);
    expect(c.status).toBe('closed');
    expect(gw.server.stats.loginFailures - failuresBefore).toBe(1);
  });
});

if (!haveOpenssl) console.warn('\n*** openssl is not installed: SKIPPING the SDK TLS tests ***\n');

(haveOpenssl ? describe : describe.skip)('LongLinkClient: TLS', () => {
  let tlsFiles: TestCertificate;
  let cert: Buffer;
  let gw: TestGateway;
  const clients: LongLinkClient[] = [];
  beforeAll(async () => {
    tlsFiles = makeSelfSignedCertificate('longlink-sdk-tls-');
    cert = tlsFiles.cert;
    gw = await startTestGateway({ TLS_CERT_FILE: tlsFiles.certFile, TLS_KEY_FILE: tlsFiles.keyFile, HEARTBEAT_MS: 50 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await gw?.close();
    tlsFiles?.remove();
  });

  it('connects, heartbeats and reconnects over TLS', async () => {
    const c = new LongLinkClient({ host: 'localhost', port: gw.tcpPort, clientId: 'tls-1', tls: { ca: cert }, ...FAST });
    clients.push(c);
    await c.connect();
    const before = gw.server.stats.heartbeats;
    await waitUntil('heartbeats over TLS', () => gw.server.stats.heartbeats - before >= 2, 2000);
    const back = nextEvent(c, 'online');
    gw.server.getConnection('tls-1')!.socket.destroy();
    await back;
  });

  it('a certificate it does not trust is a failed attempt, with the reason', async () => {
    const c = new LongLinkClient({ host: 'localhost', port: gw.tcpPort, clientId: 'tls-2', tls: true, ...FAST, reconnect: { maxAttempts: 0 } });
    clients.push(c);
    const failed = nextEvent(c, 'reconnect_failed');
    await expect(c.connect()).rejects.toThrow(ClientClosedError);
    expect((await failed).reason).toMatch(/self[- ]signed certificate/i);
    expect(c.status).toBe('closed');
  });
});
