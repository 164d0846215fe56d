export * from './flap-detector';
export * from './log-throttle';
export * from './token-bucket';
export * from './limit-hits';
