export * from './heartbeat-counter';
export * from './heartbeat.service';
