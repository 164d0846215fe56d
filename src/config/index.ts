export * from './config.schema';
export * from './config.tokens';
export * from './hardening.config';
