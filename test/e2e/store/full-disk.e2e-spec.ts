import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqliteDatabase } from '../../../src/store/sqlite/sqlite-database';
import { SQLITE_DATABASE } from '../../../src/store/sqlite/sqlite.providers';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

/**
 * A full disk, simulated with `PRAGMA max_page_count` (the database may
 * not grow): the write that needs room fails with 503, and the gateway
 * keeps serving, and storing again once there is room.
 */
describe('STORE=sqlite on a full disk', () => {
  let dir: string;
  let gw: TestGateway;
  let client: RawClient;
  let database: SqliteDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'longlink-full-'));
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, STORE: 'sqlite', DATA_DIR: dir });
    database = gw.app.get<SqliteDatabase>(SQLITE_DATABASE);
    client = await loggedIn(gw, 'full-1');
  });
  afterAll(async () => {
    client.close();
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 for the command that does not fit, and 202 again once there is room', async () => {
    const pages = database.db.pragma('page_count', { simple: true }) as number;
    database.db.pragma(`max_page_count = ${pages}`);
    const big = { blob: 'x'.repeat(60_000) };
    const refused = await api(gw).post('/clients/full-1/commands').send({ name: 'big', data: big, queue: true }).expect(503);
    expect(refused.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/database is full/) });
    // Still serving: reads answer, and nothing half-written is listed.
    await api(gw).get('/health/live').expect(200);
    expect((await api(gw).get('/clients/full-1/commands').expect(200)).body.total).toBe(0);
    expect((await api(gw).get('/clients/full-1').expect(200)).body).toMatchObject({ status: 'alive' });

    database.db.pragma(`max_page_count = ${pages + 10_000}`);
    const accepted = await api(gw).post('/clients/full-1/commands').send({ name: 'big', data: big }).expect(202);
    expect((await client.nextOfType('CMD')).id).toBe(accepted.body.id);
    expect((await api(gw).get(`/commands/${accepted.body.id}`).expect(200)).body).toMatchObject({ status: 'sent', data: big });
  });
});
