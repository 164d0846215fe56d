import type { ClassProvider, ExistingProvider, FactoryProvider, Provider, Type, ValueProvider } from '@nestjs/common';
import { COMMAND_STORE, CommandStore } from './commands/command.store';
import { MemoryCommandStore } from './commands/memory-command.store';
import { LONGLINK_CONFIG, LongLinkConfig, StoreKind } from './config';
import { MemoryPresenceStore } from './presence/memory-presence.store';
import { PRESENCE_STORE, PresenceStore } from './presence/presence.store';

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

/** The built-in stores by STORE. The SQLite and Redis stores register here. */
const BUILT_IN: Record<StoreKind, { presence?: () => PresenceStore; commands?: () => CommandStore }> = {
  memory: { presence: () => new MemoryPresenceStore(), commands: () => new MemoryCommandStore() },
  sqlite: {},
  redis: {},
};

/** Checked at start-up, before anything listens: a STORE without an implementation stops it, naming the key. */
export function assertStoreAvailable(config: LongLinkConfig, options: { presenceStore?: unknown; commandStore?: unknown }): void {
  const builtIn = BUILT_IN[config.store];
  if ((!options.presenceStore && !builtIn.presence) || (!options.commandStore && !builtIn.commands)) {
    throw new StoreNotAvailableError(config.store);
  }
}

/** PRESENCE_STORE and COMMAND_STORE: the module options' stores, else the built-in ones STORE names. */
export function storeProviders(options: { presenceStore?: StoreProvider<PresenceStore>; commandStore?: StoreProvider<CommandStore> }): Provider[] {
  return [
    options.presenceStore
      ? asProvider(PRESENCE_STORE, options.presenceStore)
      : { provide: PRESENCE_STORE, inject: [LONGLINK_CONFIG], useFactory: (config: LongLinkConfig) => builtIn(config, 'presence') },
    options.commandStore
      ? asProvider(COMMAND_STORE, options.commandStore)
      : { provide: COMMAND_STORE, inject: [LONGLINK_CONFIG], useFactory: (config: LongLinkConfig) => builtIn(config, 'commands') },
  ];
}

function builtIn<K extends 'presence' | 'commands'>(config: LongLinkConfig, part: K): ReturnType<NonNullable<(typeof BUILT_IN)[StoreKind][K]>> {
  const make = BUILT_IN[config.store][part];
  if (!make) throw new StoreNotAvailableError(config.store);
  return make() as ReturnType<NonNullable<(typeof BUILT_IN)[StoreKind][K]>>;
}

/** A class or a provider without `provide`, as a provider of `token`. */
export function asProvider<T>(token: symbol, option: StoreProvider<T> | Type<T>): Provider {
  return typeof option === 'function' ? { provide: token, useClass: option } : ({ provide: token, ...option } as Provider);
}
