export * from './command.types';
export * from './command.errors';
export * from './command.store';
export * from './memory-command.store';
export * from './command.service';
