import { configFrom } from '../../../src/config';
import { ConfigClientAuthenticator, tokensEqual } from '../../../src/transport/client-authenticator';

const from = { remoteAddress: '10.1.2.3', remotePort: 5555 };

describe('ConfigClientAuthenticator', () => {
  it('AUTH_MODE=none lets anyone in, under its clientId or ip:port', () => {
    const auth = new ConfigClientAuthenticator(configFrom({ AUTH_MODE: 'none' }));
    expect(auth.authenticate({ clientId: 'dev-1', ...from })).toEqual({ ok: true, clientId: 'dev-1' });
    expect(auth.authenticate({ ...from })).toEqual({ ok: true, clientId: '10.1.2.3:5555' });
  });

  describe('AUTH_MODE=token', () => {
    const auth = new ConfigClientAuthenticator(configFrom({ AUTH_MODE: 'token', AUTH_TOKENS: 'a:secret,b:other', AUTH_TOKEN: 'shared' }));

    it.each([
      ['the pair from AUTH_TOKENS', { clientId: 'a', token: 'secret' }, { ok: true, clientId: 'a' }],
      ['the shared token for an unlisted clientId', { clientId: 'zed', token: 'shared' }, { ok: true, clientId: 'zed' }],
      ['the shared token without a clientId (ip:port)', { token: 'shared' }, { ok: true, clientId: '10.1.2.3:5555' }],
    ])('accepts %s', (_what, req, expected) => {
      expect(auth.authenticate({ ...req, ...from })).toEqual(expected);
    });

    it.each([
      ['no token', { clientId: 'a' }],
      ['a wrong token', { clientId: 'a', token: 'secreT' }],
      ["another client's token", { clientId: 'a', token: 'other' }],
      // A listed client is bound to its own token: the shared one does not open it.
      ['the shared token for a listed clientId', { clientId: 'a', token: 'shared' }],
      ['a prefix of the token', { clientId: 'a', token: 'secre' }],
      ['an empty token', { clientId: 'zed', token: '' }],
    ])('refuses %s', (_what, req) => {
      expect(auth.authenticate({ ...req, ...from })).toMatchObject({ ok: false, message: expect.any(String) });
    });
  });
});

describe('tokensEqual', () => {
  it('compares whole tokens of any lengths without throwing', () => {
    expect(tokensEqual('secret', 'secret')).toBe(true);
    expect(tokensEqual('secret', 'secret2')).toBe(false);
    expect(tokensEqual('', 'x')).toBe(false);
    expect(tokensEqual('ü', 'ü')).toBe(true);
  });
});
