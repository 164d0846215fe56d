export * from './heartbeat-counter';
export * from './heartbeat.service';
export * from './heartbeat.module';
