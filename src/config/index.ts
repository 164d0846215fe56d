export * from './config.schema';
export * from './config.tokens';
