import { ServerError } from './client-errors';
import type { Outbox } from './outbox';

/** The `error` body of a refused LOGIN, a failed MSG or an ERROR, whatever shape it came in. */
export function errorBody(value: unknown): { code: string; message: string } {
  if (value && typeof value === 'object') {
    const e = value as Record<string, unknown>;
    return { code: typeof e.code === 'string' ? e.code : 'ERROR', message: typeof e.message === 'string' ? e.message : '' };
  }
  return { code: 'ERROR', message: value === undefined ? 'no details' : String(value) };
}

/** A MSG reply settles the request it names. */
export function settleReply(outbox: Outbox, m: Record<string, unknown>): void {
  const id = typeof m.id === 'string' ? m.id : undefined;
  const request = id === undefined ? undefined : outbox.take(id);
  // A reply nobody waits for any more (timed out): dropped.
  if (request === undefined) return;
  if (m.ok === true) request.resolve(m.data);
  else {
    const error = errorBody(m.error);
    request.reject(new ServerError(error.code, `MSG '${request.pattern}' failed: ${error.code}: ${error.message}`));
  }
}

/** An ERROR rejects the request it names; one that names none is the application's 'error' (onUnclaimed). */
export function settleError(outbox: Outbox, m: Record<string, unknown>, onUnclaimed: (error: ServerError) => void): void {
  const code = typeof m.code === 'string' && m.code !== 'ERROR' ? m.code : errorBody(m.error).code;
  const message = typeof m.message === 'string' ? m.message : errorBody(m.error).message;
  const id = typeof m.id === 'string' ? m.id : undefined;
  const request = id === undefined ? undefined : outbox.take(id);
  if (request !== undefined) {
    request.reject(new ServerError(code, `MSG '${request.pattern}' failed: ${code}: ${message}`));
    return;
  }
  onUnclaimed(new ServerError(code, `gateway sent ERROR ${code}: ${message}`));
}
