export * from './error-codes';
export * from './messages';
export * from './validate';
export * from './cmd-frame';
export * from './client-id';
