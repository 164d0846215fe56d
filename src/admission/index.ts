export * from './flap-detector';
export * from './log-throttle';
export * from './token-bucket';
export * from './limit-hits';
export * from './keyed-buckets';
export * from './admission-control';
export * from './frame-budget';
