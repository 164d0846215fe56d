import { CLIENT_ID_RULE, isClientId } from './client-id';
import { ErrorCode } from './error-codes';
import {
  AckMessage,
  ByeMessage,
  ClientMessage,
  LoginMessage,
  MAX_META_BYTES,
  MsgMessage,
} from './messages';

/** Result of checking one decoded frame object. */
export type Validated =
  | { ok: true; message: ClientMessage; useCode: boolean }
  | { ok: false; code: ErrorCode; message: string; id?: string };

function fail(code: ErrorCode, message: string, id?: string): Validated {
  return { ok: false, code, message, id };
}

/**
 * Checks a frame's object against docs/PROTOCOL.md §2. `type` may be spelled
 * `code` (alias for existing clients); `useCode` tells the caller to mirror it.
 * The message object is returned as is (with `type` set) so that HEART's
 * extra fields survive without a copy.
 */
export function validateMessage(raw: Record<string, unknown>): Validated {
  let type = raw.type;
  let useCode = false;
  if (type === undefined && typeof raw.code === 'string') {
    type = raw.code;
    useCode = true;
  }
  if (typeof type !== 'string') return fail(ErrorCode.BAD_MESSAGE, 'message has no "type" string');
  switch (type) {
    case 'HEART':
      if (useCode) raw.type = type;
      return { ok: true, message: raw as unknown as ClientMessage, useCode };
    case 'LOGIN': {
      const { clientId, token, meta } = raw;
      if (clientId !== undefined && !isClientId(clientId)) {
        return fail(ErrorCode.BAD_MESSAGE, `LOGIN clientId must be ${CLIENT_ID_RULE}`);
      }
      if (token !== undefined && typeof token !== 'string') return fail(ErrorCode.BAD_MESSAGE, 'LOGIN token must be a string');
      if (meta !== undefined) {
        if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
          return fail(ErrorCode.BAD_MESSAGE, 'LOGIN meta must be an object');
        }
        const bytes = Buffer.byteLength(JSON.stringify(meta));
        if (bytes > MAX_META_BYTES) {
          return fail(ErrorCode.BAD_MESSAGE, `LOGIN meta of ${bytes} bytes exceeds ${MAX_META_BYTES}`);
        }
      }
      const msg: LoginMessage = { type: 'LOGIN', clientId, token, meta: meta as Record<string, unknown> | undefined };
      return { ok: true, message: msg, useCode };
    }
    case 'ACK': {
      const { id, ok, result, error } = raw;
      if (typeof id !== 'string' || id.length === 0) return fail(ErrorCode.BAD_MESSAGE, 'ACK needs an "id" string');
      if (typeof ok !== 'boolean') return fail(ErrorCode.BAD_MESSAGE, 'ACK needs an "ok" boolean', id);
      let err: AckMessage['error'];
      if (error !== undefined && error !== null) {
        if (typeof error === 'object') {
          const e = error as Record<string, unknown>;
          err = { code: String(e.code ?? 'ERROR'), message: String(e.message ?? '') };
        } else {
          err = { code: 'ERROR', message: String(error) };
        }
      }
      const msg: AckMessage = { type: 'ACK', id, ok, result, error: err };
      return { ok: true, message: msg, useCode };
    }
    case 'MSG': {
      const { pattern, data, id } = raw;
      if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 128)) {
        return fail(ErrorCode.BAD_MESSAGE, 'MSG id must be a string of 1-128 characters');
      }
      if (typeof pattern !== 'string' || pattern.length === 0) {
        return fail(ErrorCode.BAD_MESSAGE, 'MSG needs a "pattern" string', id as string | undefined);
      }
      const msg: MsgMessage = { type: 'MSG', pattern, data, id: id as string | undefined };
      return { ok: true, message: msg, useCode };
    }
    case 'BYE': {
      const msg: ByeMessage = { type: 'BYE', reason: typeof raw.reason === 'string' ? raw.reason : undefined };
      return { ok: true, message: msg, useCode };
    }
    default:
      return fail(ErrorCode.UNKNOWN_TYPE, `unknown message type '${type.slice(0, 64)}'`);
  }
}
