import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { ensureBuilt, GatewayProcess } from '../../support/gateway-process';
import { RawClient } from '../../support/raw-client';

/** `node dist/main.js` in an empty directory (no .env) with exactly this environment. */
const runMain = (env: Record<string, string>, cwd: string) => GatewayProcess.spawn(env, { cwd });

/** The built gateway as `npm start` runs it: start-up validation and SIGTERM. */
describe('node dist/main.js', () => {
  let cwd: string;
  const children: GatewayProcess[] = [];

  beforeAll(() => {
    ensureBuilt();
    cwd = mkdtempSync(join(tmpdir(), 'longlink-main-'));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    rmSync(cwd, { recursive: true, force: true });
  });

  it('exits non-zero naming the key when TCP_PORT=abc', async () => {
    const run = runMain({ TCP_PORT: 'abc' }, cwd);
    children.push(run);
    const [code] = await run.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(run.output()).toContain("TCP_PORT: must be a whole number (got 'abc')");
  });

  it('on SIGTERM sends KICK shutdown to its clients and exits', async () => {
    const run = runMain({ TCP_HOST: '127.0.0.1', TCP_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', SHUTDOWN_GRACE_MS: '1000' }, cwd);
    children.push(run);
    const [, port] = await run.waitFor(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    const c = await RawClient.connect(Number(port), { framing: 'line' });
    try {
      expect(await c.login('sigterm-1')).toMatchObject({ ok: true });
      const exited = run.exited;
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
    children.push(run);
    const [, port] = await run.waitFor(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/);
    // No HTTP_HOST and no ADMIN_TOKEN: the admin API is on loopback.
    const [, httpPort] = await run.waitFor(/admin API on http:\/\/127\.0\.0\.1:(\d+)/);
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
      // The exit itself is timed (run.exited also waits for the last output).
      const exitedAt = once(run.child, 'exit').then(() => Date.now());
      const sent = Date.now();
      run.child.kill('SIGTERM');
      expect(await c.nextOfType('KICK')).toEqual({ type: 'KICK', reason: 'shutdown' });
      expect((await exitedAt) - sent).toBeLessThan(grace + 1000);
      const [code, signal] = await run.exited;
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
