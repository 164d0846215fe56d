import * as net from 'node:net';
import { LongLinkClient } from '../../../src/client';
import { resolveClientOptions } from '../../../src/client/client-options';
import type { ClientSocket } from '../../../src/client/client-socket';
import { ReconnectHost, ReconnectLoop } from '../../../src/client/reconnect-loop';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

class RecordingHost implements ReconnectHost {
  readonly calls: string[] = [];
  reconnect(): void {
    this.calls.push('reconnect');
  }
  reconnectScheduled(attempt: number, delayMs: number, reason: string): void {
    this.calls.push(`scheduled ${attempt} ${delayMs} ${reason}`);
  }
  reconnectFailed(attempts: number, reason: string, why: string): void {
    this.calls.push(`failed ${attempts} ${reason} | ${why}`);
  }
}

describe('ReconnectLoop (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const loop = (reconnect: Parameters<typeof resolveClientOptions>[0]['reconnect'], host = new RecordingHost()) => ({
    host,
    loop: new ReconnectLoop(resolveClientOptions({ host: '127.0.0.1', port: 1, clientId: 'c1', connectTimeoutMs: 100, reconnect }), host),
  });

  it('schedules attempt 1, 2, … with the backoff delay, reconnects when it is over, gives up after maxAttempts', () => {
    // random() = 1: every delay is its ceiling (10, 20, 40).
    const { host, loop: l } = loop({ minDelayMs: 10, maxDelayMs: 40, maxAttempts: 2, random: () => 1 });
    l.ended(false, 'ECONNREFUSED');
    expect(host.calls).toEqual(['scheduled 1 10 ECONNREFUSED']);
    jest.advanceTimersByTime(9);
    expect(host.calls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(host.calls[1]).toBe('reconnect');
    l.ended(false, 'ECONNREFUSED');
    jest.advanceTimersByTime(20);
    expect(host.calls.slice(2)).toEqual(['scheduled 2 20 ECONNREFUSED', 'reconnect']);
    expect(l.attempts).toBe(2);
    l.ended(false, 'ECONNRESET');
    expect(host.calls[4]).toBe('failed 2 ECONNRESET | gave up after 2 reconnect attempts (maxAttempts 2); last: ECONNRESET');
    jest.advanceTimersByTime(1000);
    expect(host.calls).toHaveLength(5);
  });

  it('online() starts the count again; stop() cancels the pending attempt and the connect deadline', () => {
    const { host, loop: l } = loop({ minDelayMs: 10, maxDelayMs: 40, random: () => 1 });
    l.ended(false, 'x');
    jest.advanceTimersByTime(10);
    l.online();
    expect(l.attempts).toBe(0);
    // Not online for stableAfterMs: the backoff goes on (20), the count starts again (1).
    l.ended(true, 'y');
    l.stop();
    jest.advanceTimersByTime(1000);
    expect(host.calls).toEqual(['scheduled 1 10 x', 'reconnect', 'scheduled 1 20 y']);
    const destroyed: string[] = [];
    l.opened({ destroy: (reason: string) => destroyed.push(reason) } as unknown as ClientSocket);
    l.stop();
    jest.advanceTimersByTime(1000);
    expect(destroyed).toEqual([]);
    l.opened({ destroy: (reason: string) => destroyed.push(reason) } as unknown as ClientSocket);
    jest.advanceTimersByTime(100);
    expect(destroyed).toEqual(['not logged in within connectTimeoutMs (100 ms)']);
  });
});

describe('LongLinkClient closed from a reconnect listener (real socket, closed port)', () => {
  it.each([
    ['reconnect_scheduled', ['connecting', 'reconnecting', 'scheduled 1', 'closed']],
    // Closed before reconnect_scheduled would fire: it does not (nothing is scheduled).
    ['status', ['connecting', 'reconnecting', 'closed']],
  ] as const)('close() inside a %s listener is final: no attempt after it', async (event, expected) => {
    const port = await closedPort();
    const c = new LongLinkClient({ host: '127.0.0.1', port, clientId: 'c1', reconnect: { minDelayMs: 1, maxDelayMs: 2 } });
    const seen: string[] = [];
    c.on('status', (s) => seen.push(s.to));
    c.on('reconnect_scheduled', (r) => seen.push(`scheduled ${r.attempt}`));
    let closed: Promise<void> | undefined;
    c.on(event, () => {
      if (c.status === 'reconnecting') closed ??= c.close('closed by a listener');
    });
    await c.connect().catch(() => undefined);
    await closed;
    // Long enough for several 1-2 ms attempts against a refusing port.
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(expected);
    expect(c.status).toBe('closed');
  });
});
