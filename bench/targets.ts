import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type TargetKind = 'gateway' | 'baseline';

/** Repository root (this file runs from dist-bench/bench/). */
export const ROOT = resolve(__dirname, '..', '..');
export const HOST = '127.0.0.1';
/** The gateway runs with an admin token, as in production (and without its "admin API is open" warning). */
export const ADMIN_TOKEN = 'bench-admin-token';

/** Outcome of a broadcast request; undefined when the target has no such route. */
export interface BroadcastAnswer {
  batchId?: string;
  count: number;
}

/** A server under test, in its own process. */
export interface Target {
  kind: TargetKind;
  pid: number;
  tcpPort: number;
  httpPort: number;
  /** One HTTP round trip, so that fetch's lazy start-up and the connection set-up are not timed in S4. */
  warmUpHttp(): Promise<void>;
  /** S4: one CMD to every connected client. Undefined when the route does not exist (404). */
  broadcast(): Promise<BroadcastAnswer | undefined>;
  /** S4: how many commands of the batch are recorded as acked; undefined when the target cannot tell. */
  ackedCount(batchId: string): Promise<number | undefined>;
  /** Its stdout+stderr so far (for error reports). */
  output(): string;
  /** Lines it has written to stdout+stderr since it started. */
  readonly logLines: number;
  stop(): Promise<void>;
}

export interface GatewayTargetOptions {
  maxConnections: number;
  /** @default 10000 */
  heartbeatMs?: number;
  /** Write a CPU profile (node --cpu-prof) into this directory. */
  cpuProfDir?: string;
  /** More environment (STORE; the cluster scenario: REDIS_URL, NODE_ID). */
  env?: Record<string, string>;
  /**
   * S1-S5 run with admission control off (ADMISSION_OFF, the default): their
   * fleets come from a handful of loopback addresses at thousands of
   * connects a second, which is what it is there to stop; the abuse
   * scenario measures it 'on'. @default 'off'
   */
  admission?: 'on' | 'off';
}

/**
 * A fresh DATA_DIR for one start of the gateway, removed when it stops: the
 * SQLite store (the default) would otherwise carry the records of one
 * scenario into the next (and into the repository's ./data).
 */
export function freshDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'longlink-bench-data-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The per-IP, per-host and per-connection rates off (the frame budget and the bounds stay on). */
export const ADMISSION_OFF: Record<string, string> = {
  CONNECT_RATE_PER_IP: '0',
  FLAP_MAX_LOGINS: '0',
  FLAP_HOST_MAX_LOGINS: '0',
  CONN_MSG_RATE: '0',
  CONN_BYTE_RATE: '0',
};

