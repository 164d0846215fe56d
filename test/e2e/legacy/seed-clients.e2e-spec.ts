import { once } from 'node:events';
import * as net from 'node:net';
import { PresenceService } from '../../../src/presence/presence.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { api, first, TOKEN } from '../admin/admin-helpers';

/**
 * Issue 9: the clients fleets run today, served unmodified. The bytes are
 * exactly theirs; the sockets are plain net.Sockets that never read unless
 * the client does.
 */

/** `struct.pack("!i", len)` + a JSON *string* holding an object with no type and no code (68 = 0x44 characters). */
const STRUCT_HEARTBEAT = Buffer.concat([
  Buffer.from([0x00, 0x00, 0x00, 0x44]),
  Buffer.from('"{\\"ip\\": \\"192.168.1.105\\", \\"status\\": \\"alive\\", \\"pid\\": 26464}"'),
]);

async function connect(gw: TestGateway): Promise<net.Socket> {
  const socket = net.connect(gw.tcpPort, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

describe('seed-style clients (issue 9), over real sockets', () => {
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
  });

  it('the exact struct heartbeat is 4 + 68 bytes', () => {
    expect(STRUCT_HEARTBEAT.length).toBe(72);
    expect(STRUCT_HEARTBEAT.readUInt32BE(0)).toBe(0x44);
  });

  it('typeless struct heartbeats: 1,000 while never reading, 0 bytes written, alive with its fields, leave when it stops', async () => {
    // The tightest counter: one silent window means leave.
    // The real client sends one every 10 s; this one sends its 1,000 at once, so
    // the per-connection message rate (tested in test/e2e/hardening) is off here.
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, HEARTBEAT_MS: 200, CURSOR_START: 0, CURSOR_LIMIT: 1, LEAVE_STRIKES: 1, RECOVER_WINDOWS: 1, SERVER_PING_MS: 50, CONN_MSG_RATE: 0 });
    const socket = await connect(gw);
    socket.pause(); // it never reads
    const clientId = `127.0.0.1:${socket.localPort}`;
    const presence = gw.app.get(PresenceService);
    const heartsBefore = gw.server.stats.heartbeats;
    for (let i = 0; i < 1000; i += 100) socket.write(Buffer.concat(Array.from({ length: 100 }, () => STRUCT_HEARTBEAT)));
    while (gw.server.stats.heartbeats - heartsBefore < 1000) await new Promise((r) => setTimeout(r, 5));
    // Probes are due every 50 ms for a client we send nothing to: a one-way one gets none.
    await new Promise((r) => setTimeout(r, 120));
    const conn = gw.server.getConnection(clientId);
    expect(conn?.oneWay).toBe(true);
    expect(conn?.socket.bytesWritten).toBe(0);
    const record = await api(gw).get(`/clients/${encodeURIComponent(clientId)}`).expect(200);
    expect(record.body).toMatchObject({ status: 'alive', connected: true, reported: { ip: '192.168.1.105', status: 'alive', pid: 26464 } });
    // It stops (the socket stays open): leave after a silent window.
    const left = first(presence.events$, (e) => e.clientId === clientId && e.to === 'leave');
    expect(await left).toMatchObject({ from: 'alive', to: 'leave' });
    expect(gw.server.getConnection(clientId)?.socket.bytesWritten).toBe(0);
    socket.destroy();
  });

  it('typeless heartbeats with auth on: NOT_LOGGED_IN as today', async () => {
    gw = await startTestGateway({ AUTH_MODE: 'token', AUTH_TOKEN: 'secret' });
    const socket = await connect(gw);
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.write(STRUCT_HEARTBEAT);
    await once(socket, 'close');
    const answer = Buffer.concat(chunks);
    const body = JSON.parse(answer.subarray(4, 4 + answer.readUInt32BE(0)).toString());
    expect(body).toMatchObject({ type: 'ERROR', code: 'NOT_LOGGED_IN' });
  });

  it('line JSON with `code`: LOGIN, HEART with fields and BYE, answered under `code`', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    // A client that keeps its side half-open after BYE, as the legacy one does.
    const socket = net.connect({ port: gw.tcpPort, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    const lines = async (n: number) => {
      while (text.split('\n').length - 1 < n) await new Promise((r) => setTimeout(r, 5));
      return text.trim().split('\n').map((l) => JSON.parse(l));
    };
    socket.write('{"code": "LOGIN", "clientId": "py-line-1"}\n');
    socket.write('{"code": "HEART", "status": "ok", "pid": 4242}\n');
    const [login, heart] = await lines(2);
    expect(login).toMatchObject({ code: 'LOGIN', ok: true, clientId: 'py-line-1' });
    expect(heart).toMatchObject({ code: 'HEART', ok: true });
    expect((await api(gw).get('/clients/py-line-1').expect(200)).body).toMatchObject({ status: 'alive', reported: { status: 'ok', pid: 4242 } });
    // BYE ends the session when it is read, though the client keeps its socket half-open.
    const presence = gw.app.get(PresenceService);
    const closed = first(presence.events$, (e) => e.clientId === 'py-line-1' && e.to === 'close');
    const ended = once(socket, 'end');
    socket.write('{"code": "BYE"}\n');
    expect(await closed).toMatchObject({ from: 'alive', to: 'close', reason: 'logout' });
    expect((await api(gw).get('/clients/py-line-1').expect(200)).body).toMatchObject({ status: 'close', closeReason: 'logout', connected: false });
    // The server ends the socket (and destroys it after a short grace if the peer holds it).
    await ended;
    socket.destroy();
  });
});
