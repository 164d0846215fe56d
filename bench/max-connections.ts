/**
 * MAX_CONNECTIONS just below the process's file limit (issue 6, "Also"):
 * the gateway runs with MAX_CONNECTIONS=19000 under a 20,000-file limit;
 * three client processes log 19,000 clients in, then try 600 more. Checks:
 * every extra client gets ERROR SERVER_FULL (never a crash, an EMFILE storm
 * or a silent drop), and the 19,000 already in still get their heartbeats
 * answered afterwards.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node dist-bench/bench/max-connections.js
 */
import { ChildProcess, fork, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { encodeJson, FrameDecoder } from '../src/transport/codec';
import { freePort, ROOT } from './targets';

const LIMIT = Number(process.env.MAX_CONNECTIONS ?? 19000);
const WORKERS = 3;
const EXTRA_PER_WORKER = 200;

type Outcome = 'ok' | 'full' | 'error' | 'closed';
interface WorkerReport {
  kind: 'phase';
  counts: Record<Outcome, number>;
  errors: string[];
}

// ---------------------------------------------------------------- worker --

function runWorker(port: number, index: number): void {
  const live: net.Socket[] = [];
  const localAddress = `127.1.${index}.1`;
  let id = 0;

  /** Opens `n` connections, 128 at a time; each sends LOGIN and reports its first answer. */
  function phase(n: number): Promise<WorkerReport> {
    const counts: Record<Outcome, number> = { ok: 0, full: 0, error: 0, closed: 0 };
    const errors: string[] = [];
    let started = 0;
    let done = 0;
    return new Promise((resolve) => {
      const finish = () => {
        done++;
        if (done === n) resolve({ kind: 'phase', counts, errors: errors.slice(0, 5) });
        else if (started < n) open();
      };
      const open = () => {
        started++;
        const clientId = `max-${index}-${id++}`;
        const socket = net.connect({ port, host: '127.0.0.1', localAddress });
        let settled = false;
        const settle = (outcome: Outcome, detail?: string) => {
          if (settled) return;
          settled = true;
          counts[outcome]++;
          if (detail && errors.length < 5) errors.push(detail);
          if (outcome === 'ok') live.push(socket);
          else socket.destroy();
          finish();
        };
        const decoder = new FrameDecoder({ maxFrameBytes: 65536, framing: 'length' });
        socket.on('data', (chunk: Buffer) =>
          decoder.push(chunk, {
            onMessage: (m) => {
              if (m.type === 'LOGIN' && m.ok === true) settle('ok');
              else if (m.type === 'ERROR' && m.code === 'SERVER_FULL') settle('full');
              else if (!settled) settle('error', JSON.stringify(m));
            },
            onEmptyFrame: () => undefined,
            onBadFrame: (code, detail) => settle('error', `${code} ${detail}`),
          }),
        );
        socket.on('connect', () => socket.write(encodeJson('length', JSON.stringify({ type: 'LOGIN', clientId }))));
        socket.on('error', (e) => settle('error', e.message));
        socket.on('close', () => settle('closed'));
      };
      for (let i = 0; i < Math.min(128, n); i++) open();
    });
  }

  /** One HEART on every logged-in socket; how many were answered within 10 s. */
  function heartbeatAll(): Promise<{ kind: 'heart'; sent: number; answered: number }> {
    let answered = 0;
    const frame = encodeJson('length', '{"type":"HEART"}');
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'heart', sent: live.length, answered }), 10_000);
      for (const socket of live) {
        const decoder = new FrameDecoder({ maxFrameBytes: 65536, framing: 'length' });
        socket.removeAllListeners('data');
        let seen = false;
        socket.on('data', (chunk: Buffer) =>
          decoder.push(chunk, {
            onMessage: (m) => {
              if (!seen && m.type === 'HEART' && m.ok === true) {
                seen = true;
                answered++;
                if (answered === live.length) {
                  clearTimeout(timer);
                  resolve({ kind: 'heart', sent: live.length, answered });
                }
              }
            },
            onEmptyFrame: () => undefined,
            onBadFrame: () => undefined,
          }),
        );
        socket.write(frame);
      }
    });
  }

  process.on('message', (msg: { cmd: string; n?: number }) => {
    if (msg.cmd === 'phase') void phase(msg.n ?? 0).then((r) => process.send?.(r));
    else if (msg.cmd === 'heart') void heartbeatAll().then((r) => process.send?.(r));
    else if (msg.cmd === 'exit') {
      for (const s of live) s.destroy();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------- runner --


function ask<T>(child: ChildProcess, msg: object): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(msg);
  });
}

