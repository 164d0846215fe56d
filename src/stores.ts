import type { ClassProvider, ExistingProvider, FactoryProvider, Provider, Type, ValueProvider } from '@nestjs/common';
import { COMMAND_STORE, CommandStore } from './commands/command.store';
import { MemoryCommandStore } from './commands/memory-command.store';
import { LONGLINK_CONFIG, LongLinkConfig, StoreKind } from './config';
import { MemoryPresenceStore } from './presence/memory-presence.store';
import { PRESENCE_STORE, PresenceStore } from './presence/presence.store';
import { SqliteCommandStore } from './store/sqlite/sqlite-command.store';
import type { SqliteDatabase } from './store/sqlite/sqlite-database';
import { SqlitePresenceStore } from './store/sqlite/sqlite-presence.store';
import { SQLITE_DATABASE, sqliteDatabaseProvider, SqliteShutdown } from './store/sqlite/sqlite.providers';
import { CLUSTER_RUNTIME } from './cluster/cluster-mode';
import type { ClusterRuntime } from './cluster/cluster-runtime';

/**
 * How an app (or a store of this project) plugs in a store: a class (Nest
 * constructs it, injecting what it asks for, e.g. LONGLINK_CONFIG), or a
 * provider without `provide` (`{ useFactory, inject }`, `{ useValue }`,
 * `{ useExisting }`). Every store must pass the shared contract suite in
 * test/contract/.
 */
export type StoreProvider<T> =
  | Type<T>
  | Omit<ClassProvider<T>, 'provide'>
  | Omit<FactoryProvider<T>, 'provide'>
  | Omit<ValueProvider<T>, 'provide'>
  | Omit<ExistingProvider<T>, 'provide'>;

export class StoreNotAvailableError extends Error {
  override readonly name = 'StoreNotAvailableError';
  constructor(kind: StoreKind) {
    super(`STORE=${kind} is not available in this version yet: use STORE=memory, or pass presenceStore/commandStore in the module options`);
  }
}

/** What a built-in store is made from: the SQLite database is opened once for both stores (null unless STORE=sqlite). */
interface StoreDeps {
  sqlite: SqliteDatabase | null;
}

/** The built-in stores by STORE. The Redis stores register here. */
const BUILT_IN: Record<StoreKind, { presence?: (deps: StoreDeps) => PresenceStore; commands?: (deps: StoreDeps) => CommandStore }> = {
  memory: { presence: () => new MemoryPresenceStore(), commands: () => new MemoryCommandStore() },
  sqlite: {
    presence: (deps) => new SqlitePresenceStore(deps.sqlite as SqliteDatabase),
    commands: (deps) => new SqliteCommandStore(deps.sqlite as SqliteDatabase),
  },
  redis: {},
};

/** Checked at start-up, before anything listens: a STORE without an implementation stops it, naming the key. */
export function assertStoreAvailable(config: LongLinkConfig, options: { presenceStore?: unknown; commandStore?: unknown }): void {
  // The Redis stores come with the cluster runtime (cluster/cluster-mode.ts), on its connection.
  if (config.store === 'redis' && config.redisUrl !== undefined) return;
  const builtIn = BUILT_IN[config.store];
  if ((!options.presenceStore && !builtIn.presence) || (!options.commandStore && !builtIn.commands)) {
    throw new StoreNotAvailableError(config.store);
  }
}

/**
 * PRESENCE_STORE and COMMAND_STORE: the module options' stores, else the
 * built-in ones STORE names; with SQLite, the database they share (opened
 * before anything listens) and its orderly close at shutdown.
 */
export function storeProviders(options: { presenceStore?: StoreProvider<PresenceStore>; commandStore?: StoreProvider<CommandStore> }): Provider[] {
  return [
    sqliteDatabaseProvider((config) => config.store === 'sqlite' && (!options.presenceStore || !options.commandStore)),
    SqliteShutdown,
    options.presenceStore
      ? asProvider(PRESENCE_STORE, options.presenceStore)
      : {
          provide: PRESENCE_STORE,
          inject: [LONGLINK_CONFIG, CLUSTER_RUNTIME, SQLITE_DATABASE],
          // REDIS_URL: the cluster's Redis store, on the node's one connection.
          useFactory: (config: LongLinkConfig, cluster: ClusterRuntime | null, sqlite: SqliteDatabase | null) =>
            cluster?.guardedPresenceStore() ?? builtIn(config, 'presence', { sqlite }),
        },
    options.commandStore
      ? asProvider(COMMAND_STORE, options.commandStore)
      : {
          provide: COMMAND_STORE,
          inject: [LONGLINK_CONFIG, CLUSTER_RUNTIME, SQLITE_DATABASE],
          useFactory: (config: LongLinkConfig, cluster: ClusterRuntime | null, sqlite: SqliteDatabase | null) =>
            cluster?.guardedCommandStore() ?? builtIn(config, 'commands', { sqlite }),
        },
  ];
}

function builtIn<K extends 'presence' | 'commands'>(config: LongLinkConfig, part: K, deps: StoreDeps): ReturnType<NonNullable<(typeof BUILT_IN)[StoreKind][K]>> {
  const make = BUILT_IN[config.store][part];
  if (!make) throw new StoreNotAvailableError(config.store);
  return make(deps) as ReturnType<NonNullable<(typeof BUILT_IN)[StoreKind][K]>>;
}

/** A class or a provider without `provide`, as a provider of `token`. */
export function asProvider<T>(token: symbol, option: StoreProvider<T> | Type<T>): Provider {
  return typeof option === 'function' ? { provide: token, useClass: option } : ({ provide: token, ...option } as Provider);
}
