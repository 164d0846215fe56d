import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeJson, FrameDecoder } from '../../src/transport/codec';
import { LogHistogram } from '../histogram';
import { ADMIN_TOKEN, HOST } from '../targets';

/**
 * The misbehaving peers of the abuse scenario, run in the bench's own
 * process (the well-behaved fleet that measures runs in the workers):
 * one-client floods, connect floods, a flapping clientId, stray ACKs, and
 * an admin polling `?q=`.
 */

export interface Peer {
  socket: Socket;
  /** Frames received, by type or ERROR code. */
  received: Map<string, number>;
  closed: Promise<void>;
  isClosed(): boolean;
  next(match: (m: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown> | undefined>;
}

export function openPeer(port: number, localAddress: string): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, localAddress });
    const received = new Map<string, number>();
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 24, framing: 'length' });
    let waiter: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown> | undefined) => void } | undefined;
    let closed = false;
    const sink = {
      onMessage: (m: Record<string, unknown>) => {
        const key = m.type === 'ERROR' ? `ERROR ${String(m.code)}` : String(m.type);
        received.set(key, (received.get(key) ?? 0) + 1);
        if (waiter?.match(m)) {
          const w = waiter;
          waiter = undefined;
          w.resolve(m);
        }
      },
      onEmptyFrame: () => undefined,
      onBadFrame: () => undefined,
    };
    socket.on('data', (chunk: Buffer) => decoder.push(chunk, sink));
    socket.on('error', () => undefined);
    const closedP = new Promise<void>((r) =>
      socket.on('close', () => {
        closed = true;
        waiter?.resolve(undefined);
        r();
      }),
    );
    socket.once('connect', () =>
      resolve({
        socket,
        received,
        closed: closedP,
        isClosed: () => closed,
        next: (match, ms = 5000) =>
          closed
            ? Promise.resolve(undefined)
            : new Promise((r) => {
                const timer = setTimeout(() => {
                  waiter = undefined;
                  r(undefined);
                }, ms);
                waiter = {
                  match,
                  resolve: (m) => {
                    clearTimeout(timer);
                    r(m);
                  },
                };
              }),
      }),
    );
    socket.once('error', reject);
  });
}

const frame = (m: unknown) => encodeJson('length', JSON.stringify(m));

/** Sends LOGIN and waits for its answer (ok, refused, or an ERROR). */
export async function login(peer: Peer, clientId: string): Promise<'ok' | string> {
  const answer = peer.next((m) => m.type === 'LOGIN' || m.type === 'ERROR', 10_000);
  peer.socket.write(frame({ type: 'LOGIN', clientId }));
  const m = await answer;
  if (!m) return 'closed';
  if (m.type === 'LOGIN' && m.ok === true) return 'ok';
  const code = m.type === 'ERROR' ? m.code : (m.error as { code?: string } | undefined)?.code;
  return String(code ?? 'refused');
}

export interface FloodResult {
  sent: number;
  /** Frames the gateway answered (replies of any kind). */
  answered: number;
  /** ms from the first frame until the gateway closed us, or null if it did not. */
  closedAfterMs: number | null;
  durationMs: number;
  received: Record<string, number>;
}

/** One logged-in client writes `count` copies of `message` as fast as the socket takes them. */
export async function flood(port: number, localAddress: string, clientId: string, message: unknown, count: number): Promise<FloodResult> {
  const peer = await openPeer(port, localAddress);
  const ok = await login(peer, clientId);
  if (ok !== 'ok') throw new Error(`flood: LOGIN of ${clientId} refused: ${ok}`);
  peer.received.clear();
  const one = frame(message);
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
  const t0 = performance.now();
  let closedAt: number | null = null;
  void peer.closed.then(() => (closedAt = performance.now()));
  let sent = 0;
  while (sent < count && !peer.isClosed()) {
    const n = Math.min(1000, count - sent);
    const flushed = peer.socket.write(n === 1000 ? batch : batch.subarray(0, n * one.length));
    sent += n;
    if (!flushed) await Promise.race([new Promise((r) => peer.socket.once('drain', r)), peer.closed]);
  }
  // Until every frame was answered, the gateway closed us, or 2 s without an answer.
  const answered = () => [...peer.received.values()].reduce((a, b) => a + b, 0);
  let last = -1;
  let quietSince = performance.now();
  while (!peer.isClosed() && answered() < sent && performance.now() - quietSince < 2000) {
    const now = answered();
    if (now !== last) {
      last = now;
      quietSince = performance.now();
    }
    await sleep(20);
  }
  const durationMs = performance.now() - t0;
  peer.socket.destroy();
  return { sent, answered: answered(), closedAfterMs: closedAt === null ? null : (closedAt as number) - t0, durationMs, received: Object.fromEntries(peer.received) };
}

export interface ConnectFloodResult {
  attempted: number;
  loggedIn: number;
  /** Answers other than a login, by code (RATE_LIMITED, …). */
  refused: Record<string, number>;
  seconds: number;
}

/** `rate` new sockets a second from one address for `seconds`, each logging in as a new clientId, then closing. */
export async function connectFlood(port: number, localAddress: string, rate: number, seconds: number, prefix: string): Promise<ConnectFloodResult> {
  const result: ConnectFloodResult = { attempted: 0, loggedIn: 0, refused: {}, seconds };
  const pending: Array<Promise<void>> = [];
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  while (result.attempted < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; result.attempted < due; result.attempted++) {
      const id = `${prefix}${result.attempted}`;
      pending.push(
        openPeer(port, localAddress)
          .then(async (peer) => {
            const answer = await login(peer, id);
            if (answer === 'ok') result.loggedIn++;
            else result.refused[answer] = (result.refused[answer] ?? 0) + 1;
            peer.socket.destroy();
          })
          .catch(() => {
            result.refused.connect_error = (result.refused.connect_error ?? 0) + 1;
          }),
      );
    }
    await sleep(1);
  }
  await Promise.all(pending);
  return result;
}

export interface FlapResult {
  attempts: number;
  loggedIn: number;
  refused: Record<string, number>;
  perSecond: number;
}

/** One clientId logs in and drops, `count` times, `parallel` at a time, as fast as it can. */
export async function flapping(port: number, localAddress: string, clientId: string, count: number, parallel = 8): Promise<FlapResult> {
  const result: FlapResult = { attempts: 0, loggedIn: 0, refused: {}, perSecond: 0 };
  const t0 = performance.now();
  const runner = async () => {
    while (result.attempts < count) {
      result.attempts++;
      try {
        const peer = await openPeer(port, localAddress);
        const answer = await login(peer, clientId);
        if (answer === 'ok') result.loggedIn++;
        else result.refused[answer] = (result.refused[answer] ?? 0) + 1;
        peer.socket.destroy();
        await peer.closed;
      } catch {
        result.refused.connect_error = (result.refused.connect_error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, runner));
  result.perSecond = result.attempts / ((performance.now() - t0) / 1000);
  return result;
}

/** GET `path` every `intervalMs` for `seconds` (one at a time); the response times. */
export async function pollAdmin(httpPort: number, path: string, intervalMs: number, seconds: number): Promise<{ requests: number; latency: LogHistogram; failures: number }> {
  const latency = new LogHistogram();
  let requests = 0;
  let failures = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    try {
      const res = await fetch(`http://${HOST}:${httpPort}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      await res.arrayBuffer();
      if (!res.ok) failures++;
    } catch {
      failures++;
    }
    requests++;
    latency.record((performance.now() - t) * 1e6);
    const wait = intervalMs - (performance.now() - t);
    if (wait > 0) await sleep(wait);
  }
  return { requests, latency, failures };
}
