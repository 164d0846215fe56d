import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startTestGateway, TestGateway } from '../../support/gateway';

const ROOT = join(__dirname, '..', '..', '..');
const run = promisify(execFile);

/** The OpenAPI document the gateway serves, linted by Redocly's `recommended` ruleset (redocly.yaml). */
describe('OpenAPI document', () => {
  let gw: TestGateway;
  let doc: any;
  let dir: string;

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: 'lint-token' });
    doc = (await request(gw.httpUrl).get('/docs-json').expect(200)).body;
    dir = mkdtempSync(join(tmpdir(), 'longlink-openapi-'));
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is served at /docs-json and, as before, at /docs/json', async () => {
    const old = (await request(gw.httpUrl).get('/docs/json').expect(200)).body;
    expect(old).toEqual(doc);
  });

  it('lints clean (no error, no warning) with `redocly lint` and its recommended ruleset', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const redocly = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
    const lint = await run(process.execPath, [redocly, 'lint', '--config', join(ROOT, 'redocly.yaml'), '--format', 'json', file], {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 16 << 20,
    }).catch((error: { stdout?: string; stderr?: string }) => error);
    const report = JSON.parse(lint.stdout ?? '{}') as { totals?: unknown; problems?: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }> };
    const problems = (report.problems ?? []).map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect({ problems, stderr: report.totals ? '' : lint.stderr }).toEqual({ problems: [], stderr: '' });
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  }, 60_000);

  it('names every operation in camelCase and says which need no token', () => {
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        ids.push(op.operationId);
        if (path.startsWith('/health')) expect({ path, method, security: op.security }).toEqual({ path, method, security: [] });
        else {
          expect({ path, method, security: op.security }).toEqual({ path, method, security: [{ 'admin-token': [] }] });
          // redocly.yaml turns operation-4xx-response off for the probes' sake; the rest keep it.
          expect({ path, method, has401: '401' in op.responses }).toEqual({ path, method, has401: true });
        }
      }
    }
    expect(ids).toEqual(expect.arrayContaining(['listClients', 'getClient', 'sendCommand', 'broadcastCommand', 'getCommand', 'listCommands', 'kickClient', 'streamEvents', 'getMetrics']));
    for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes the bearer token as opaque, and the stream and metrics by their content types', () => {
    expect(doc.components.securitySchemes['admin-token']).toEqual({ type: 'http', scheme: 'bearer', description: expect.any(String) });
    expect(Object.keys(doc.paths['/events'].get.responses['200'].content)).toEqual(['text/event-stream']);
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
  });

  it('gives no request field a default (generators would make it non-optional)', () => {
    const withDefault: string[] = [];
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, { properties?: Record<string, { default?: unknown }> }>)) {
      for (const [field, prop] of Object.entries(schema.properties ?? {})) if ('default' in prop) withDefault.push(`${name}.${field}`);
    }
    expect(withDefault).toEqual([]);
  });
});
