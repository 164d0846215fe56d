import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

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

/** A port that was free a moment ago (the gateway logs its HTTP port only as configured). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `node dist/main.js` as `npm start` runs it, in `cwd`, with exactly `env` (plus PATH). */
export class GatewayProcess {
  private text = '';
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (b: Buffer) => (this.text += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.text += b.toString()));
    this.exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  }

  static spawn(env: Record<string, string>, cwd: string): GatewayProcess {
    const child = spawn(process.execPath, [MAIN_JS], { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new GatewayProcess(child);
  }

  /** Starts it on 127.0.0.1 with a free HTTP port and TCP port 0; resolves once both listen. */
  static async start(env: Record<string, string>, cwd: string): Promise<{ gateway: GatewayProcess; tcpPort: number; httpUrl: string }> {
    const httpPort = await freePort();
    const gateway = GatewayProcess.spawn({ TCP_HOST: '127.0.0.1', TCP_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), ...env }, cwd);
    const [, tcp] = await gateway.waitFor(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    await gateway.waitFor(/admin API on http/);
    return { gateway, tcpPort: Number(tcp), httpUrl: `http://127.0.0.1:${httpPort}` };
  }

  output(): string {
    return this.text;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of re in the output. */
  waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.text.match(re);
        if (!m) return;
        cleanup();
        resolve(m);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`process exited before printing ${re}; output:\n${this.text}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${re} within ${timeoutMs} ms; output:\n${this.text}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.child.stdout?.off('data', check);
        this.child.stderr?.off('data', check);
        this.child.off('exit', onExit);
      };
      this.child.stdout?.on('data', check);
      this.child.stderr?.on('data', check);
      this.child.on('exit', onExit);
      check();
    });
  }

  /** SIGKILL: the process dies on the spot, as in an OOM kill. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for the exit (graceful shutdown). */
  async stop(): Promise<[number | null, NodeJS.Signals | null]> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }
}
