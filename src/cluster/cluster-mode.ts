import type { LongLinkConfig } from '../config';

export class ClusterModeNotAvailableError extends Error {
  override readonly name = 'ClusterModeNotAvailableError';
  constructor() {
    super('REDIS_URL is set, but cluster mode (Redis) is not available in this version yet: unset REDIS_URL to run a single node');
  }
}

/**
 * Start-up rule until cluster mode lands: REDIS_URL is refused rather than
 * silently ignored (an operator who sets it expects a cluster). A no-op
 * without REDIS_URL.
 */
export function assertClusterModeAvailable(config: LongLinkConfig): void {
  if (config.redisUrl !== undefined) throw new ClusterModeNotAvailableError();
}
