import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { RawClient } from '../../support/raw-client';

const root = join(__dirname, '..', '..', '..');
const mainJs = join(root, 'dist', 'main.js');

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
function ensureBuilt(): void {
  if (existsSync(mainJs) && statSync(mainJs).mtimeMs >= newestSource(join(root, 'src'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
}

/** `node dist/main.js` in an empty directory (no .env) with exactly this environment. */
function runMain(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [mainJs], { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  return { child, output: () => text };
}

/** Resolves with the first match of re in the child's output. */
// Generous: on a loaded 2-core machine loading Nest alone has taken over 10 s.
function waitForOutput(run: { child: ChildProcess; output: () => string }, re: RegExp, timeoutMs = 40_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = run.output().match(re);
      if (!m) return;
      cleanup();
      resolve(m);
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`process exited before printing ${re}; output:\n${run.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${re} within ${timeoutMs} ms; output:\n${run.output()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      run.child.stdout?.off('data', check);
      run.child.stderr?.off('data', check);
      run.child.off('exit', onExit);
    };
    run.child.stdout?.on('data', check);
    run.child.stderr?.on('data', check);
    run.child.on('exit', onExit);
    check();
  });
}

/** The built gateway as `npm start` runs it: start-up validation and SIGTERM. */
describe('node dist/main.js', () => {
  let cwd: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    ensureBuilt();
    cwd = mkdtempSync(join(tmpdir(), 'longlink-main-'));
  }, 120_000);
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('exits non-zero naming the key when TCP_PORT=abc', async () => {
    const run = runMain({ TCP_PORT: 'abc' }, cwd);
    children.push(run.child);
    const [code] = (await once(run.child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(run.output()).toContain("TCP_PORT: must be a whole number (got 'abc')");
  });

  it('on SIGTERM sends KICK shutdown to its clients and exits', async () => {
    const run = runMain({ TCP_HOST: '127.0.0.1', TCP_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', SHUTDOWN_GRACE_MS: '1000' }, cwd);
    children.push(run.child);
    const [, port] = await waitForOutput(run, /listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    const c = await RawClient.connect(Number(port), { framing: 'line' });
    try {
      expect(await c.login('sigterm-1')).toMatchObject({ ok: true });
      const exited = once(run.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      run.child.kill('SIGTERM');
      expect(await c.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'shutdown' });
      await c.waitClosed();
      const [code, signal] = await exited;
      // Nest re-raises the signal once the app is closed; a clean exit(0) is as good.
      expect(code === 0 || signal === 'SIGTERM').toBe(true);
    } finally {
      c.close();
    }
  }, 90_000);
  it('on SIGTERM with idle and half-sent admin HTTP sockets open still KICKs, and exits within grace + 1 s (JSON logs)', async () => {
    const grace = 1000;
    const run = runMain({ TCP_HOST: '127.0.0.1', TCP_PORT: '0', HTTP_PORT: '0', SHUTDOWN_GRACE_MS: String(grace), LOG_FORMAT: 'json' }, cwd);
    children.push(run.child);
    const [, port] = await waitForOutput(run, /listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    // No HTTP_HOST and no ADMIN_TOKEN: the admin API is on loopback.
    const [, httpPort] = await waitForOutput(run, /admin API on http:\/\/127\.0\.0\.1:(\d+)/);
    const open = (text?: string) => {
      const s = net.connect(Number(httpPort), '127.0.0.1', () => text && s.write(text));
      s.on('error', () => undefined);
      s.resume();
      return s;
    };
    const idle = open(); // `nc host 3000`, nothing sent
    const half = open('GET /clients HTTP/1.1\r\nHost: x\r\n');
    const c = await RawClient.connect(Number(port), { framing: 'line' });
    try {
      expect(await c.login('sigterm-idle')).toMatchObject({ ok: true });
      const exited = once(run.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const sent = Date.now();
      run.child.kill('SIGTERM');
      expect(await c.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'shutdown' });
      const [code, signal] = await exited;
      expect(Date.now() - sent).toBeLessThan(grace + 1000);
      expect(code === 0 || signal === 'SIGTERM').toBe(true);
      // LOG_FORMAT=json: every line Nest's logger wrote is one JSON object.
      const lines = run.output().split('\n').filter((l) => l.trim() !== '');
      expect(lines.length).toBeGreaterThan(3);
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), message: expect.anything() });
      expect(lines.some((l) => /SIGTERM: shutting down/.test(l))).toBe(true);
    } finally {
      c.close();
      idle.destroy();
      half.destroy();
    }
  }, 90_000);
});
