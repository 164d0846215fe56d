/**
 * The schema, as the ordered list of steps from an empty file. A database
 * records the last step applied (table `schema_version`); start-up applies
 * the ones after it in one transaction. Never edit a step that has shipped:
 * add the next one.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'client records and commands',
    sql: `
      -- One row per client. The whole record is kept as JSON (it is read and
      -- written whole); the columns beside it are what lists filter and count by.
      CREATE TABLE clients (
        client_id TEXT NOT NULL PRIMARY KEY,
        epoch INTEGER NOT NULL,
        status TEXT NOT NULL,
        connected INTEGER NOT NULL,
        node_id TEXT NOT NULL,
        -- JSON.stringify(meta).toLowerCase(): what the q filter searches besides the clientId.
        meta_lc TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX clients_by_status ON clients (status, client_id);
      CREATE INDEX clients_by_connected ON clients (connected, client_id);

      -- One row per command; seq is the creation order (list order and cursors).
      CREATE TABLE commands (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL,
        batch_id TEXT,
        name TEXT NOT NULL,
        data TEXT,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        acked_at INTEGER,
        result TEXT,
        error TEXT,
        expires_at INTEGER NOT NULL,
        finished_at INTEGER,
        attempts INTEGER NOT NULL
      );
      CREATE INDEX commands_by_client ON commands (client_id, seq);
      CREATE INDEX commands_by_batch ON commands (batch_id, seq) WHERE batch_id IS NOT NULL;
      CREATE INDEX commands_by_status ON commands (status, seq);
      -- Delivery order and the per-client bound; expiry; retention.
      CREATE INDEX commands_pending ON commands (client_id, seq) WHERE status IN ('queued', 'sent');
      CREATE INDEX commands_due ON commands (expires_at) WHERE status IN ('queued', 'sent');
      CREATE INDEX commands_finished ON commands (finished_at) WHERE status IN ('acked', 'failed', 'expired');
    `,
  },
];
