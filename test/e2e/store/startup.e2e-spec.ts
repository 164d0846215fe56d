import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, GatewayProcess } from '../../support/gateway-process';

/** `node dist/main.js` refuses to start on a DATA_DIR it cannot use, and says which and why; it never falls back to memory. */
describe('start-up with STORE=sqlite (the default)', () => {
  let cwd: string;

  beforeAll(() => {
    ensureBuilt();
    cwd = mkdtempSync(join(tmpdir(), 'longlink-startup-'));
  }, 120_000);
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  async function expectRefused(env: Record<string, string>, ...texts: RegExp[]): Promise<void> {
    const gateway = GatewayProcess.spawn({ TCP_HOST: '127.0.0.1', TCP_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...env }, { cwd });
    const [code] = await gateway.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    for (const text of texts) expect(gateway.output()).toMatch(text);
    expect(gateway.output()).not.toMatch(/listening on tcp/);
  }

  it('creates ./data under the working directory by default', async () => {
    const here = join(cwd, 'default');
    mkdirSync(here);
    // No DATA_DIR; LOG_LEVEL at its default, which logs the file's path.
    const gateway = await GatewayProcess.start({ LOG_LEVEL: 'log' }, { cwd: here });
    try {
      await gateway.waitFor(/longlink\.db/);
    } finally {
      await gateway.stop();
    }
    expect(gateway.output()).toContain(join(here, 'data', 'longlink.db'));
  });

  it('fails naming DATA_DIR and the file when DATA_DIR cannot be created', async () => {
    writeFileSync(join(cwd, 'a-file'), 'not a directory');
    const dataDir = join(cwd, 'a-file', 'data');
    await expectRefused({ DATA_DIR: dataDir }, new RegExp(`DATA_DIR '${dataDir}'`), /longlink\.db/, /cannot be created or written/);
  });

  it('fails naming DATA_DIR and the file when the file is not a database (corrupt)', async () => {
    const dataDir = join(cwd, 'corrupt');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'longlink.db'), Buffer.alloc(16384, 0x42));
    await expectRefused({ DATA_DIR: dataDir }, new RegExp(`DATA_DIR '${dataDir}'`), new RegExp(`${dataDir}/longlink\\.db`), /not a longlink database or is corrupt/);
  });

  it('fails naming the key when SQLITE_SYNCHRONOUS is not NORMAL or FULL', async () => {
    await expectRefused({ SQLITE_SYNCHRONOUS: 'OFF' }, /SQLITE_SYNCHRONOUS: must be NORMAL or FULL \(got 'OFF'\)/);
  });
});
