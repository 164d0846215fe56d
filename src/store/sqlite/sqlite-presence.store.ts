import type { Statement } from 'better-sqlite3';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../presence/memory-presence.store';
import { decodeCursor, encodeCursor, matchesFilter, PresenceStore } from '../../presence/presence.store';
import type { ClientFilter, ClientRecord, Page, PageRequest, PresenceStats, PresenceStatus } from '../../presence/presence.types';
import type { SqliteDatabase } from './sqlite-database';

/** A filter as SQL: the WHERE clause (without cursor) and its parameters; meta is matched in JS. */
interface SqlFilter {
  key: string;
  where: string;
  params: unknown[];
}

/**
 * Client records in SQLite (table `clients`, see migrations.ts). The record
 * is stored whole as JSON; status, connected, node and the lower-cased meta
 * are columns beside it for filters and counts. Writes go through the group
 * commit of SqliteDatabase; `save` resolves once the row is committed.
 */
export class SqlitePresenceStore implements PresenceStore {
  private readonly upsert: Statement;
  private readonly selectOne: Statement;
  private readonly deleteOne: Statement;
  private readonly countByGroup: Statement;
  private readonly selectAll: Statement;
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly database: SqliteDatabase) {
    const db = database.db;
    // A write of an older session (lower epoch) than the stored one changes nothing.
    this.upsert = db.prepare(`
      INSERT INTO clients (client_id, epoch, status, connected, node_id, meta_lc, record) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (client_id) DO UPDATE SET
        epoch = excluded.epoch, status = excluded.status, connected = excluded.connected,
        node_id = excluded.node_id, meta_lc = excluded.meta_lc, record = excluded.record
      WHERE excluded.epoch >= clients.epoch`);
    this.selectOne = db.prepare('SELECT record FROM clients WHERE client_id = ?').pluck();
    this.deleteOne = db.prepare('DELETE FROM clients WHERE client_id = ?');
    this.selectAll = db.prepare('SELECT record FROM clients ORDER BY client_id').pluck();
    this.countByGroup = db.prepare('SELECT status, connected, node_id AS nodeId, count(*) AS n FROM clients GROUP BY status, connected, node_id');
  }

  /** Writes unless a stored record has a higher epoch; true when written (after the commit, within the commit window). */
  save(record: ClientRecord): Promise<boolean> {
    const r = record;
    // Serialised now: what is committed is the record as it was handed over.
    const args = [r.clientId, r.epoch, r.status, r.connected ? 1 : 0, r.nodeId, JSON.stringify(r.meta).toLowerCase(), JSON.stringify(r)];
    return this.database.writeBatched(() => this.upsert.run(args).changes > 0);
  }

  /** Every record in the file (one node owns it): see PresenceStore.loadOnStart. */
  async loadOnStart(): Promise<ClientRecord[]> {
    return (this.database.read(() => this.selectAll.all()) as string[]).map((json) => JSON.parse(json) as ClientRecord);
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const json = this.database.read(() => this.selectOne.get(clientId)) as string | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as ClientRecord);
  }

  async delete(clientId: string): Promise<void> {
    await this.database.write(() => this.deleteOne.run(clientId));
  }

  async list(filter: ClientFilter, page: PageRequest): Promise<Page<ClientRecord>> {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const after = decodeCursor(page.cursor);
    const sql = toSql(filter);
    return this.database.read(() => {
      let ids: string[];
      let total: number;
      if (filter.meta === undefined) {
        total = this.statement(`count:${sql.key}`, `SELECT count(*) FROM clients WHERE ${sql.where}`).pluck().get(sql.params) as number;
        ids = this.statement(`page:${sql.key}`, `SELECT client_id FROM clients WHERE ${sql.where} AND client_id > ? ORDER BY client_id LIMIT ?`)
          .pluck()
          .all([...sql.params, after ?? '', limit + 1]) as string[];
      } else {
        // meta is matched as the memory store matches it (JSON of each value), over the rows the rest of the filter leaves.
        const matching = this.matchingMeta(sql, filter.meta);
        total = matching.length;
        let start = 0;
        if (after !== undefined) while (start < matching.length && matching[start] <= after) start++;
        ids = matching.slice(start, start + limit + 1);
      }
      const more = ids.length > limit;
      if (more) ids.length = limit;
      const items = ids.map((id) => JSON.parse(this.selectOne.get(id) as string) as ClientRecord);
      return { items, total, ...(more ? { nextCursor: encodeCursor(ids[ids.length - 1]) } : {}) };
    });
  }

  async ids(filter: ClientFilter): Promise<string[]> {
    const sql = toSql(filter);
    return this.database.read(() => {
      if (filter.meta !== undefined) return this.matchingMeta(sql, filter.meta);
      return this.statement(`ids:${sql.key}`, `SELECT client_id FROM clients WHERE ${sql.where}`).pluck().all(sql.params) as string[];
    });
  }

  async stats(): Promise<PresenceStats> {
    const rows = this.database.read(() => this.countByGroup.all()) as Array<{ status: PresenceStatus; connected: number; nodeId: string; n: number }>;
    const stats: PresenceStats = { total: 0, byStatus: { alive: 0, leave: 0, close: 0 }, connected: 0, nodes: {} };
    for (const row of rows) {
      stats.total += row.n;
      stats.byStatus[row.status] += row.n;
      const node = (stats.nodes[row.nodeId] ??= { connected: 0, total: 0 });
      node.total += row.n;
      if (row.connected) {
        stats.connected += row.n;
        node.connected += row.n;
      }
    }
    return stats;
  }

  /** The clientIds, in order, of the rows that pass the SQL part and whose meta matches. */
  private matchingMeta(sql: SqlFilter, meta: Record<string, unknown>): string[] {
    const rows = this.statement(`meta:${sql.key}`, `SELECT client_id AS clientId, json_extract(record, '$.meta') AS meta FROM clients WHERE ${sql.where} ORDER BY client_id`).all(
      sql.params,
    ) as Array<{ clientId: string; meta: string }>;
    const out: string[] = [];
    for (const row of rows) {
      if (matchesFilter({ meta: JSON.parse(row.meta) } as ClientRecord, { meta })) out.push(row.clientId);
    }
    return out;
  }

  /** Prepared once per shape of filter (a handful exist). */
  private statement(key: string, sql: string): Statement {
    let statement = this.statements.get(key);
    if (!statement) this.statements.set(key, (statement = this.database.db.prepare(sql)));
    return statement;
  }
}

/** The filter's status, connected, clientIds and q as SQL, with the same meaning as matchesFilter. */
function toSql(f: ClientFilter): SqlFilter {
  const parts: string[] = [];
  const params: unknown[] = [];
  let key = '';
  if (f.status !== undefined) {
    parts.push('status = ?');
    params.push(f.status);
    key += 's';
  }
  if (f.connected !== undefined) {
    parts.push('connected = ?');
    params.push(f.connected ? 1 : 0);
    key += 'c';
  }
  if (f.clientIds !== undefined) {
    parts.push('client_id IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(f.clientIds));
    key += 'i';
  }
  if (f.q !== undefined && f.q !== '') {
    // A substring: no B-tree serves it, and a trigram FTS index measured ~7x
    // the cost of the row write on the login path, so q reads the two narrow
    // columns of every row the rest of the filter leaves (admin lists only).
    // clientIds are ASCII (lower() suffices); meta_lc was lower-cased by JS, as q is here.
    parts.push('(instr(lower(client_id), ?) > 0 OR instr(meta_lc, ?) > 0)');
    const q = f.q.toLowerCase();
    params.push(q, q);
    key += 'q';
  }
  return { key, where: parts.length > 0 ? parts.join(' AND ') : '1', params };
}
