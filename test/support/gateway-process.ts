import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
export const mainJs = join(root, 'dist', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The real build (`npm run build`), only when dist/main.js is missing or older than src/. */
export function ensureBuilt(): void {
  if (existsSync(mainJs) && statSync(mainJs).mtimeMs >= newestSource(join(root, 'src'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One gateway node as `node dist/main.js`, a real child process (so SIGKILL is a real crash). */
export class GatewayProcess {
  output = '';
  private constructor(
    readonly child: ChildProcess,
    readonly nodeId: string,
    readonly tcpPort: number,
    readonly httpPort: number,
  ) {
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Starts a node and resolves once its admin API answers /health. */
  static async start(env: Record<string, string | number>, ports?: { tcp: number; http: number }): Promise<GatewayProcess> {
    const tcp = ports?.tcp ?? (await freePort());
    const http = ports?.http ?? (await freePort());
    const full: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NO_COLOR: '1',
      TCP_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      TCP_PORT: String(tcp),
      HTTP_PORT: String(http),
      SHUTDOWN_GRACE_MS: '200',
      // Every test node is reached from 127.0.0.1, so per-IP and per-host
      // admission limits are off here as in test/support/gateway.ts (the
      // hardening suites test them); a test can set them back.
      CONNECT_RATE_PER_IP: '0',
      FLAP_HOST_MAX_LOGINS: '0',
      LOG_LEVEL: process.env.TEST_LOGS ? 'debug' : 'warn',
    };
    for (const [k, v] of Object.entries(env)) full[k] = String(v);
    const child = spawn(process.execPath, [mainJs], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    const node = new GatewayProcess(child, full.NODE_ID ?? '?', tcp, http);
    if (process.env.TEST_LOGS) child.stdout?.pipe(process.stdout);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`node ${node.nodeId} exited with ${child.exitCode}:\n${node.output}`);
      try {
        const res = await fetch(`${node.httpUrl}/health`);
        if (res.status === 200) return node;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`node ${node.nodeId} not ready within 60 s:\n${node.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: no goodbye, no drain. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }

  async get(path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.httpUrl}${path}`);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.httpUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
}

/** Polls `check` until it returns a truthy value (then returns it) or the time is up (then throws with the last value). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error as T;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
