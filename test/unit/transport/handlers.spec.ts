import { once } from 'node:events';
import * as net from 'node:net';
import { Logger } from '@nestjs/common';
import { AdmissionControl } from '../../../src/admission/admission-control';
import { LimitHits } from '../../../src/admission/limit-hits';
import { FakeClock } from '../../../src/common/clock';
import { configFrom } from '../../../src/config';
import type { AuthResult, ClientAuthenticator } from '../../../src/transport/client-authenticator';
import { Connection, ConnectionHandler } from '../../../src/transport/connection';
import { FrameRouter } from '../../../src/transport/handlers';
import { LoginGate } from '../../../src/transport/login-gate';
import { Replies } from '../../../src/transport/replies';
import { SessionRegistry } from '../../../src/transport/session-registry';
import type { PatternHandlers, TransportContext } from '../../../src/transport/transport-context';
import { TransportEventBus } from '../../../src/transport/transport-event-bus';
import { TransportStats } from '../../../src/transport/transport-stats';
import type { LoginEvent } from '../../../src/transport/transport.events';

/** An authenticator that answers at once (ok) or when the test says so. */
class ScriptedAuthenticator implements ClientAuthenticator {
  pending: Array<(r: AuthResult) => void> = [];
  async = false;
  authenticate(req: { clientId?: string }): AuthResult | Promise<AuthResult> {
    const result: AuthResult = { ok: true, clientId: req.clientId ?? 'anon' };
    if (!this.async) return result;
    return new Promise((resolve) => this.pending.push(() => resolve(result)));
  }
}

const noPatterns: PatternHandlers = {
  getHandlerByPattern: () => null,
  handleEvent: async () => undefined,
  transformToObservable: ((x: unknown) => x) as PatternHandlers['transformToObservable'],
};

/** The handlers wired as LongLinkServer wires them, over real sockets, on a fake clock. */
async function rig(env: Record<string, string | number> = {}) {
  const clock = new FakeClock();
  const stats = new TransportStats();
  const logger = new Logger('test');
  const config = configFrom({ HEARTBEAT_MS: 10_000, ...env });
  const limitHits = new LimitHits();
  const sessions = new SessionRegistry();
  const ctx: TransportContext = {
    config,
    clock,
    stats,
    logger,
    sessions,
    replies: new Replies(config, stats, logger),
    events: new TransportEventBus(logger),
    patterns: noPatterns,
    limitHits,
    admission: new AdmissionControl(config, clock, limitHits),
    endSession: (conn) => void sessions.release(conn),
  };
  const auth = new ScriptedAuthenticator();
  let gate!: LoginGate;
  const router = new FrameRouter(ctx, () => gate);
  gate = new LoginGate(ctx, auth, (conn, frame) => router.replay(conn, frame));
  const handler: ConnectionHandler = {
    onMessage: (c, m) => router.onMessage(c, m),
    onEmptyFrame: (c) => router.onEmptyFrame(c),
    onBadFrame: (c, code, detail) => router.onBadFrame(c, code, detail),
    onFrameTooLarge: (c) => c.close('frame_too_large'),
    onInternalError: (c) => c.close('internal_error'),
    onOutboundOverflow: () => undefined,
    onClosed: (c) => void ctx.sessions.release(c),
    now: () => clock.now(),
  };
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const peers: net.Socket[] = [];
  /** A connected client: its socket, the server's Connection, and the lines it received. */
  async function client() {
    const peer = net.connect(port, '127.0.0.1');
    peers.push(peer);
    const [socket] = (await once(server, 'connection')) as [net.Socket];
    const conn = new Connection(socket, handler, { maxFrameBytes: 4096, maxOutboundBytes: 1 << 20, closeFlushMs: 100, stats });
    const lines: Array<Record<string, unknown>> = [];
    let buffered = '';
    peer.on('data', (d) => {
      buffered += d.toString();
      let i: number;
      while ((i = buffered.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffered.slice(0, i)));
        buffered = buffered.slice(i + 1);
      }
    });
    const send = (m: object) => peer.write(JSON.stringify(m) + '\n');
    const receive = async (n: number) => {
      while (lines.length < n) await new Promise((r) => setTimeout(r, 2));
      return lines;
    };
    return { peer, conn, lines, send, receive };
  }
  const close = async () => {
    for (const p of peers) p.destroy();
    server.close();
  };
  return { ctx, clock, stats, auth, client, close };
}

