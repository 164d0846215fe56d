import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, SqliteDatabase } from '../../../src/store/sqlite/sqlite-database';
import { SqliteCommandStore } from '../../../src/store/sqlite/sqlite-command.store';
import { SqlitePresenceStore } from '../../../src/store/sqlite/sqlite-presence.store';
import { commandRecord, commandStoreContract } from '../../contract/command-store.contract';
import { presenceRecord, presenceStoreContract } from '../../contract/presence-store.contract';

/** A fresh database file in its own temp dir, removed on close. */
function tempDatabase(): { database: SqliteDatabase; dir: string; close(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'longlink-store-'));
  const database = SqliteDatabase.open({ dataDir: dir });
  return {
    database,
    dir,
    async close() {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

presenceStoreContract('sqlite', async () => {
  const t = tempDatabase();
  return { store: new SqlitePresenceStore(t.database), close: t.close };
});

commandStoreContract('sqlite', async () => {
  const t = tempDatabase();
  return { store: new SqliteCommandStore(t.database), close: t.close };
});

describe('SQLite stores on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'longlink-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keep records and commands, with every field, across close and reopen', async () => {
    const db1 = SqliteDatabase.open({ dataDir: dir });
    const presence1 = new SqlitePresenceStore(db1);
    const commands1 = new SqliteCommandStore(db1);
    const record = presenceRecord('dev-1', { epoch: 3, meta: { region: 'eu' }, transitions: [{ clientId: 'dev-1', from: null, to: 'alive', reason: 'login', at: 1, nodeId: 'n' }] });
    const queued = commandRecord('dev-1', { data: { x: [1] }, batchId: 'B' });
    const acked = commandRecord('dev-1');
    await presence1.save(structuredClone(record));
    await commands1.insertMany([structuredClone(queued), structuredClone(acked)], 10);
    await commands1.transition(acked.id, ['queued'], { status: 'acked', ackedAt: 5, finishedAt: 5, result: { ok: 1 } }, 'dev-1');
    db1.close();

    const db2 = SqliteDatabase.open({ dataDir: dir });
    const presence2 = new SqlitePresenceStore(db2);
    const commands2 = new SqliteCommandStore(db2);
    expect(await presence2.get('dev-1')).toEqual(record);
    expect(await commands2.pending('dev-1')).toEqual([queued]);
    expect(await commands2.get(acked.id)).toEqual({ ...acked, status: 'acked', ackedAt: 5, finishedAt: 5, result: { ok: 1 } });
    // The fence survives too: an older session's late write still loses.
    expect(await presence2.save(presenceRecord('dev-1', { epoch: 2 }))).toBe(false);
    db2.close();
  });

  it('insertManyNow: decides the bound at once, stores the rows after the caller\'s code, settles after the commit', async () => {
    const db = SqliteDatabase.open({ dataDir: dir });
    const commands = new SqliteCommandStore(db);
    const observer = new Database(join(dir, DATABASE_FILE), { readonly: true });
    const committedRows = () => observer.prepare('SELECT count(*) FROM commands').pluck().get() as number;
    await commands.insert(commandRecord('a'), 2);
    const batch = [commandRecord('a'), commandRecord('b'), commandRecord('a'), commandRecord('b', { status: 'acked', finishedAt: 1 })];
    const { results, committed } = commands.insertManyNow(batch, 2);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: false, pending: 2 }, { ok: true }]);
    // The bound already counts what is accepted but not inserted yet.
    expect(await commands.pendingCount('a')).toBe(2);
    expect(committedRows()).toBe(1);
    await committed;
    expect(committedRows()).toBe(4);
    expect((await commands.pending('a')).map((c) => c.id)).toEqual([expect.any(String), batch[0].id]);
    observer.close();
    db.close();
  });

  it('insertManyNow: a call right after it sees its rows, in call order', async () => {
    const db = SqliteDatabase.open({ dataDir: dir });
    const commands = new SqliteCommandStore(db);
    const first = commandRecord('a');
    const second = commandRecord('a');
    const { committed } = commands.insertManyNow([first], 10);
    const inserted = commands.insert(second, 10);
    expect(await commands.get(first.id)).toMatchObject({ id: first.id });
    await Promise.all([committed, inserted]);
    expect((await commands.pending('a')).map((c) => c.id)).toEqual([first.id, second.id]);
    db.close();
  });

  it('answer the searched and listed queries from indexes, not by scanning the table', () => {
    const db = SqliteDatabase.open({ dataDir: dir });
    const plan = (sql: string) =>
      (db.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    // Commands: by client, batch, status, the pending set, expiry and retention.
    expect(plan("SELECT * FROM commands WHERE client_id = 'a' AND seq > 0 ORDER BY seq LIMIT 10")).toMatch(/USING INDEX commands_(by_client|pending)/);
    expect(plan("SELECT * FROM commands WHERE batch_id = 'b' AND status = 'acked' AND seq > 0 ORDER BY seq")).toMatch(/USING INDEX commands_by_(batch|status)/);
    expect(plan("SELECT * FROM commands WHERE status = 'sent' AND seq > 0 ORDER BY seq")).toMatch(/USING INDEX commands_by_status/);
    // The statements of the store itself (INDEXED BY fails to prepare when the index cannot serve them).
    new SqliteCommandStore(db);
    expect(plan("SELECT * FROM commands INDEXED BY commands_pending WHERE client_id = 'a' AND status IN ('queued', 'sent') ORDER BY seq")).toMatch(/USING INDEX commands_pending \(client_id=\?\)/);
    expect(plan("SELECT * FROM commands INDEXED BY commands_due WHERE expires_at <= 5 AND status IN ('queued', 'sent')")).toMatch(/USING INDEX commands_due \(expires_at<\?\)/);
    expect(plan("SELECT * FROM commands WHERE id = 'x'")).toMatch(/USING INDEX sqlite_autoindex_commands/);
    // Clients: by status and connected, in clientId order; q over clientId and meta reads only the narrow index columns it needs.
    expect(plan("SELECT client_id FROM clients WHERE status = 'alive' AND client_id > '' ORDER BY client_id")).toMatch(/USING COVERING INDEX clients_by_status/);
    expect(plan("SELECT client_id FROM clients WHERE connected = 1 AND client_id > '' ORDER BY client_id")).toMatch(/USING COVERING INDEX clients_by_connected/);
    db.close();
  });
});
