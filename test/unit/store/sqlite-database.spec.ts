import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, SqliteDatabase } from '../../../src/store/sqlite/sqlite-database';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations';
import { StoreFullError, StoreStartupError } from '../../../src/store/store.errors';

describe('SqliteDatabase', () => {
  let dir: string;
  const open: SqliteDatabase[] = [];
  const openDb = (options: Partial<Parameters<typeof SqliteDatabase.open>[0]> = {}) => {
    const db = SqliteDatabase.open({ dataDir: join(dir, 'data'), ...options });
    open.push(db);
    return db;
  };
  /** A second connection to the file: it sees only what is committed. */
  const observer = () => new Database(join(dir, 'data', DATABASE_FILE), { readonly: true });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'longlink-sqlite-'));
  });
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates DATA_DIR and the file, in WAL mode, with the schema version of the last migration', () => {
    const db = openDb({ dataDir: join(dir, 'data', 'nested') });
    expect(db.file).toBe(join(dir, 'data', 'nested', DATABASE_FILE));
    expect(db.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.schemaVersion).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
  });

  it('sets synchronous=FULL when asked (SQLITE_SYNCHRONOUS=FULL)', () => {
    expect(openDb({ synchronous: 'FULL' }).db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('commits the writes of one turn in one transaction and resolves them only after the commit', async () => {
    const db = openDb();
    db.db.exec('CREATE TABLE t (v INTEGER)');
    const reader = observer();
    const count = () => reader.prepare('SELECT count(*) FROM t').pluck().get() as number;
    let seenInsideSecond = -1;
    let committedWhenFirstResolved = -1;
    const first = db.write(() => db.db.prepare('INSERT INTO t VALUES (1)').run().changes);
    const second = db.write(() => {
      // The first write is visible here but not committed: the same transaction.
      seenInsideSecond = db.db.prepare('SELECT count(*) FROM t').pluck().get() as number;
      expect(db.db.inTransaction).toBe(true);
      expect(count()).toBe(0);
      return db.db.prepare('INSERT INTO t VALUES (2)').run().changes;
    });
    void first.then(() => (committedWhenFirstResolved = count()));
    expect(count()).toBe(0); // nothing is committed before the end of the turn
    await expect(Promise.all([first, second])).resolves.toEqual([1, 1]);
    expect(seenInsideSecond).toBe(1);
    expect(committedWhenFirstResolved).toBe(2);
    reader.close();
  });

  describe('batched writes (presence rows, SQLITE_COMMIT_WINDOW_MS)', () => {
    const setup = (commitWindowMs?: number) => {
      const db = openDb(commitWindowMs === undefined ? {} : { commitWindowMs });
      db.db.exec('CREATE TABLE t (v INTEGER)');
      const reader = observer();
      const insert = db.db.prepare('INSERT INTO t VALUES (1)');
      return { db, reader, insert, committed: () => reader.prepare('SELECT count(*) FROM t').pluck().get() as number };
    };
    const turn = () => new Promise((resolve) => setImmediate(resolve));

    it('waits for the commit window, not the end of the turn, and resolves only after the commit', async () => {
      // Long enough that two turns of a loaded machine cannot outlast it.
      const { db, reader, insert, committed } = setup(500);
      const started = Date.now();
      const first = db.writeBatched(() => insert.run().changes);
      let resolvedAt = 0;
      void first.then(() => (resolvedAt = Date.now()));
      await turn();
      await turn();
      // A later turn's batched write joins the same open transaction.
      const second = db.writeBatched(() => insert.run().changes);
      expect(db.read(() => db.db.prepare('SELECT count(*) FROM t').pluck().get())).toBe(2); // visible to our reads at once
      expect(committed()).toBe(0);
      expect(resolvedAt).toBe(0);
      await expect(Promise.all([first, second])).resolves.toEqual([1, 1]);
      expect(committed()).toBe(2);
      expect(resolvedAt - started).toBeGreaterThanOrEqual(490);
      reader.close();
    });

    it('commits at the end of the turn when a write someone waits on joins the batch', async () => {
      const { db, reader, insert, committed } = setup(60_000);
      const batched = db.writeBatched(() => insert.run().changes);
      const urgent = db.write(() => insert.run().changes);
      await expect(Promise.all([batched, urgent])).resolves.toEqual([1, 1]);
      // Long before the 60 s window: the write that an HTTP answer waits on took the batch with it.
      expect(committed()).toBe(2);
      reader.close();
    });

    it('commits at the end of the turn once 1,000 batched writes wait', async () => {
      const { db, reader, insert, committed } = setup(60_000);
      const writes = Array.from({ length: 1000 }, () => db.writeBatched(() => insert.run().changes));
      await turn();
      await turn();
      expect(committed()).toBe(1000);
      await Promise.all(writes);
      reader.close();
    });

    it('with a window of 0 commits at the end of the turn like write()', async () => {
      const { db, reader, insert, committed } = setup(0);
      const w = db.writeBatched(() => insert.run().changes);
      await turn();
      expect(committed()).toBe(1);
      await w;
      reader.close();
    });

    it('commits the batch on close', async () => {
      const { db, reader, insert, committed } = setup(60_000);
      const w = db.writeBatched(() => insert.run().changes);
      db.close();
      await expect(w).resolves.toBe(1);
      expect(committed()).toBe(1);
      reader.close();
    });
  });

  it('lets a read see the writes queued before it', () => {
    const db = openDb();
    db.db.exec('CREATE TABLE t (v INTEGER)');
    const written = db.write(() => db.db.prepare('INSERT INTO t VALUES (1)').run());
    expect(db.read(() => db.db.prepare('SELECT count(*) FROM t').pluck().get())).toBe(1);
    return written;
  });

  it('refuses every write of the turn when SQLite had to roll the transaction back', async () => {
    const db = openDb();
    db.db.exec('CREATE TABLE t (v INTEGER)');
    const early = db.write(() => db.db.prepare('INSERT INTO t VALUES (1)').run());
    early.catch(() => undefined); // settled below
    // What SQLite does on SQLITE_FULL or an I/O error: the transaction is gone.
    const failing = db.write(() => {
      db.db.exec('ROLLBACK');
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    await expect(failing).rejects.toBeInstanceOf(StoreFullError);
    await expect(early).rejects.toBeInstanceOf(StoreFullError);
    // The next write opens a new transaction and is stored.
    await db.write(() => db.db.prepare('INSERT INTO t VALUES (2)').run());
    expect(db.read(() => db.db.prepare('SELECT v FROM t').pluck().all())).toEqual([2]);
  });

  it('refuses only the write that fails; the rest of its turn is committed', async () => {
    const db = openDb();
    db.db.exec('CREATE TABLE t (v INTEGER UNIQUE)');
    const ok1 = db.write(() => db.db.prepare('INSERT INTO t VALUES (1)').run().changes);
    const bad = db.write(() => db.db.prepare('INSERT INTO t VALUES (1)').run()).catch((error: unknown) => error);
    const ok2 = db.write(() => db.db.prepare('INSERT INTO t VALUES (2)').run().changes);
    await expect(ok1).resolves.toBe(1);
    expect(await bad).toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    await expect(ok2).resolves.toBe(1);
    expect(db.read(() => db.db.prepare('SELECT v FROM t ORDER BY v').pluck().all())).toEqual([1, 2]);
  });

  it('fails a write on a full database with StoreFullError and keeps working once there is room', async () => {
    const db = openDb();
    db.db.exec('CREATE TABLE t (v TEXT)');
    const pages = db.db.pragma('page_count', { simple: true }) as number;
    db.db.pragma(`max_page_count = ${pages}`); // simulates a full disk: no page may be added
    const big = 'x'.repeat(64 * 1024);
    const full = db.write(() => db.db.prepare('INSERT INTO t VALUES (?)').run(big));
    await expect(full).rejects.toBeInstanceOf(StoreFullError);
    await expect(full).rejects.toThrow(/database is full/);
    db.db.pragma(`max_page_count = ${pages + 1000}`);
    await expect(db.write(() => db.db.prepare('INSERT INTO t VALUES (?)').run(big).changes)).resolves.toBe(1);
  });

  it('keeps what was committed across close and open', async () => {
    const db = openDb();
    db.db.exec('CREATE TABLE t (v INTEGER)');
    void db.write(() => db.db.prepare('INSERT INTO t VALUES (7)').run());
    db.close(); // commits what is queued
    const again = openDb();
    expect(again.read(() => again.db.prepare('SELECT v FROM t').pluck().all())).toEqual([7]);
  });

  it('applies the migrations after the file version on start, and keeps the data', () => {
    const v1 = [{ version: 1, description: 'one', sql: 'CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);' }];
    openDb({ migrations: v1 }).close();
    const v2 = [...v1, { version: 2, description: 'two', sql: 'ALTER TABLE a ADD COLUMN y INTEGER DEFAULT 5;' }];
    const db = openDb({ migrations: v2 });
    expect(db.schemaVersion).toBe(2);
    expect(db.db.prepare('SELECT x, y FROM a').all()).toEqual([{ x: 1, y: 5 }]);
    expect(db.db.prepare('SELECT version, description FROM schema_version ORDER BY version').all()).toEqual([
      { version: 1, description: 'one' },
      { version: 2, description: 'two' },
    ]);
  });

  it('leaves the file as it was when a migration fails', () => {
    const v1 = [{ version: 1, description: 'one', sql: 'CREATE TABLE a (x INTEGER);' }];
    openDb({ migrations: v1 }).close();
    const broken = [...v1, { version: 2, description: 'two', sql: 'CREATE TABLE b (x INTEGER); SELECT * FROM nowhere;' }];
    expect(() => openDb({ migrations: broken })).toThrow(StoreStartupError);
    const db = openDb({ migrations: v1 });
    expect(db.schemaVersion).toBe(1);
    expect(db.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'b'").pluck().get()).toBe(0);
  });

  describe('refuses to start, naming DATA_DIR and the file', () => {
    const expectStartupError = (dataDir: string, text: RegExp) => {
      let error: unknown;
      try {
        openDb({ dataDir });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreStartupError);
      const message = (error as Error).message;
      expect(message).toContain(`DATA_DIR '${dataDir}'`);
      expect(message).toContain(join(dataDir, DATABASE_FILE));
      expect(message).toMatch(text);
    };

    it('when DATA_DIR cannot be created', () => {
      writeFileSync(join(dir, 'plain-file'), 'x');
      expectStartupError(join(dir, 'plain-file', 'data'), /cannot be created or written/);
    });

    it('when DATA_DIR cannot be written', () => {
      if (process.getuid?.() === 0) return; // root writes anywhere; the case above covers the message
      const ro = join(dir, 'ro');
      openDb({ dataDir: ro }).close();
      chmodSync(ro, 0o555);
      try {
        expectStartupError(ro, /cannot be created or written/);
      } finally {
        chmodSync(ro, 0o755);
      }
    });

    it('when the file is not a database', () => {
      const data = join(dir, 'garbage');
      openDb({ dataDir: data }).close();
      writeFileSync(join(data, DATABASE_FILE), Buffer.alloc(8192, 0x5a));
      rmSync(join(data, `${DATABASE_FILE}-wal`), { force: true });
      expectStartupError(data, /not a longlink database or is corrupt/);
    });

    it('when the file is the database of another application', () => {
      const data = join(dir, 'other');
      openDb({ dataDir: data }).close();
      rmSync(join(data, DATABASE_FILE));
      const other = new Database(join(data, DATABASE_FILE));
      other.exec('CREATE TABLE invoices (id INTEGER)');
      other.close();
      expectStartupError(data, /another application/);
    });

    it('when the file is corrupt inside', () => {
      const data = join(dir, 'corrupt');
      const db = openDb({ dataDir: data });
      db.db.exec('CREATE TABLE t (v TEXT); CREATE INDEX t_v ON t (v);');
      const insert = db.db.prepare('INSERT INTO t VALUES (?)');
      db.db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run(`row-${i}-${'y'.repeat(100)}`);
      })();
      db.close();
      // Overwrite pages in the middle of the file (past the header and schema page).
      const { openSync, writeSync, closeSync, statSync } = require('node:fs') as typeof import('node:fs');
      const file = join(data, DATABASE_FILE);
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(4096 * 4, 0xa5), 0, 4096 * 4, Math.floor(size / 2 / 4096) * 4096);
      closeSync(fd);
      expectStartupError(data, /corrupt/);
    });

    it('when the schema is newer than this build', () => {
      const data = join(dir, 'newer');
      const db = openDb({ dataDir: data });
      db.db.prepare('INSERT INTO schema_version VALUES (999, ?, 0)').run('from the future');
      db.close();
      expectStartupError(data, /schema version 999 is newer/);
    });
  });
});
