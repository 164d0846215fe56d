export { Backoff, BACKOFF_DEFAULTS, type BackoffOptions } from './backoff';
export * from './client-errors';
export * from './client-events';
export { CLIENT_DEFAULTS, type LongLinkClientOptions, type ReconnectOptions } from './client-options';
export { type CommandContext, type CommandHandler } from './command-dispatcher';
export { LongLinkClient } from './long-link-client';
