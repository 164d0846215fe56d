export * from './presence.types';
export * from './presence.store';
export * from './memory-presence.store';
export * from './presence.service';
export * from './presence.module';
