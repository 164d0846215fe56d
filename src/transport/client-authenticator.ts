import { Inject, Injectable } from '@nestjs/common';
import { tokensEqual } from '../common/tokens-equal';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';

export interface AuthRequest {
  /** clientId from LOGIN, if the client sent one. */
  clientId?: string;
  token?: string;
  meta?: Record<string, unknown>;
  remoteAddress: string;
  remotePort: number;
}

export type AuthResult =
  | { ok: true; /** the id the session runs under */ clientId: string }
  | { ok: false; message: string };

/**
 * Decides whether a LOGIN may proceed. Replace it (provider token
 * CLIENT_AUTHENTICATOR) to check a database or a JWT; a synchronous answer
 * keeps LOGIN on the transport's fast path, a Promise is awaited.
 */
export interface ClientAuthenticator {
  authenticate(request: AuthRequest): AuthResult | Promise<AuthResult>;
}

export const CLIENT_AUTHENTICATOR = Symbol('CLIENT_AUTHENTICATOR');

/** Re-exported where it always was: the one compare lives in common/. */
export { tokensEqual } from '../common/tokens-equal';

/** AUTH_MODE=none | token with AUTH_TOKENS (clientId:token,…) or a shared AUTH_TOKEN. */
@Injectable()
export class ConfigClientAuthenticator implements ClientAuthenticator {
  constructor(@Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig) {}

  authenticate(req: AuthRequest): AuthResult {
    const fallbackId = req.clientId ?? `${req.remoteAddress}:${req.remotePort}`;
    const { mode, tokens, sharedToken } = this.config.auth;
    if (mode === 'none') return { ok: true, clientId: fallbackId };
    if (req.token === undefined) return { ok: false, message: 'token required' };
    if (req.clientId !== undefined) {
      const expected = tokens.get(req.clientId);
      if (expected !== undefined) {
        return tokensEqual(req.token, expected) ? { ok: true, clientId: req.clientId } : { ok: false, message: 'wrong clientId or token' };
      }
    }
    if (sharedToken !== undefined && tokensEqual(req.token, sharedToken)) return { ok: true, clientId: fallbackId };
    return { ok: false, message: 'wrong clientId or token' };
  }
}
