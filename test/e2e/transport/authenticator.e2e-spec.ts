import { Injectable } from '@nestjs/common';
import type { AuthRequest, AuthResult, ClientAuthenticator } from '../../../src/transport/client-authenticator';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { ClientPool, lengthFrame, serverClose, serverSideOf } from './helpers';

/**
 * The checks a test holds open: each authenticate() call waits here until the
 * test releases it, so frames can be sent while the LOGIN is still undecided.
 */
class Gate {
  private calls: Array<{ request: AuthRequest; release: (r: AuthResult | Error) => void }> = [];
  private waiters: Array<(call: { request: AuthRequest; release: (r: AuthResult | Error) => void }) => void> = [];

  check(request: AuthRequest): Promise<AuthResult> {
    return new Promise((resolve, reject) => {
      const call = { request, release: (r: AuthResult | Error) => (r instanceof Error ? reject(r) : resolve(r)) };
      const waiter = this.waiters.shift();
      if (waiter) waiter(call);
      else this.calls.push(call);
    });
  }

  /** The next authenticate() call (already made or to come). */
  next(): Promise<{ request: AuthRequest; release: (r: AuthResult | Error) => void }> {
    const call = this.calls.shift();
    if (call) return Promise.resolve(call);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

const gate = new Gate();

/** An application's own check (think database or JWT): asynchronous, maps tokens to ids. */
@Injectable()
class TicketAuthenticator implements ClientAuthenticator {
  authenticate(request: AuthRequest): Promise<AuthResult> {
    return gate.check(request);
  }
}

describe('transport: a custom asynchronous ClientAuthenticator', () => {
  let gw: TestGateway;
  const pool = new ClientPool(() => gw.tcpPort);

  beforeAll(async () => {
    gw = await startTestGateway({ AUTH_MODE: 'none' }, { authenticator: TicketAuthenticator });
  });
  afterEach(() => pool.closeAll());
  afterAll(() => gw.close());

  it('is asked, and its clientId is the one the session runs under', async () => {
    const c = await pool.connect();
    c.send({ type: 'LOGIN', clientId: 'dev-1', token: 'ticket-1', meta: { fw: '1.2' } });
    const call = await gate.next();
    expect(call.request).toMatchObject({ clientId: 'dev-1', token: 'ticket-1', meta: { fw: '1.2' }, remoteAddress: '127.0.0.1', remotePort: c.socket.localPort });
    call.release({ ok: true, clientId: 'tenant-9:dev-1' });
    expect(await c.nextOfType('LOGIN')).toMatchObject({ ok: true, clientId: 'tenant-9:dev-1' });
    expect(gw.server.getConnection('tenant-9:dev-1')?.remotePort).toBe(c.socket.localPort);
  });

  it('handles frames sent right behind the LOGIN after it, in the order they came', async () => {
    const c = await pool.connect();
    // LOGIN, a HEART with state, a zero-length heartbeat, bad JSON and a second HEART, in one write.
    c.writeRaw(
      Buffer.concat([
        lengthFrame(JSON.stringify({ type: 'LOGIN', clientId: 'dev-2', token: 't' })),
        lengthFrame(JSON.stringify({ type: 'HEART', status: 'held' })),
        Buffer.alloc(4),
        lengthFrame('{not json'),
        lengthFrame(JSON.stringify({ type: 'HEART' })),
      ]),
    );
    const call = await gate.next();
    // The check is still running: nothing may have been answered, nothing logged in.
    expect(gw.server.getConnection('dev-2')).toBeUndefined();
    call.release({ ok: true, clientId: 'dev-2' });
    expect(await c.next()).toMatchObject({ type: 'LOGIN', ok: true, clientId: 'dev-2' });
    expect(await c.next()).toMatchObject({ type: 'HEART', ok: true });
    expect(await c.next()).toBe('EMPTY');
    expect(await c.next()).toMatchObject({ type: 'ERROR', code: 'BAD_JSON' });
    expect(await c.next()).toMatchObject({ type: 'HEART', ok: true });
    expect(gw.server.getConnection('dev-2')?.reported).toMatchObject({ status: 'held' });
  });

  it('a refusal is LOGIN ok:false AUTH_FAILED with its message, then close; held frames are dropped', async () => {
    const c = await pool.connect('line');
    c.send({ type: 'LOGIN', clientId: 'dev-3', token: 'bad' });
    c.send({ type: 'HEART' });
    const call = await gate.next();
    call.release({ ok: false, message: 'ticket expired' });
    expect(await c.next()).toEqual({ type: 'LOGIN', ok: false, error: { code: 'AUTH_FAILED', message: 'ticket expired' } });
    await c.waitClosed();
    expect(c.frames).toEqual([]);
  });

  it('a rejected check counts as a refusal, not a crash', async () => {
    const c = await pool.connect();
    const closed = serverClose(gw, serverSideOf(c));
    c.send({ type: 'LOGIN', clientId: 'dev-4', token: 'x' });
    (await gate.next()).release(new Error('database down'));
    expect(await c.nextOfType('LOGIN')).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED', message: expect.stringContaining('database down') } });
    expect((await closed).event.reason).toBe('auth_failed');
  });

  it('is asked for an implicit login too (AUTH_MODE=none, HEART first), and can refuse it', async () => {
    const c = await pool.connect();
    c.send({ type: 'HEART', clientId: 'sneaky-1' });
    const call = await gate.next();
    expect(call.request).toMatchObject({ clientId: 'sneaky-1', token: undefined });
    call.release({ ok: false, message: 'LOGIN with a ticket first' });
    expect(await c.nextOfType('ERROR')).toMatchObject({ code: 'AUTH_FAILED', message: 'LOGIN with a ticket first' });
    await c.waitClosed();
    expect(gw.server.getConnection('sneaky-1')).toBeUndefined();
  });

  it('an implicit login it accepts answers the HEART that triggered it', async () => {
    const c = await pool.connect();
    c.send({ type: 'HEART', clientId: 'quiet-1' });
    (await gate.next()).release({ ok: true, clientId: 'quiet-1' });
    expect(await c.nextOfType('HEART')).toMatchObject({ ok: true });
    expect(gw.server.getConnection('quiet-1')?.loggedIn).toBe(true);
  });
});
