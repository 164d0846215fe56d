import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export { freePort };

/**
 * The gateway as `npm start` runs it: `node dist/main.js`, a real child
 * process (so SIGKILL is a real crash), with exactly the environment given
 * (plus PATH) and no .env. The one helper of every spec that needs the
 * built gateway as a process: start-up failures, SIGTERM, restarts on a
 * DATA_DIR, cluster nodes.
 */

const root = join(__dirname, '..', '..');
export const MAIN_JS = join(root, 'dist', 'main.js');

/** Newest modification time of the .ts files under dir. */
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
  if (existsSync(MAIN_JS) && statSync(MAIN_JS).mtimeMs >= newestSource(join(root, 'src'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
}


export interface SpawnOptions {
  /**
   * The working directory (where the default DATA_DIR, ./data, is created).
   * @default a fresh temporary directory, removed when the process exits: never the repository
   */
  cwd?: string;
}

export interface StartOptions extends SpawnOptions {
  /** @default free ports picked just before the start */
  ports?: { tcp: number; http: number };
}

/** Environment keys every started node gets unless the test sets them. */
const START_DEFAULTS: Record<string, string> = {
  TCP_HOST: '127.0.0.1',
  HTTP_HOST: '127.0.0.1',
  SHUTDOWN_GRACE_MS: '200',
  // Every test node is reached from 127.0.0.1, so per-IP and per-host
  // admission limits are off here as in test/support/gateway.ts (the
  // hardening suites test them); a test can set them back.
  CONNECT_RATE_PER_IP: '0',
  FLAP_HOST_MAX_LOGINS: '0',
};

export class GatewayProcess {
  /** Resolves with [code, signal] when the process has exited and its output is in. */
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** NODE_ID when the test set one, else '?' (the gateway then makes its own). */
  readonly nodeId: string;
  /** The ports as configured: 0 means the OS chose (read it off the output with waitFor). */
  readonly tcpPort: number;
  readonly httpPort: number;
  private text = '';
  /** Resolves once stdout and stderr are closed (after the exit): all output is in. */
  private readonly outputEnded: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    env: Record<string, string>,
  ) {
    this.nodeId = env.NODE_ID ?? '?';
    this.tcpPort = Number(env.TCP_PORT ?? 0);
    this.httpPort = Number(env.HTTP_PORT ?? 0);
    child.stdout?.on('data', (b: Buffer) => (this.text += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.text += b.toString()));
    if (process.env.TEST_LOGS) child.stdout?.pipe(process.stdout);
    this.outputEnded = new Promise((resolve) => child.once('close', () => resolve()));
    // After the exit, the last output may still be on its way: waited for, a second at most
    // (a process that handed its stdio on, e.g. to cluster workers, may never close it).
    this.exited = (once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>).then(async (result) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.outputEnded, new Promise<void>((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
      return result;
    });
  }

  /** Runs it with exactly `env` (plus PATH and NO_COLOR) and waits for nothing: for start-ups meant to fail, or read off the output. */
  static spawn(env: Record<string, string | number>, options: SpawnOptions = {}): GatewayProcess {
    const full: Record<string, string> = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
    for (const [k, v] of Object.entries(env)) full[k] = String(v);
    const own = options.cwd === undefined ? mkdtempSync(join(tmpdir(), 'longlink-gateway-')) : undefined;
    const child = spawn(process.execPath, [MAIN_JS], { cwd: options.cwd ?? own, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    const gateway = new GatewayProcess(child, full);
    if (own !== undefined) {
      const remove = () => rmSync(own, { recursive: true, force: true });
      gateway.exited.then(remove, remove);
    }
    return gateway;
  }

  /**
   * Starts a node on 127.0.0.1 (free TCP and HTTP ports unless given, the
   * defaults above, LOG_LEVEL warn unless set or TEST_LOGS) and resolves
   * once its admin API answers /health, i.e. both listeners are up.
   */
  static async start(env: Record<string, string | number>, options: StartOptions = {}): Promise<GatewayProcess> {
    const tcp = options.ports?.tcp ?? (await freePort());
    const http = options.ports?.http ?? (await freePort());
    const full = { ...START_DEFAULTS, LOG_LEVEL: process.env.TEST_LOGS ? 'debug' : 'warn', TCP_PORT: String(tcp), HTTP_PORT: String(http), ...env };
    const node = GatewayProcess.spawn(full, options);
    // Generous: on a loaded 2-core machine loading Nest alone has taken over 10 s.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!node.running) throw new Error(`node ${node.nodeId} exited with ${node.child.exitCode ?? node.child.signalCode}:\n${node.output()}`);
      try {
        const res = await fetch(`${node.httpUrl}/health`);
        if (res.status === 200) return node;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        await node.kill();
        throw new Error(`node ${node.nodeId} not ready within 60 s:\n${node.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Everything it wrote to stdout and stderr so far. */
  output(): string {
    return this.text;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of re in the output; rejects when the process has ended without printing it, or the time is up. */
  waitFor(re: RegExp, timeoutMs = 40_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (match: RegExpMatchArray | undefined, error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.child.stdout?.off('data', check);
        this.child.stderr?.off('data', check);
        if (match) resolve(match);
        else reject(error);
      };
      const check = () => {
        const m = this.text.match(re);
        if (m) settle(m);
      };
      const timer = setTimeout(() => settle(undefined, new Error(`no ${re} within ${timeoutMs} ms; output:\n${this.text}`)), timeoutMs);
      this.child.stdout?.on('data', check);
      this.child.stderr?.on('data', check);
      // 'close' comes after the last output ('exit' may come before it).
      void this.outputEnded.then(() => {
        check();
        settle(undefined, new Error(`process exited before printing ${re}; output:\n${this.text}`));
      });
      check();
    });
  }

  /** SIGKILL: the process dies on the spot, as in an OOM kill; no goodbye, no drain. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * SIGTERM (a graceful shutdown) and wait for the exit; SIGKILL after
   * `killAfterMs` so that a hung shutdown ends the test (it then shows as
   * signal SIGKILL).
   */
  async stop(killAfterMs = 20_000): Promise<[number | null, NodeJS.Signals | null]> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), killAfterMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
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
