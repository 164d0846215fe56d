import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreFullError, StoreStartupError, StoreUnavailableError } from '../store.errors';
import { MIGRATIONS, Migration } from './migrations';

/** The file under DATA_DIR. */
export const DATABASE_FILE = 'longlink.db';
/** `PRAGMA application_id` of our files ('LLNK'): tells our database from any other SQLite file. */
export const APPLICATION_ID = 0x4c4c4e4b;

export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteDatabaseOptions {
  /** The directory (DATA_DIR); created when missing. */
  dataDir: string;
  /** NORMAL survives a process crash, FULL also a power cut (SQLITE_SYNCHRONOUS). @default 'NORMAL' */
  synchronous?: SqliteSynchronous;
  /** For tests: the schema steps to apply. @default MIGRATIONS */
  migrations?: readonly Migration[];
  /** How long a batched write may wait for its COMMIT (SQLITE_COMMIT_WINDOW_MS; 0: the end of its turn). @default 5 */
  commitWindowMs?: number;
}

/** Batched writes waiting in one transaction before it is committed anyway (a login burst's rows). */
const MAX_BATCHED_WRITES = 1000;

/** A write done in the open transaction, waiting for its COMMIT. */
interface Done {
  value: unknown;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

/**
 * The one SQLite connection of the process, shared by the stores, with
 * group commit: the first write of an event-loop turn opens a transaction,
 * every write of the turn runs in it at once (so its result, and every read
 * after it, sees it), and one COMMIT at the end of the turn (setImmediate)
 * settles all their promises. One WAL append per turn instead of one per
 * write is what keeps a burst of 10,000 ACKs cheap, and a caller that
 * awaited a write (an HTTP 202) knows its row is committed.
 *
 * A write that fails is refused alone (SQLite undoes the failed statement;
 * a write of several statements takes a savepoint), unless SQLite had to
 * roll back the whole transaction (a full disk, an I/O error): then every
 * write of the turn so far is refused with that error, and nothing of them
 * is stored.
 */
export class SqliteDatabase {
  readonly db: Database.Database;
  readonly file: string;
  readonly dataDir: string;
  private done: Done[] = [];
  private scheduled = false;
  private windowTimer: NodeJS.Timeout | undefined;
  private batched = 0;
  private closed = false;
  private readonly commitWindowMs: number;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly commitSoon = () => {
    this.scheduled = false;
    this.flush();
  };

  private constructor(db: Database.Database, dataDir: string, file: string, commitWindowMs: number) {
    this.db = db;
    this.commitWindowMs = commitWindowMs;
    this.dataDir = dataDir;
    this.file = file;
    this.begin = db.prepare('BEGIN');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /**
   * Creates DATA_DIR when missing, opens (or creates) the file, checks that
   * it is ours and sound, and applies pending migrations. Any problem is a
   * StoreStartupError naming DATA_DIR and the file.
   */
  static open(options: SqliteDatabaseOptions): SqliteDatabase {
    const dataDir = resolve(options.dataDir);
    const file = join(dataDir, DATABASE_FILE);
    const where = `DATA_DIR '${options.dataDir}' (database file ${file})`;
    try {
      mkdirSync(dataDir, { recursive: true });
      accessSync(dataDir, constants.W_OK | constants.R_OK);
    } catch (error) {
      throw new StoreStartupError(`${where}: the directory cannot be created or written (${describe(error)})`);
    }
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (error) {
      throw new StoreStartupError(`${where}: cannot open the database file (${describe(error)})`);
    }
    try {
      checkOwnership(db, where);
      // Reads every page once (0.6 s for 100,000 records on this busy 2-core machine): a damaged file is refused before it is written to.
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new StoreStartupError(`${where}: the database is corrupt (quick_check: ${String(check)}); restore it from a backup or move it away`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      migrate(db, options.migrations ?? MIGRATIONS, where);
    } catch (error) {
      db.close();
      if (error instanceof StoreStartupError) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new StoreStartupError(`${where}: the file is not a longlink database or is corrupt (${describe(error)}); move it away or point DATA_DIR elsewhere`);
      }
      throw new StoreStartupError(`${where}: cannot use the database (${describe(error)})`);
    }
    return new SqliteDatabase(db, dataDir, file, options.commitWindowMs ?? 5);
  }

  /** The schema version of the open file. */
  get schemaVersion(): number {
    return currentVersion(this.db);
  }

  /**
   * Runs `run` now, in this turn's transaction; resolves with what it
   * returned once that transaction is committed, at the end of this turn.
   * `run` must do at most one writing statement, or use `db.transaction()`
   * (a savepoint here). For writes a caller waits on (an HTTP 202).
   */
  write<T>(run: () => T): Promise<T> {
    if (!this.closed && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.commitSoon);
    }
    return this.run(run);
  }

