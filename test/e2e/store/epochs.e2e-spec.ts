import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PresenceService } from '../../../src/presence/presence.service';
import { PRESENCE_STORE, PresenceStore } from '../../../src/presence/presence.store';
import { DATABASE_FILE } from '../../../src/store/sqlite/sqlite-database';
import { RawClient } from '../../support/raw-client';
import { startTestGateway, TestGateway } from '../../support/gateway';

/**
 * With SQLite, presence holds every record of the file after start, so the
 * login of a client it does not know reads nothing from the store; its first
 * session is numbered above every epoch loaded or issued, so that no row
 * left in the file (say, a delete that failed) can fence its writes off.
 */
describe('SQLite: session epochs without a read per login', () => {
  let dir: string;
  const gateways: TestGateway[] = [];
  const clients: RawClient[] = [];
  const start = async () => {
    const gw = await startTestGateway({ STORE: 'sqlite', DATA_DIR: dir, SQLITE_COMMIT_WINDOW_MS: 0 });
    gateways.push(gw);
    return gw;
  };
  const login = async (gw: TestGateway, clientId: string) => {
    const c = await RawClient.connect(gw.tcpPort);
    clients.push(c);
    await c.login(clientId);
    return c;
  };
  const record = (gw: TestGateway, clientId: string) => gw.app.get(PresenceService).get(clientId);
  const storedEpochs = () => {
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    try {
      return Object.fromEntries((db.prepare('SELECT client_id, epoch FROM clients ORDER BY client_id').all() as Array<{ client_id: string; epoch: number }>).map((r) => [r.client_id, r.epoch]));
    } finally {
      db.close();
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'longlink-epochs-'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const gw of gateways.splice(0)) await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('numbers a new client above every epoch in the file, and a known one after its own', async () => {
    const first = await start();
    for (let i = 0; i < 3; i++) (await login(first, 'veteran')).close();
    await login(first, 'veteran');
    await expect(record(first, 'veteran')).resolves.toMatchObject({ epoch: 4 });
    await first.close();
    expect(storedEpochs()).toEqual({ veteran: 4 });

    // The file holds a higher epoch than any session of the first run (as a row written elsewhere would).
    const db = new Database(join(dir, DATABASE_FILE));
    db.prepare("UPDATE clients SET epoch = 9, record = json_set(record, '$.epoch', 9) WHERE client_id = 'veteran'").run();
    db.prepare(
      "INSERT INTO clients (client_id, epoch, status, connected, node_id, meta_lc, record) SELECT 'orphan', 7, status, 0, node_id, meta_lc, json_set(record, '$.clientId', 'orphan', '$.epoch', 7) FROM clients",
    ).run();
    db.close();

    const second = await start();
    const store = second.app.get<PresenceStore>(PRESENCE_STORE);
    const reads = jest.spyOn(store, 'get');
    await login(second, 'newcomer');
    // Nothing read from the file for it: the records of the file are all held since start.
    expect(reads).not.toHaveBeenCalled();
    await expect(record(second, 'newcomer')).resolves.toMatchObject({ status: 'alive', epoch: 10 });
    await login(second, 'veteran');
    await expect(record(second, 'veteran')).resolves.toMatchObject({ status: 'alive', epoch: 10 });
    await second.close();
    // Both written, none fenced off by an older row.
    expect(storedEpochs()).toMatchObject({ newcomer: 10, veteran: 10, orphan: 7 });
  });
});
