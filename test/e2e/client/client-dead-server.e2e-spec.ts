import { LongLinkClient, RequestTimeoutError } from '../../../src/client';
import { FakeServer } from './fake-server';
import { FAST, nextEvent, nextStatus } from './helpers';

/**
 * Servers that stop answering: the client must notice on its own, because a
 * server that vanished without a FIN (power cut, cable, NAT drop) leaves a
 * half-open socket that TCP alone reports only after many minutes.
 */
describe('LongLinkClient: dead and silent servers', () => {
  let fake: FakeServer;
  let client: LongLinkClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await fake.close();
  });

  it('detects a server that answers LOGIN and then nothing, within heartbeatTimeoutMs of a HEART, and reconnects', async () => {
    fake = await FakeServer.start({ heartbeatMs: 40 });
    client = new LongLinkClient({ host: '127.0.0.1', port: fake.port, clientId: 'half-open-1', ...FAST });
    await client.connect();
    const first = await fake.peer(0);
    const heart = await first.next('HEART');
    const heartAt = performance.now();
    const lost = await nextStatus(client, 'reconnecting');
    const detectedAfter = performance.now() - heartAt;
    // Default timeout: 2.5 × the server's 40 ms = 100 ms after the first unanswered HEART.
    expect(heart).toEqual({ type: 'HEART' });
    expect(lost.from).toBe('online');
    const silent = /^no frame from the server within heartbeatTimeoutMs \(100 ms\) after a HEART \(silent for (\d+) ms\)$/.exec(lost.reason);
    expect(silent).not.toBeNull();
    expect(Number(silent![1])).toBeGreaterThanOrEqual(100);
    // Measured here from the HEART's arrival: not before the timeout, and soon after it (slack for a loaded CI box).
    expect(detectedAfter).toBeGreaterThanOrEqual(95);
    expect(detectedAfter).toBeLessThan(100 + 200);
    await first.closed; // the dead socket was destroyed, not left behind
    // It reconnected and logged in again on a new connection.
    const second = await fake.peer(1);
    expect(await second.next('LOGIN')).toMatchObject({ type: 'LOGIN', clientId: 'half-open-1' });
    await nextStatus(client, 'online');
    expect(fake.peers.length).toBe(2);
  });

  it('any frame from the server counts as life: probes keep a client that gets no HEART replies online', async () => {
    fake = await FakeServer.start({ heartbeatMs: 40 });
    client = new LongLinkClient({ host: '127.0.0.1', port: fake.port, clientId: 'probed-1', ...FAST });
    await client.connect();
    const peer = await fake.peer(0);
    // The server never answers HEART but probes every 20 ms; each probe is answered with HEART ok:true.
    const probes = setInterval(() => peer.send({ type: 'HEART', serverTime: Date.now() }), 20);
    try {
      for (let i = 0; i < 6; i++) {
        // 6 HEARTs ≈ 240 ms, well past the 100 ms timeout of a silent server.
        await peer.next('HEART', (f) => f.ok === undefined);
      }
    } finally {
      clearInterval(probes);
    }
    expect(client.status).toBe('online');
    const answers = peer.frames.filter((f) => f.type === 'HEART' && f.ok === true);
    expect(answers.length).toBeGreaterThanOrEqual(5);
    expect(answers[0]).toEqual({ type: 'HEART', ok: true });
    expect(fake.peers.length).toBe(1);
  });

  it('gives up on a server that accepts but never answers LOGIN after connectTimeoutMs, and retries', async () => {
    fake = await FakeServer.start({ answerLogin: false });
    client = new LongLinkClient({ host: '127.0.0.1', port: fake.port, clientId: 'mute-1', ...FAST, connectTimeoutMs: 80 });
    void client.connect().catch(() => undefined);
    const lost = await nextStatus(client, 'reconnecting');
    expect(lost).toEqual({ from: 'connecting', to: 'reconnecting', reason: 'not logged in within connectTimeoutMs (80 ms)' });
    expect(await (await fake.peer(1)).next('LOGIN')).toMatchObject({ clientId: 'mute-1' });
  });

  it('send() rejects after requestTimeoutMs when the reply never comes', async () => {
    fake = await FakeServer.start({ heartbeatMs: 10_000 });
    client = new LongLinkClient({ host: '127.0.0.1', port: fake.port, clientId: 'req-1', ...FAST, requestTimeoutMs: 60 });
    await client.connect();
    const started = performance.now();
    const error = await client.send('slow.pattern', { q: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toBe("no reply to MSG 'slow.pattern' within requestTimeoutMs (60 ms)");
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    const msg = await (await fake.peer(0)).next('MSG');
    expect(msg).toMatchObject({ type: 'MSG', pattern: 'slow.pattern', data: { q: 1 } });
    // A late reply to a timed-out request is dropped quietly.
    (await fake.peer(0)).send({ type: 'MSG', id: msg.id, ok: true, data: 'late' });
  });

  it('a request written on a connection that then drops rejects with ConnectionLostError', async () => {
    fake = await FakeServer.start({ heartbeatMs: 10_000 });
    client = new LongLinkClient({ host: '127.0.0.1', port: fake.port, clientId: 'req-2', ...FAST });
    await client.connect();
    const reply = client.send('will.be.cut').catch((e: unknown) => e);
    const peer = await fake.peer(0);
    await peer.next('MSG');
    peer.socket.destroy();
    expect(await reply).toMatchObject({ name: 'ConnectionLostError', code: 'CONNECTION_LOST' });
    await nextEvent(client, 'online');
  });
});