async function main(): Promise<void> {
  const tcpPort = await freePort();
  const httpPort = await freePort();
  let log = '';
  const gateway = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
    env: { ...process.env, TCP_HOST: '127.0.0.1', TCP_PORT: String(tcpPort), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), MAX_CONNECTIONS: String(LIMIT), LOG_LEVEL: 'warn', LOGIN_TIMEOUT_MS: '60000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  gateway.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  let exited: number | null | undefined;
  gateway.on('exit', (code) => (exited = code));
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${httpPort}/health`).then((r) => r.ok, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const workers = Array.from({ length: WORKERS }, (_, i) => fork(__filename, ['--worker', String(tcpPort), String(i + 1)]));
  const perWorker = Math.ceil(LIMIT / WORKERS);
  const t0 = Date.now();
  const first = await Promise.all(workers.map((w) => ask<WorkerReport>(w, { cmd: 'phase', n: perWorker })));
  const loginMs = Date.now() - t0;
  const extra = await Promise.all(workers.map((w) => ask<WorkerReport>(w, { cmd: 'phase', n: EXTRA_PER_WORKER })));
  const hearts = await Promise.all(workers.map((w) => ask<{ sent: number; answered: number }>(w, { cmd: 'heart' })));
  const fds = exited === undefined ? readdirSync(`/proc/${gateway.pid}/fd`).length : -1;
  const health = await fetch(`http://127.0.0.1:${httpPort}/health`).then((r) => r.json() as Promise<Record<string, unknown>>, (e: Error) => ({ error: e.message }));
  const sum = (reports: WorkerReport[]) =>
    reports.reduce((acc, r) => {
      for (const k of Object.keys(acc) as Outcome[]) acc[k] += r.counts[k];
      return acc;
    }, { ok: 0, full: 0, error: 0, closed: 0 } as Record<Outcome, number>);
  const result = {
    maxConnections: LIMIT,
    fileLimit: 'see `ulimit -n` (20000 here)',
    firstPhase: { attempted: perWorker * WORKERS, ...sum(first), seconds: loginMs / 1000, errors: first.flatMap((r) => r.errors) },
    extraPhase: { attempted: EXTRA_PER_WORKER * WORKERS, ...sum(extra), errors: extra.flatMap((r) => r.errors) },
    heartbeatsAfter: { sent: hearts.reduce((a, h) => a + h.sent, 0), answered: hearts.reduce((a, h) => a + h.answered, 0) },
    gateway: { alive: exited === undefined, openFds: fds, health, emfileInLog: /EMFILE/.test(log), logTail: log.split('\n').slice(-5).join('\n') },
  };
  console.log(JSON.stringify(result, null, 2));
  for (const w of workers) w.send({ cmd: 'exit' });
  gateway.kill('SIGTERM');
  const ok =
    result.firstPhase.ok === Math.min(LIMIT, result.firstPhase.attempted) &&
    result.firstPhase.ok + result.firstPhase.full === result.firstPhase.attempted &&
    result.extraPhase.full === result.extraPhase.attempted &&
    result.heartbeatsAfter.answered === result.heartbeatsAfter.sent &&
    result.gateway.alive &&
    !result.gateway.emfileInLog;
  console.log(ok ? 'PASS: SERVER_FULL at the limit, nobody dropped, everyone in still answered' : 'FAIL: see the figures above');
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[2] === '--worker') runWorker(Number(process.argv[3]), Number(process.argv[4]));
else void main();
