import { ErrorReply } from 'redis';
import { StoreUnavailableError } from '../../store/store.errors';

/**
 * Wraps a Redis-backed store so that a connection failure (Redis down, the
 * socket lost mid-command) rejects with StoreUnavailableError, which the
 * admin API answers with 503. Anything else (an error reply from Redis, a
 * bad cursor) stays as it is.
 */
export function guardUnavailable<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(toUnavailable(error))) : result;
      };
    },
  });
}

/** node-redis's errors for "no answer" (as opposed to an answer that is an error). */
const CONNECTION_ERRORS = new Set([
  'ClientClosedError',
  'ClientOfflineError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'DisconnectsClientError',
  'ReconnectStrategyError',
  'TimeoutError',
]);

export function toUnavailable(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ErrorReply) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (CONNECTION_ERRORS.has(error.constructor.name) || CONNECTION_ERRORS.has(error.name) || (code !== undefined && /^E(CONN|PIPE|HOSTUNREACH|NOTFOUND|TIMEDOUT)/.test(code))) {
    return new StoreUnavailableError(`the cluster store (Redis) is unreachable, try again shortly: ${error.message}`, 'REDIS_UNREACHABLE');
  }
  return error;
}
