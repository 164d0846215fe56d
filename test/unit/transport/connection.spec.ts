import { once } from 'node:events';
import * as net from 'node:net';
import { FakeClock } from '../../../src/common/clock';
import type { BadFrameCode, FrameTooLargeException } from '../../../src/transport/codec';
import { Connection, ConnectionHandler } from '../../../src/transport/connection';
import { TransportStats } from '../../../src/transport/transport-stats';

/** Records what the connection reports; its clock is fake. */
class RecordingHandler implements ConnectionHandler {
  readonly clock = new FakeClock();
  readonly messages: Array<Record<string, unknown>> = [];
  readonly closed: string[] = [];
  readonly bad: BadFrameCode[] = [];
  onMessage(_c: Connection, m: Record<string, unknown>): void {
    this.messages.push(m);
  }
  onEmptyFrame(): void {}
  onBadFrame(_c: Connection, code: BadFrameCode): void {
    this.bad.push(code);
  }
  onFrameTooLarge(conn: Connection, _e: FrameTooLargeException): void {
    conn.close('frame_too_large');
  }
  onInternalError(conn: Connection): void {
    conn.close('internal_error');
  }
  onOutboundOverflow(): void {}
  onClosed(_c: Connection, reason: string): void {
    this.closed.push(reason);
  }
  now(): number {
    return this.clock.now();
  }
}

/** A real socket pair on 127.0.0.1: the server side wrapped in a Connection. */
async function pair(handler: RecordingHandler, stats = new TransportStats()): Promise<{ conn: Connection; peer: net.Socket; done: () => Promise<void> }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const peer = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  const conn = new Connection(socket, handler, { maxFrameBytes: 1024, maxOutboundBytes: 1 << 20, closeFlushMs: 100, stats });
  return {
    conn,
    peer,
    done: async () => {
      peer.destroy();
      socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('Connection (real socket pair, fake clock)', () => {
  it('moves open -> authenticating -> open -> ready -> closed, only through its own methods', async () => {
    const handler = new RecordingHandler();
    const { conn, done } = await pair(handler);
    expect(conn.state).toBe('open');
    conn.beginAuthentication();
    expect([conn.state, conn.authenticating, conn.loggedIn]).toEqual(['authenticating', true, false]);
    conn.endAuthentication();
    expect(conn.state).toBe('open');
    conn.login('dev-1', 'session-1');
    expect([conn.state, conn.loggedIn, conn.clientId, conn.sessionId]).toEqual(['ready', true, 'dev-1', 'session-1']);
    conn.close('logout');
    expect([conn.state, conn.closed, conn.closeReason]).toEqual(['closed', true, 'logout']);
    // Closed is final, and close is idempotent: the first reason stays.
    conn.close('kicked');
    conn.beginAuthentication();
    expect([conn.state, conn.closeReason]).toEqual(['closed', 'logout']);
    await done();
  });

  it('stamps lastReadAt with the clock of each read, and lastHeartbeatAt from it (no clock call per frame)', async () => {
    const handler = new RecordingHandler();
    const { conn, peer, done } = await pair(handler);
    const t0 = handler.clock.now();
    expect(conn.lastReadAt).toBe(t0);
    handler.clock.advance(5000);
    peer.write('{"type":"HEART"}\n{"type":"HEART"}\n');
    while (handler.messages.length < 2) await new Promise((r) => setImmediate(r));
    expect(conn.lastReadAt).toBe(t0 + 5000);
    expect(conn.lastHeartbeatAt).toBe(0);
    handler.clock.advance(1000);
    conn.noteHeartbeat();
    expect(conn.lastHeartbeatAt).toBe(t0 + 5000); // the read's time, not the clock's now
    await done();
  });

  it('counts every frame it writes, and writes nothing once closed', async () => {
    const handler = new RecordingHandler();
    const stats = new TransportStats();
    const { conn, peer, done } = await pair(handler, stats);
    peer.write('{'); // line framing from the first byte
    while (conn.detectedFraming === undefined) await new Promise((r) => setImmediate(r));
    conn.send('HEART', { ok: true });
    conn.sendJson('{"type":"CMD","id":"c1","name":"x"}');
    expect(stats.framesOut).toBe(2);
    conn.close('kicked');
    expect(conn.send('HEART')).toBe(false);
    expect(stats.framesOut).toBe(2);
    await done();
  });

  it('holds at most `max` frames during a LOGIN check and hands them back in order', async () => {
    const handler = new RecordingHandler();
    const { conn, done } = await pair(handler);
    expect(conn.hold({ kind: 'empty' }, 2)).toBe(true);
    expect(conn.hold({ kind: 'message', message: { type: 'HEART' } }, 2)).toBe(true);
    expect(conn.hold({ kind: 'empty' }, 2)).toBe(false);
    expect(conn.takeHeld().map((f) => f.kind)).toEqual(['empty', 'message']);
    expect(conn.takeHeld()).toEqual([]);
    await done();
  });

  it('reports close once, with the peer_closed reason when the peer went first', async () => {
    const handler = new RecordingHandler();
    const { conn, peer, done } = await pair(handler);
    peer.end();
    while (handler.closed.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(handler.closed).toEqual(['peer_closed']);
    expect(conn.closed).toBe(true);
    await done();
  });

  it('counts bad frames in a row until a good one resets them', async () => {
    const handler = new RecordingHandler();
    const { conn, done } = await pair(handler);
    expect([conn.countBadFrame(), conn.countBadFrame()]).toEqual([1, 2]);
    conn.resetBadFrames();
    expect(conn.badFrames).toBe(0);
    await done();
  });
});