  /**
   * As `write`, but the COMMIT may wait up to the commit window (a few ms)
   * for more writes to share it, or until MAX_BATCHED_WRITES are waiting.
   * For writes nobody answers on: presence rows. A login burst then costs
   * one COMMIT per few dozen logins instead of one each (a COMMIT is ~35 µs
   * of CPU here, most of it the WAL write); a crash loses at most the
   * window's rows, and a record lost so is rebuilt by the client's next login.
   */
  writeBatched<T>(run: () => T): Promise<T> {
    if (!this.closed && !this.scheduled) {
      if (this.commitWindowMs === 0 || ++this.batched >= MAX_BATCHED_WRITES) {
        this.scheduled = true;
        setImmediate(this.commitSoon);
      } else if (this.windowTimer === undefined) {
        this.windowTimer = setTimeout(this.commitSoon, this.commitWindowMs);
      }
    }
    return this.run(run);
  }

  private run<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the database is closed (the gateway is shutting down)'));
    let value: T;
    try {
      if (!this.db.inTransaction) this.begin.run();
      value = run();
    } catch (error) {
      const refused = storeError(error, this.dataDir);
      // SQLite rolled back the whole transaction (SQLITE_FULL, I/O): the turn's earlier writes are gone too.
      if (!this.db.inTransaction) this.fail(refused);
      return Promise.reject(refused);
    }
    return new Promise<T>((resolve, reject) => this.done.push({ value, resolve, reject }));
  }

  /** Commits the open transaction now (the end of the turn does it anyway; close too). */
  flush(): void {
    if (this.windowTimer !== undefined) {
      clearTimeout(this.windowTimer);
      this.windowTimer = undefined;
    }
    this.batched = 0;
    if (!this.db.inTransaction) return;
    try {
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      this.fail(storeError(error, this.dataDir));
      return;
    }
    const done = this.done;
    this.done = [];
    for (const d of done) d.resolve(d.value);
  }

  /** Runs a read; it sees this turn's writes (same connection). Driver faults become store errors. */
  read<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw storeError(error, this.dataDir);
    }
  }

  private fail(error: unknown): void {
    const done = this.done;
    this.done = [];
    for (const d of done) d.reject(error);
  }

  /** Commits what is queued and closes the file; later writes are refused. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.scheduled = false;
    this.closed = true;
    this.db.close();
  }
}

/** A driver error as what the caller can act on: a full disk or another fault of the store is a StoreUnavailableError. */
export function storeError(error: unknown, dataDir: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  if (code === 'SQLITE_FULL') {
    return new StoreFullError(`the database is full (disk or size limit under DATA_DIR ${dataDir}); the write was not stored`, code);
  }
  if (code === 'SQLITE_CONSTRAINT' || code.startsWith('SQLITE_CONSTRAINT_') || code === 'SQLITE_MISUSE' || code === 'SQLITE_RANGE') return error;
  return new StoreUnavailableError(`the database failed (${code}): ${(error as Error).message}`, code);
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? error);
}

/** An empty file becomes ours; a file with another application id, or tables but no id, is someone else's. */
function checkOwnership(db: Database.Database, where: string): void {
  const id = db.pragma('application_id', { simple: true }) as number;
  if (id === APPLICATION_ID) return;
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
  if (id !== 0 || tables.n > 0) {
    throw new StoreStartupError(`${where}: the file is a SQLite database of another application (application_id ${id}); move it away or point DATA_DIR elsewhere`);
  }
  db.pragma(`application_id = ${APPLICATION_ID}`);
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies the steps after the file's version, all in one transaction (a failed step leaves the file as it was). */
function migrate(db: Database.Database, migrations: readonly Migration[], where: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  const from = currentVersion(db);
  if (from > latest) {
    throw new StoreStartupError(`${where}: schema version ${from} is newer than this build knows (${latest}); run the newer longlink or restore a backup`);
  }
  const record = db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const m of migrations) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      record.run(m.version, m.description, Date.now());
    }
  })();
}
