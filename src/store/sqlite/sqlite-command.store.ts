import type { Statement } from 'better-sqlite3';
import type { CommandChange, CommandPatch, CommandStore, InsertResult } from '../../commands/command.store';
import type { CommandQuery, CommandRecord, CommandStatus } from '../../commands/command.types';
import { DEFAULT_COMMAND_PAGE_SIZE, decodeCommandCursor, encodeCommandCursor, MAX_COMMAND_PAGE_SIZE } from '../../commands/memory-command.store';
import type { Page, PageRequest } from '../../presence/presence.types';
import type { SqliteDatabase } from './sqlite-database';

/** A row of `commands` (see migrations.ts): JSON columns as text, unset fields NULL. */
interface Row {
  seq: number;
  id: string;
  client_id: string;
  batch_id: string | null;
  name: string;
  data: string | null;
  status: CommandStatus;
  created_at: number;
  sent_at: number | null;
  acked_at: number | null;
  result: string | null;
  error: string | null;
  expires_at: number;
  finished_at: number | null;
  attempts: number;
}

const INSERTED: InsertResult = Object.freeze({ ok: true });

/** Rows of insertManyNow waiting for their INSERT. */
interface Deferred {
  rows: unknown[][];
  /** Pending (queued/sent) rows per client, for the bound. */
  pending: Map<string, number>;
  committed: Promise<void>;
  settle: { resolve: () => void; reject: (error: unknown) => void };
}
const PENDING = "status IN ('queued', 'sent')";
const FINAL = "status IN ('acked', 'failed', 'expired')";

/**
 * Commands in SQLite (table `commands`). Every write is one synchronous
 * function run in the group commit's transaction, so the compare-and-set of
 * `insert` (the per-client bound) and `transition` (the expected status) is
 * atomic, and the promise settles after the COMMIT: an HTTP 202 that awaited it
 * names a command that survives a crash.
 */
export class SqliteCommandStore implements CommandStore {
  private readonly insertRow: Statement;
  private readonly countPending: Statement;
  private readonly selectById: Statement;
  private readonly updateRow: Statement;
  private readonly selectPending: Statement;
  private readonly selectDue: Statement;
  private readonly purge: Statement;
  private readonly statements = new Map<string, Statement>();
  /** A broadcast's inserts in one savepoint: all of them or, when one fails, none. */
  private readonly addMany: (commands: readonly CommandRecord[], args: unknown[][], maxPending: number) => InsertResult[];
  private readonly insertRows: (rows: unknown[][]) => void;
  /** Rows accepted by insertManyNow, inserted at the end of the caller's synchronous code or by the next call here. */
  private deferred: Deferred | undefined;

