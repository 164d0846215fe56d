export * from './config.schema';
export * from './config.tokens';
export * from './long-link-config';
export * from './hardening.config';
export * from './settings';
