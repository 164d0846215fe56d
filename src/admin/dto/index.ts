export * from './error.dto';
export * from './client-query.dto';
export * from './client-record.dto';
export * from './kick.dto';
export * from './command.dto';
export * from './health.dto';
