/**
 * The public surface of the `longlink` package (`import … from 'longlink'`).
 *
 * Everything a Nest app needs to embed the gateway: the module, the transport
 * strategy and its handler context, the services to inject, their types and
 * errors, and the store and authenticator interfaces to implement. Importing
 * this file has no side effect: nothing listens and no configuration is read
 * until `LongLinkModule.forRoot()` is called. The CLI is `main.ts` (`bin`);
 * the device SDK is the separate `longlink/client` entry, which loads no Nest.
 *
 * Listed name by name (no `export *`): what is here is the API we keep
 * stable; the rest of `src/` may move.
 */

// The module and its options.
export {
  LongLinkModule,
  type LongLinkModuleOptions,
  type LongLinkModuleAsyncOptions,
  type LongLinkRuntimeOptions,
} from './longlink.module';

// The transport strategy, what `@Ctx()` gives a handler, and its events.
export { LongLinkServer, CloseReason, TransportStats, type LoginEvent, type CloseEvent, type AckEvent, type LongLinkEvents } from './transport/long-link.server';
export { LongLinkContext } from './transport/long-link.context';
export { Connection } from './transport/connection';

// The ports between the parts: implement them to route kicks and commands elsewhere (module options).
export { SESSION_CONTROL, COMMAND_DELIVERY, type SessionControl, type CommandDelivery, type CmdFrame } from './common/ports';
export { LocalSessionControl, LocalCommandDelivery } from './transport/local-ports';
export { TRANSPORT_SESSIONS, type TransportSessions, type SessionView } from './transport/session-view';
export { type StoreProvider, StoreNotAvailableError } from './stores';

// Authentication of LOGIN: implement ClientAuthenticator, pass it as `authenticator`.
export {
  CLIENT_AUTHENTICATOR,
  ConfigClientAuthenticator,
  type AuthRequest,
  type AuthResult,
  type ClientAuthenticator,
} from './transport/client-authenticator';

// Presence: the service, its records and events, and the store interface.
export { PresenceService } from './presence/presence.service';
export {
  PRESENCE_STATUSES,
  type PresenceStatus,
  type PresenceEvent,
  type ClientRecord,
  type ClientFilter,
  type PageRequest,
  type Page,
  type PresenceStats,
  type SessionEvent,
} from './presence/presence.types';
export { PRESENCE_STORE, type PresenceStore } from './presence/presence.store';
export { MemoryPresenceStore } from './presence/memory-presence.store';

// Commands: the service, records, errors and the store interface.
export { CommandService, type BroadcastResult } from './commands/command.service';
export {
  COMMAND_STATUSES,
  type CommandStatus,
  type CommandRecord,
  type CommandEvent,
  type SendCommandOptions,
  type CommandQuery,
} from './commands/command.types';
export {
  CommandError,
  ClientNotFoundError,
  ClientClosedError,
  QueueFullError,
  CommandNotFoundError,
  CommandTooLargeError,
  BadCursorError,
  type CommandErrorKind,
} from './commands/command.errors';
export { COMMAND_STORE, type CommandStore, type CommandChange, type CommandPatch, type InsertResult } from './commands/command.store';
export { MemoryCommandStore } from './commands/memory-command.store';

// Heartbeat detection and metrics, for apps that read them.
export { HeartbeatService } from './heartbeat/heartbeat.service';
export { MetricsService } from './metrics/metrics.service';

// Configuration: the typed shape, the parser the module uses for unset options, its error.
export { parseConfig, configFrom, ConfigValidationError } from './config/config.schema';
export type { LongLinkConfig, StoreKind } from './config/long-link-config';
export { LONGLINK_CONFIG } from './config/config.tokens';
export { CLOCK, systemClock, FakeClock, type Clock } from './common/clock';

// The admin HTTP API: its OpenAPI setup and the start-up check it makes.
export { setupAdminDocs, DOCS_PATH } from './admin/openapi';
export { AdminTokenRequiredError } from './admin/admin-auth';
export { ADMIN_API_DEFAULTS, type AdminApiOptions } from './admin/admin.options';

// The wire protocol's vocabulary (shared with `longlink/client`).
export { ErrorCode, MessageType, CLIENT_ID_PATTERN } from './protocol';
export type { ProtocolErrorBody, ClientMessage, LoginMessage, HeartMessage, AckMessage, MsgMessage, CmdMessage } from './protocol';

// A whole gateway in one call (what the CLI runs), for apps that want no module wiring.
export { startGateway, type GatewayOptions, type RunningGateway } from './bootstrap';

// Operations (docs/OPERATIONS.md): readiness and the bounded shutdown, the admin listener's bounds.
export { shutdownGateway, installShutdownSignals, applyHttpLimits, gatewayLogger } from './bootstrap';
export { GatewayLifecycle, type LifecyclePhase } from './lifecycle/gateway-lifecycle';
