import { once } from 'node:events';
import * as net from 'node:net';
import { LimitHits } from '../../../src/admission/limit-hits';
import { SESSION_CONTROL, SessionControl } from '../../../src/common/ports';
import type { Connection } from '../../../src/transport/connection';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { api, TOKEN } from '../admin/admin-helpers';

/**
 * Issue 9, the write side: a one-way client never reads, so nothing the
 * gateway says of its own accord (ERROR, KICK) is written to it. The limits
 * still hold (it is closed when they are broken) and what was withheld is
 * counted. Only commands, which the sender chooses to push, reach it.
 *
 * Every socket here is a plain net.Socket that does not read while it
 * sends; once the gateway has closed it, it reads whatever was written and
 * that must be nothing.
 */

/** A length-prefixed frame. */
const frame = (body: string) => {
  const b = Buffer.from(body);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(b.length);
  return Buffer.concat([header, b]);
};
const TYPELESS = frame('{"ip": "192.168.1.105", "status": "alive", "pid": 26464}');

interface OneWayClient {
  socket: net.Socket;
  conn: Connection;
  /** Everything the gateway wrote, read once it closed the socket. */
  received(): Promise<Buffer>;
}

/** A one-way client: connected, one typeless heartbeat sent (so it is logged in as ip:port and one-way), never reading. */
async function oneWay(gw: TestGateway): Promise<OneWayClient> {
  const socket = net.connect(gw.tcpPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.pause();
  socket.write(TYPELESS);
  const clientId = `127.0.0.1:${socket.localPort}`;
  let conn: Connection | undefined;
  while ((conn = gw.server.getConnection(clientId)) === undefined) await new Promise((r) => setTimeout(r, 5));
  expect(conn.oneWay).toBe(true);
  return {
    socket,
    conn,
    received: async () => {
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      const closed = once(socket, 'close');
      socket.resume();
      await closed;
      return Buffer.concat(chunks);
    },
  };
}

describe('one-way connections are written nothing but commands (issue 9), over real sockets', () => {
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
  });

  it('over CONN_MSG_RATE: no ERROR RATE_LIMITED, the limit still holds (closed after RATE_LIMIT_STRIKES), counted', async () => {
    gw = await startTestGateway({ CONN_MSG_RATE: 10, CONN_MSG_BURST: 5, RATE_LIMIT_STRIKES: 3 });
    const hits = gw.app.get(LimitHits).counts;
    const before = { msgRate: hits.msg_rate, closes: hits.rate_limit_close, withheld: gw.server.stats.framesWithheld };
    const client = await oneWay(gw);
    client.socket.write(Buffer.concat(Array.from({ length: 50 }, () => TYPELESS)));
    const received = await client.received();
    expect(received.length).toBe(0);
    expect(client.conn.socket.bytesWritten).toBe(0);
    expect(client.conn.closeReason).toBe('rate_limited');
    // Burst 5 (one used by the first heartbeat): refused from about the 6th frame on, the 4th strike in a row closes.
    const refused = hits.msg_rate - before.msgRate;
    expect(refused).toBeGreaterThanOrEqual(4);
    expect(hits.rate_limit_close - before.closes).toBe(1);
    // Every refusal would have been an ERROR RATE_LIMITED.
    expect(gw.server.stats.framesWithheld - before.withheld).toBe(refused);
  });

  it('bad frames: no ERROR BAD_JSON, closed after MAX_BAD_FRAMES in a row, counted', async () => {
    gw = await startTestGateway({ MAX_BAD_FRAMES: 2 });
    const client = await oneWay(gw);
    const before = { bad: gw.server.stats.badFrames, withheld: gw.server.stats.framesWithheld };
    client.socket.write(Buffer.concat([frame('{nope'), frame('[1]'), frame('{"ip":')]));
    const received = await client.received();
    expect(received.length).toBe(0);
    expect(client.conn.closeReason).toBe('too_many_bad_frames');
    expect(gw.server.stats.badFrames - before.bad).toBe(3);
    expect(gw.server.stats.framesWithheld - before.withheld).toBe(3);
  });

  it('a frame over MAX_FRAME_BYTES: no ERROR FRAME_TOO_LARGE, closed', async () => {
    gw = await startTestGateway({ MAX_FRAME_BYTES: 1024 });
    const client = await oneWay(gw);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1 << 20);
    client.socket.write(header);
    expect((await client.received()).length).toBe(0);
    expect(client.conn.closeReason).toBe('frame_too_large');
  });

  it('FRAME_BUDGET: a read of 500 heartbeats yields and is handled in full, and writes nothing', async () => {
    gw = await startTestGateway({ FRAME_BUDGET: 4, CONN_MSG_RATE: 0 });
    const budget = gw.app.get(LimitHits).counts;
    const spentBefore = budget.frame_budget;
    const client = await oneWay(gw);
    const hearts = gw.server.stats.heartbeats;
    client.socket.write(Buffer.concat(Array.from({ length: 500 }, () => TYPELESS)));
    while (gw.server.stats.heartbeats - hearts < 500) await new Promise((r) => setTimeout(r, 5));
    expect(budget.frame_budget).toBeGreaterThan(spentBefore);
    expect(client.conn.closed).toBe(false);
    client.socket.end();
    expect((await client.received()).length).toBe(0);
  });

  it('a kick (admin, leave timeout, shutdown) closes it without a KICK frame, counted', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    const admin = await oneWay(gw);
    await api(gw).delete(`/clients/${encodeURIComponent(admin.conn.clientId!)}`).expect(200);
    expect((await admin.received()).length).toBe(0);
    expect(admin.conn.closeReason).toBe('kicked');
    const timedOut = await oneWay(gw);
    await gw.app.get<SessionControl>(SESSION_CONTROL).kick(timedOut.conn.clientId!, 'timeout');
    expect((await timedOut.received()).length).toBe(0);
    const atShutdown = await oneWay(gw);
    const withheld = gw.server.stats.framesWithheld;
    const received = atShutdown.received();
    await gw.close();
    expect((await received).length).toBe(0);
    expect(atShutdown.conn.closeReason).toBe('shutdown');
    expect(gw.server.stats.framesWithheld - withheld).toBe(1);
  });

  it('a command is still pushed to it: the sender chooses', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    const client = await oneWay(gw);
    const clientId = client.conn.clientId!;
    await api(gw).post(`/clients/${encodeURIComponent(clientId)}/commands`).send({ name: 'reboot', data: { in: 5 } }).expect(202);
    while (client.conn.socket.bytesWritten === 0) await new Promise((r) => setTimeout(r, 5));
    client.socket.end();
    const received = await client.received();
    const body = JSON.parse(received.subarray(4, 4 + received.readUInt32BE(0)).toString());
    expect(body).toMatchObject({ type: 'CMD', name: 'reboot', data: { in: 5 } });
    expect(received.length).toBe(4 + received.readUInt32BE(0));
  });

  it('the metric longlink_one_way_frames_withheld_total counts what was not written', async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_BAD_FRAMES: 0 });
    const client = await oneWay(gw);
    client.socket.write(frame('{nope'));
    expect((await client.received()).length).toBe(0);
    const text = (await api(gw).get('/metrics').expect(200)).text;
    expect(text).toMatch(/^longlink_one_way_frames_withheld_total 1$/m);
  });
});
