import { Inject, Injectable, Logger, OnApplicationShutdown, Optional, Provider } from '@nestjs/common';
import { LONGLINK_CONFIG, LongLinkConfig } from '../../config';
import { PresenceService } from '../../presence/presence.service';
import { SqliteDatabase } from './sqlite-database';

/** The SQLite database of the built-in stores; null when neither of them is SQLite. */
export const SQLITE_DATABASE = Symbol('SQLITE_DATABASE');

/**
 * Opens the file under DATA_DIR while the app is built, before anything
 * listens: a StoreStartupError (DATA_DIR unusable, a file not ours or
 * corrupt) stops start-up with its message.
 */
export function sqliteDatabaseProvider(needed: (config: LongLinkConfig) => boolean): Provider {
  return {
    provide: SQLITE_DATABASE,
    inject: [LONGLINK_CONFIG],
    useFactory: (config: LongLinkConfig): SqliteDatabase | null => {
      if (!needed(config)) return null;
      const database = SqliteDatabase.open({ dataDir: config.dataDir, synchronous: config.sqliteSynchronous, commitWindowMs: config.sqliteCommitWindowMs });
      new Logger('SqliteStore').log(`records and commands in ${database.file} (schema v${database.schemaVersion}, synchronous=${config.sqliteSynchronous})`);
      return database;
    },
  };
}

/**
 * Closes the database last: once the transport is closed (its sockets'
 * closes are written as transitions) and presence has handed its last
 * writes to the store, so that a graceful stop commits all of them.
 */
@Injectable()
export class SqliteShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(SQLITE_DATABASE) private readonly database: SqliteDatabase | null,
    @Optional() private readonly presence?: PresenceService,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.database) return;
    await this.presence?.flushWrites();
    this.database.close();
  }
}