describe('transport handlers (FrameRouter, LoginGate, HEART) on a fake clock', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('LOGIN: answered with the session, registered, one login event of plain data', async () => {
    const r = await rig();
    const events: LoginEvent[] = [];
    r.ctx.events.on('login', (e) => events.push(e));
    const c = await r.client();
    c.send({ type: 'LOGIN', clientId: 'dev-1', meta: { fw: 1 } });
    const [reply] = await c.receive(1);
    expect(reply).toMatchObject({ type: 'LOGIN', ok: true, clientId: 'dev-1', heartbeatMs: 10_000, serverTime: r.clock.now() });
    expect(r.ctx.sessions.get('dev-1')).toBe(c.conn);
    expect(events).toEqual([expect.objectContaining({ clientId: 'dev-1', sessionId: reply.sessionId, meta: { fw: 1 }, implicit: false, replacedSessionId: undefined })]);
    expect(Object.values(events[0]).some((v) => v instanceof Connection)).toBe(false);
    await r.close();
  });

  it('takeover: the second LOGIN of a clientId gets the session, the first gets KICK replaced', async () => {
    const r = await rig();
    const a = await r.client();
    a.send({ type: 'LOGIN', clientId: 'twin' });
    await a.receive(1);
    const b = await r.client();
    b.send({ type: 'LOGIN', clientId: 'twin' });
    await b.receive(1);
    expect(await a.receive(2)).toEqual([expect.objectContaining({ type: 'LOGIN' }), { type: 'KICK', reason: 'replaced' }]);
    expect(a.conn.closed).toBe(true);
    expect(r.ctx.sessions.get('twin')).toBe(b.conn);
    await r.close();
  });

  it('HEART: answered with the read time, one buffer per millisecond, fields kept; a HEART with ok is not answered', async () => {
    const r = await rig();
    const c = await r.client();
    c.send({ type: 'LOGIN', clientId: 'h-1' });
    await c.receive(1);
    r.clock.advance(1234);
    c.send({ type: 'HEART', ok: true });
    c.send({ type: 'HEART', pid: 42 });
    const lines = await c.receive(2);
    expect(lines[1]).toEqual({ type: 'HEART', ok: true, serverTime: r.clock.now() });
    expect(lines).toHaveLength(2);
    expect(c.conn.reported).toEqual({ type: 'HEART', pid: 42 });
    expect(c.conn.lastHeartbeatAt).toBe(r.clock.now());
    expect(r.stats.heartbeats).toBe(2);
    await r.close();
  });

  it('holds frames behind an asynchronous LOGIN check and answers them after the LOGIN, in order', async () => {
    const r = await rig();
    r.auth.async = true;
    const c = await r.client();
    // One write, so one read: once the check is pending, all three frames were seen (two held).
    c.peer.write([{ type: 'LOGIN', clientId: 'slow-1' }, { type: 'HEART' }, { type: 'NOPE' }].map((m) => JSON.stringify(m) + '\n').join(''));
    while (r.auth.pending.length === 0) await new Promise((res) => setTimeout(res, 2));
    expect(c.conn.authenticating).toBe(true);
    expect(c.lines).toEqual([]);
    r.auth.pending[0]({ ok: true, clientId: 'slow-1' });
    const lines = await c.receive(3);
    expect(lines.map((l) => l.type)).toEqual(['LOGIN', 'HEART', 'ERROR']);
    expect(lines[2]).toMatchObject({ code: 'UNKNOWN_TYPE' });
    await r.close();
  });

  it('before LOGIN with auth on: NOT_LOGGED_IN and close; BYE closes as logout', async () => {
    const r = await rig({ AUTH_MODE: 'token', AUTH_TOKEN: 'secret' });
    const c = await r.client();
    c.send({ type: 'HEART' });
    expect(await c.receive(1)).toEqual([expect.objectContaining({ type: 'ERROR', code: 'NOT_LOGGED_IN' })]);
    expect(c.conn.closeReason).toBe('not_logged_in');
    const d = await r.client();
    d.send({ type: 'BYE' });
    while (!d.conn.closed) await new Promise((res) => setTimeout(res, 2));
    expect(d.conn.closeReason).toBe('logout');
    await r.close();
  });

  it('bad frames: ERROR each, and the one after MAX_BAD_FRAMES closes', async () => {
    const r = await rig({ MAX_BAD_FRAMES: 2 });
    const c = await r.client();
    for (let i = 0; i < 3; i++) c.send({ type: 'NOPE' });
    await c.receive(3);
    expect(c.conn.closeReason).toBe('too_many_bad_frames');
    expect(r.stats.badFrames).toBe(3);
    await r.close();
  });
});
