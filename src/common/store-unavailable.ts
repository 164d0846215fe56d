/**
 * A shared store (Redis, in a cluster) cannot answer right now. The admin
 * API answers it with 503 and this message; nothing was written.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(detail: string) {
    super(`the cluster store (Redis) is unreachable, try again shortly: ${detail}`);
  }
}