/** A port that was free a moment ago (listen on 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveOk) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolveOk(true);
    });
    socket.once('error', () => resolveOk(false));
  });
}

class ProcessTarget implements Target {
  private log = '';
  logLines = 0;
  constructor(
    readonly kind: TargetKind,
    private readonly child: ChildProcess,
    readonly tcpPort: number,
    readonly httpPort: number,
    private readonly stopSignal: NodeJS.Signals,
    private readonly onStopped: () => void = () => undefined,
  ) {
    const keep = (chunk: Buffer) => {
      // Only the tail matters for an error report.
      this.log = (this.log + chunk.toString()).slice(-8000);
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.logLines++;
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  output(): string {
    return this.log;
  }

  /** Both ports accept connections, or the process died / 60 s passed. */
  async ready(): Promise<this> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`${this.kind} exited during start-up (code ${this.child.exitCode}, signal ${this.child.signalCode}):\n${this.log}`);
      }
      if ((await canConnect(this.tcpPort)) && (await canConnect(this.httpPort))) return this;
      await sleep(100);
    }
    throw new Error(`${this.kind} not listening on tcp ${this.tcpPort} / http ${this.httpPort} after 60 s:\n${this.log}`);
  }

  async warmUpHttp(): Promise<void> {
    // fetch compiles its POST path on first use (~40 ms here); the gateway's
    // route its validation. A broadcast to nobody warms both, and a 404 is fine.
    const path = this.kind === 'gateway' ? '/commands/broadcast' : '/warm-up';
    const res = await fetch(`http://${HOST}:${this.httpPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'warm-up', filter: { clientIds: ['bench-nobody'] } }),
    });
    await res.arrayBuffer();
  }

  async broadcast(): Promise<BroadcastAnswer | undefined> {
    const path = this.kind === 'gateway' ? '/commands/broadcast' : '/broadcast';
    const res = await fetch(`http://${HOST}:${this.httpPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'bench', data: {} }),
    });
    if (res.status === 404) return undefined;
    const body = (await res.json()) as { batchId?: string; count?: number };
    if (!res.ok || typeof body.count !== 'number') throw new Error(`POST ${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return { batchId: body.batchId, count: body.count };
  }

  async ackedCount(batchId: string): Promise<number | undefined> {
    if (this.kind !== 'gateway') return undefined;
    const res = await fetch(`http://${HOST}:${this.httpPort}/commands?batchId=${encodeURIComponent(batchId)}&status=acked&limit=1`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (res.status === 404) return undefined;
    const body = (await res.json()) as { total?: number };
    if (!res.ok || typeof body.total !== 'number') throw new Error(`GET /commands?batchId=…: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body.total;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(this.stopSignal);
      const timedOut = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    this.onStopped();
  }
}

/**
 * The environment every benchmarked gateway starts with: loopback listeners
 * on the given ports, warnings only, no token auth, the benchmark's admin
 * token. Pinned, so a developer's .env cannot turn on token auth under the
 * benchmark; the caller adds the rest (store, cluster, limits).
 */
export function gatewayEnv(tcpPort: number, httpPort: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'development',
    TCP_HOST: HOST,
    TCP_PORT: String(tcpPort),
    HTTP_HOST: HOST,
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'warn',
    AUTH_MODE: 'none',
    ADMIN_TOKEN,
  };
}

/** The gateway as a user starts it: `node dist/main.js`, configured by the environment. */
export async function startGatewayTarget(options: GatewayTargetOptions): Promise<Target> {
  const main = join(ROOT, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first`);
  const [tcpPort, httpPort] = [await freePort(), await freePort()];
  const data = freshDataDir();
  const execArgv: string[] = [];
  if (options.cpuProfDir) {
    // --cpu-prof writes its file on a normal exit only: the hook exits on SIGUSR2.
    execArgv.push('--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', options.cpuProfDir, '--require', join(__dirname, 'profile-exit-hook.js'));
  }
  const child = spawn(process.execPath, [...execArgv, main], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...gatewayEnv(tcpPort, httpPort),
      // Pinned too: no cluster mode from a developer's environment.
      REDIS_URL: '',
      MAX_CONNECTIONS: String(options.maxConnections),
      HEARTBEAT_MS: String(options.heartbeatMs ?? 10000),
      DATA_DIR: data.dir,
      ...(options.admission === 'on' ? {} : ADMISSION_OFF),
      ...options.env,
    },
  });
  const target = new ProcessTarget('gateway', child, tcpPort, httpPort, options.cpuProfDir ? 'SIGUSR2' : 'SIGTERM', data.remove);
  try {
    return await target.ready();
  } catch (error) {
    data.remove();
    throw error;
  }
}

/** bench/baseline-server.ts in its own process. */
export async function startBaselineTarget(): Promise<Target> {
  const [tcpPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(__dirname, 'baseline-server.js'), String(tcpPort), String(httpPort)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ProcessTarget('baseline', child, tcpPort, httpPort, 'SIGTERM').ready();
}

export function startTarget(kind: TargetKind, gateway: GatewayTargetOptions): Promise<Target> {
  return kind === 'gateway' ? startGatewayTarget(gateway) : startBaselineTarget();
}
