import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type * as ClientEntry from '../../../src/client';
import { execFileAsync, linkProjectModules, packProject, ROOT, tarballFiles, unpackInto } from '../../support/packed';

const ADMIN_TOKEN = 'host-app-admin-token';

/** Resolves with the first match of re in the child's output, or rejects when it exits first. */
function waitForLine(child: ChildProcess, output: () => string, re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${re} within ${timeoutMs} ms:\n${output()}`)), timeoutMs);
    const check = () => {
      const m = output().match(re);
      if (m) done(undefined, m);
    };
    const onExit = () => done(new Error(`exited before printing ${re}:\n${output()}`));
    const done = (error?: Error, m?: RegExpMatchArray) => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(m!);
    };
    child.stdout?.on('data', check);
    child.on('exit', onExit);
    check();
  });
}

/**
 * The package as a user gets it: `npm pack` of a clean copy (prepack
 * builds), unpacked into a copy of examples/host-app, compiled there with
 * the app's own strict tsconfig against the shipped types, and run.
 */
describe('the packed package in examples/host-app', () => {
  let dir: string;
  let tarball: string;
  let files: string[];
  let host: string;
  let app: ChildProcess | undefined;
  let appOutput = '';
  let httpUrl: string;
  let tcpPort: number;
  let client: ClientEntry.LongLinkClient | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'longlink-pack-'));
    tarball = await packProject(dir);
    files = await tarballFiles(tarball);

    host = join(dir, 'host-app');
    mkdirSync(host);
    for (const name of ['package.json', 'tsconfig.json', 'src']) cpSync(join(ROOT, 'examples', 'host-app', name), join(host, name), { recursive: true });
    await unpackInto(tarball, host);
    linkProjectModules(host);
    await execFileAsync(process.execPath, [join(host, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: host });

    app = spawn(process.execPath, ['dist/main.js'], {
      cwd: host,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', PORT: '0', TCP_HOST: '127.0.0.1', TCP_PORT: '0', ADMIN_TOKEN, SHUTDOWN_GRACE_MS: '300' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout?.on('data', (b: Buffer) => (appOutput += b.toString()));
    app.stderr?.on('data', (b: Buffer) => (appOutput += b.toString()));
    const [, http, tcp] = await waitForLine(app, () => appOutput, /host-app ready http=(\d+) tcp=(\d+)/);
    httpUrl = `http://127.0.0.1:${http}`;
    tcpPort = Number(tcp);
    // ~40 s of CPU (the build's tsc alone ~24 s); on a machine shared by
    // several jobs that is minutes of wall time, hence the generous bound.
  }, 600_000);

  afterAll(async () => {
    await client?.close();
    if (app && app.exitCode === null && app.signalCode === null) {
      const exited = new Promise((resolve) => app!.once('exit', resolve));
      app.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships the build, its types and both entries, and nothing of the sources or tests', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/main.js',
        'dist/esm/index.mjs',
        'dist/esm/index.d.mts',
        'dist/client/index.js',
        'dist/client/index.d.ts',
        'dist/esm/client.mjs',
        'dist/esm/client.d.mts',
        'dist/dashboard/index.html',
        'dist/dashboard/app.js',
      ]),
    );
    const strays = files.filter((f) => !/^dist\//.test(f) && !['package.json', 'README.md', '.env.example', 'LICENSE'].includes(f));
    expect(strays).toEqual([]);
    expect(files.filter((f) => /\.(ts|map)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(test|bench|\.ci|examples|src)\//.test(f))).toEqual([]);
  });

  it('builds at prepack, and declares Nest, rxjs and reflect-metadata as peers (the app keeps one @nestjs/core)', () => {
    const manifest = createRequire(join(host, 'package.json'))('longlink/package.json') as {
      private?: boolean;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(manifest.private).toBeUndefined();
    // What packProject ran is what `npm pack` runs in a fresh clone.
    expect(manifest.scripts).toMatchObject({ prepack: 'npm run build', build: 'node scripts/build.mjs' });
    expect(Object.keys(manifest.dependencies).filter((d) => d.startsWith('@nestjs/') || d === 'rxjs' || d === 'reflect-metadata')).toEqual([]);
    expect(Object.keys(manifest.peerDependencies)).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core', '@nestjs/microservices', 'rxjs', 'reflect-metadata']));
  });

  it("answers a real client's MSG with the app's own @MessagePattern handler (with @Ctx())", async () => {
    const { LongLinkClient } = createRequire(join(host, 'package.json'))('longlink/client') as typeof ClientEntry;
    client = new LongLinkClient({ host: '127.0.0.1', port: tcpPort, clientId: 'host-dev-1' });
    client.onCommand('reboot', (data) => ({ rebooting: true, data }));
    await client.connect();
    await expect(client.send('greet', { name: 'Ada' })).resolves.toEqual({
      greeting: 'hello Ada',
      clientId: 'host-dev-1',
      sessionId: client.session?.sessionId,
    });
  });

  it("acks the command the app's controller pushes through CommandService", async () => {
    const res = await request(httpUrl).post('/devices/host-dev-1/reboot').send({ delayMs: 5 }).expect(200);
    expect(res.body).toMatchObject({ clientId: 'host-dev-1', name: 'reboot', status: 'acked', result: { rebooting: true, data: { delayMs: 5 } } });
    await request(httpUrl).post('/devices/nobody/reboot').send({}).expect(404);
  });

  it('serves the admin API inside the app, behind its token', async () => {
    await request(httpUrl).get('/clients').expect(401);
    const res = await request(httpUrl).get('/clients').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    expect(res.body.items).toEqual([expect.objectContaining({ clientId: 'host-dev-1', status: 'alive', connected: true })]);
    await request(httpUrl).get('/docs-json').expect(200).expect('content-type', /json/);
  });

  it('loads the same classes from ESM import and CommonJS require', async () => {
    const script = [
      "import { LongLinkModule, PresenceService } from 'longlink';",
      "import { LongLinkClient } from 'longlink/client';",
      "import { createRequire } from 'node:module';",
      "const require = createRequire(process.cwd() + '/package.json');",
      "const same = require('longlink').LongLinkModule === LongLinkModule && require('longlink/client').LongLinkClient === LongLinkClient;",
      'console.log(JSON.stringify({ same, service: typeof PresenceService }));',
    ].join('\n');
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { cwd: host });
    expect(JSON.parse(stdout)).toEqual({ same: true, service: 'function' });
  }, 120_000);

  it('longlink/client loads no Nest module: it runs where no @nestjs package is installed', async () => {
    const bare = join(dir, 'bare');
    await unpackInto(tarball, bare);
    const cjs = [
      "const { LongLinkClient } = require('longlink/client');",
      "new LongLinkClient({ host: '127.0.0.1', port: 1, clientId: 'x' });",
      'console.log(JSON.stringify(Object.keys(require.cache)));',
    ].join('\n');
    const { stdout } = await execFileAsync(process.execPath, ['-e', cjs], { cwd: bare });
    const loaded = (JSON.parse(stdout) as string[]).map((f) => f.slice(f.indexOf('/longlink/') + '/longlink/'.length));
    expect(loaded.length).toBeGreaterThan(5);
    expect(loaded.filter((f) => !/^dist\/(client|protocol|transport\/codec)\//.test(f))).toEqual([]);
    const esm = "import { LongLinkClient } from 'longlink/client'; console.log(typeof LongLinkClient);";
    await expect(execFileAsync(process.execPath, ['--input-type=module', '-e', esm], { cwd: bare })).resolves.toMatchObject({ stdout: 'function\n' });
    // The gateway entry there fails for want of Nest: the check above would see an import of it.
    await expect(execFileAsync(process.execPath, ['-e', "require('longlink')"], { cwd: bare })).rejects.toThrow(/@nestjs\//);
  }, 120_000);
});