  constructor(private readonly database: SqliteDatabase) {
    const db = database.db;
    this.addMany = db.transaction((commands: readonly CommandRecord[], args: unknown[][], maxPending: number) => {
      const counts = new Map<string, number>();
      return commands.map((c, i) => this.add(c.clientId, c.status, args[i], maxPending, counts));
    });
    this.insertRows = db.transaction((rows: unknown[][]) => {
      for (const row of rows) this.insertRow.run(row);
    });
    // INDEXED BY pins the partial indexes: without statistics the planner
    // would take the status index and walk every pending row.
    this.insertRow = db.prepare(`INSERT INTO commands (id, client_id, batch_id, name, data, status, created_at, sent_at, acked_at, result, error, expires_at, finished_at, attempts)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.countPending = db.prepare(`SELECT count(*) FROM commands INDEXED BY commands_pending WHERE client_id = ? AND ${PENDING}`).pluck();
    this.selectById = db.prepare('SELECT * FROM commands WHERE id = ?');
    this.updateRow = db.prepare('UPDATE commands SET status = ?, sent_at = ?, acked_at = ?, result = ?, error = ?, finished_at = ?, attempts = ? WHERE seq = ?');
    this.selectPending = db.prepare(`SELECT * FROM commands INDEXED BY commands_pending WHERE client_id = ? AND ${PENDING} ORDER BY seq`);
    this.selectDue = db.prepare(`SELECT * FROM commands INDEXED BY commands_due WHERE expires_at <= ? AND ${PENDING} ORDER BY seq`);
    // A final command stored without finishedAt counts as finished at 0, as in the memory store.
    this.purge = db.prepare(`DELETE FROM commands INDEXED BY commands_finished WHERE ${FINAL} AND (finished_at <= ? OR finished_at IS NULL)`);
  }

  insert(command: CommandRecord, maxPending: number): Promise<InsertResult> {
    this.settleDeferred();
    const args = toArgs(command);
    return this.database.write(() => this.add(command.clientId, command.status, args, maxPending, new Map()));
  }

  insertMany(commands: readonly CommandRecord[], maxPending: number): Promise<InsertResult[]> {
    this.settleDeferred();
    // A broadcast repeats the same data object: serialised once.
    const json = new Map<unknown, string | null>();
    const all = commands.map((c) => toArgs(c, json));
    return this.database.write(() => this.addMany(commands, all, maxPending));
  }

  /**
   * `insertMany` for a sender that writes the CMDs before the rows are
   * stored (a broadcast to 10,000 clients need not wait for 10,000 INSERTs
   * to reach the first one): the per-client bound is decided now, the rows
   * are inserted right after the caller's synchronous code (a microtask, so
   * before any ACK can be read), and `committed` resolves once their
   * transaction is committed; the HTTP answer waits for that.
   */
  insertManyNow(commands: readonly CommandRecord[], maxPending: number): { results: InsertResult[]; committed: Promise<void> } {
    const json = new Map<unknown, string | null>();
    const counts = new Map<string, number>();
    const results: InsertResult[] = new Array(commands.length);
    const deferred = this.defer();
    this.database.read(() => {
      for (let i = 0; i < commands.length; i++) {
        const c = commands[i];
        const final = !(c.status === 'queued' || c.status === 'sent');
        let pending = counts.get(c.clientId);
        if (pending === undefined) pending = this.pendingOf(c.clientId);
        if (!final && pending >= maxPending) {
          counts.set(c.clientId, pending);
          results[i] = { ok: false, pending };
          continue;
        }
        deferred.rows.push(toArgs(c, json));
        if (!final) {
          pending++;
          deferred.pending.set(c.clientId, (deferred.pending.get(c.clientId) ?? 0) + 1);
        }
        counts.set(c.clientId, pending);
        results[i] = INSERTED;
      }
    });
    return { results, committed: deferred.committed };
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    this.settleDeferred();
    const row = this.database.read(() => this.selectById.get(id)) as Row | undefined;
    return row && toRecord(row);
  }

  async update(id: string, from: readonly CommandStatus[], patch: CommandPatch): Promise<CommandRecord | undefined> {
    return (await this.transition(id, from, patch))?.record;
  }

  transition(id: string, from: readonly CommandStatus[], patch: CommandPatch, clientId?: string): Promise<CommandChange | undefined> {
    this.settleDeferred();
    const json = patchJson(patch);
    return this.database.write(() => {
      const row = this.selectById.get(id) as Row | undefined;
      if (!row || (clientId !== undefined && row.client_id !== clientId) || !from.includes(row.status)) return undefined;
      const before = row.status;
      applyPatch(row, patch, json);
      this.updateRow.run(row.status, row.sent_at, row.acked_at, row.result, row.error, row.finished_at, row.attempts, row.seq);
      return { record: toRecord(row), from: before };
    });
  }

  async pending(clientId: string): Promise<CommandRecord[]> {
    this.settleDeferred();
    return (this.database.read(() => this.selectPending.all(clientId)) as Row[]).map(toRecord);
  }

  async pendingCount(clientId: string): Promise<number> {
    return this.database.read(() => this.pendingOf(clientId));
  }

  async due(now: number): Promise<CommandRecord[]> {
    this.settleDeferred();
    return (this.database.read(() => this.selectDue.all(now)) as Row[]).map(toRecord);
  }

  purgeFinished(before: number): Promise<number> {
    this.settleDeferred();
    return this.database.write(() => this.purge.run(before).changes);
  }

  async list(query: CommandQuery, page: PageRequest): Promise<Page<CommandRecord>> {
    this.settleDeferred();
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_COMMAND_PAGE_SIZE, 1), MAX_COMMAND_PAGE_SIZE);
    const after = decodeCommandCursor(page.cursor);
    const parts: string[] = [];
    const params: unknown[] = [];
    let key = '';
    if (query.clientId !== undefined) (parts.push('client_id = ?'), params.push(query.clientId), (key += 'c'));
    if (query.batchId !== undefined) (parts.push('batch_id = ?'), params.push(query.batchId), (key += 'b'));
    if (query.status !== undefined) (parts.push('status = ?'), params.push(query.status), (key += 's'));
    const where = parts.length > 0 ? parts.join(' AND ') : '1';
    return this.database.read(() => {
      const total = this.statement(`count:${key}`, `SELECT count(*) FROM commands WHERE ${where}`).pluck().get(params) as number;
      const rows = this.statement(`page:${key}`, `SELECT * FROM commands WHERE ${where} AND seq > ? ORDER BY seq LIMIT ?`).all([...params, after, limit + 1]) as Row[];
      const more = rows.length > limit;
      if (more) rows.length = limit;
      return { items: rows.map(toRecord), total, ...(more ? { nextCursor: encodeCommandCursor(rows[rows.length - 1].seq) } : {}) };
    });
  }

  /** The open deferred batch, made (with its microtask) on first use. */
  private defer(): Deferred {
    if (this.deferred) return this.deferred;
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const committed = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const deferred: Deferred = { rows: [], pending: new Map(), committed, settle };
    this.deferred = deferred;
    queueMicrotask(() => this.settleDeferred());
    return deferred;
  }

  /**
   * Inserts the deferred rows now. Every other method calls it first, so
   * that what they read and write comes after those rows, in call order.
   */
  private settleDeferred(): void {
    const deferred = this.deferred;
    if (!deferred) return;
    this.deferred = undefined;
    this.database.write(() => this.insertRows(deferred.rows)).then(deferred.settle.resolve, deferred.settle.reject);
  }

  /** Queued and sent commands of the client, counting deferred rows. */
  private pendingOf(clientId: string): number {
    return (this.countPending.get(clientId) as number) + (this.deferred?.pending.get(clientId) ?? 0);
  }

  /** Inserts unless the client is full; `counts` carries the pending counts of this batch's clients so far. */
  private add(clientId: string, status: CommandStatus, args: unknown[], maxPending: number, counts: Map<string, number>): InsertResult {
    const final = !(status === 'queued' || status === 'sent');
    let pending = counts.get(clientId);
    if (pending === undefined) pending = this.countPending.get(clientId) as number;
    if (!final && pending >= maxPending) {
      counts.set(clientId, pending);
      return { ok: false, pending };
    }
    this.insertRow.run(args);
    counts.set(clientId, final ? pending : pending + 1);
    return INSERTED;
  }

  private statement(key: string, sql: string): Statement {
    let statement = this.statements.get(key);
    if (!statement) this.statements.set(key, (statement = this.database.db.prepare(sql)));
    return statement;
  }
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** The INSERT parameters, computed when the call is made (the caller may reuse its objects afterwards). */
function toArgs(c: CommandRecord, cache?: Map<unknown, string | null>): unknown[] {
  let data: string | null;
  if (cache && typeof c.data === 'object' && c.data !== null) {
    data = cache.get(c.data) ?? null;
    if (data === null) cache.set(c.data, (data = json(c.data)));
  } else data = json(c.data);
  return [c.id, c.clientId, c.batchId ?? null, c.name, data, c.status, c.createdAt, c.sentAt ?? null, c.ackedAt ?? null, json(c.result), json(c.error), c.expiresAt, c.finishedAt ?? null, c.attempts];
}

/** The patch's object-valued fields as JSON, made at call time. */
function patchJson(patch: CommandPatch): { result: string | null; error: string | null } {
  return { result: 'result' in patch ? json(patch.result) : null, error: 'error' in patch ? json(patch.error) : null };
}

function applyPatch(row: Row, patch: CommandPatch, j: { result: string | null; error: string | null }): void {
  if ('status' in patch) row.status = patch.status as CommandStatus;
  if ('sentAt' in patch) row.sent_at = patch.sentAt ?? null;
  if ('attempts' in patch) row.attempts = patch.attempts as number;
  if ('ackedAt' in patch) row.acked_at = patch.ackedAt ?? null;
  if ('finishedAt' in patch) row.finished_at = patch.finishedAt ?? null;
  if ('result' in patch) row.result = j.result;
  if ('error' in patch) row.error = j.error;
}

/** The record as the memory store shows it: fields in CommandRecord order, unset ones absent. */
function toRecord(r: Row): CommandRecord {
  const out = { id: r.id, clientId: r.client_id, name: r.name } as CommandRecord;
  if (r.data !== null) out.data = JSON.parse(r.data);
  out.status = r.status;
  out.createdAt = r.created_at;
  if (r.sent_at !== null) out.sentAt = r.sent_at;
  if (r.acked_at !== null) out.ackedAt = r.acked_at;
  if (r.result !== null) out.result = JSON.parse(r.result);
  if (r.error !== null) out.error = JSON.parse(r.error);
  out.expiresAt = r.expires_at;
  if (r.finished_at !== null) out.finishedAt = r.finished_at;
  out.attempts = r.attempts;
  if (r.batch_id !== null) out.batchId = r.batch_id;
  return out;
}
