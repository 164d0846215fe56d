import { ConfigValidationError, configFrom, parseConfig } from '../../../src/config';

/** The problems parseConfig reports for env, or [] when it accepts it. */
function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    return error.problems;
  }
}

describe('parseConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      nodeEnv: 'development',
      tcp: { host: '0.0.0.0', port: 7000, tlsCertFile: undefined, tlsKeyFile: undefined, keepAliveMs: 60000 },
      // No ADMIN_TOKEN: the open admin API listens on loopback only.
      http: { host: '127.0.0.1', hostExplicit: false, port: 3000, maxConnections: 512, headersTimeoutMs: 10000, requestTimeoutMs: 30000, keepAliveTimeoutMs: 5000 },
      maxConnections: 10000,
      maxFrameBytes: 65536,
      maxBadFrames: 10,
      maxOutboundBytes: 1048576,
      loginTimeoutMs: 10000,
      auth: { mode: 'none', sharedToken: undefined },
      heartbeat: { heartbeatMs: 10000, cursorStart: 3, cursorLimit: 5, leaveStrikes: 3, recoverWindows: 3, leaveTimeoutMs: 1800000, serverPingMs: 10000 },
      presence: { closedRetentionMs: 86400000 },
      commands: { ttlMs: 86400000, maxQueued: 1000 },
      shutdownGraceMs: 5000,
      shutdownDrainMs: 0,
      adminToken: undefined,
      metricsToken: undefined,
      sseReplayEvents: 10000,
      sqliteCommitWindowMs: 5,
      logLevel: 'log',
      logFormat: 'text',
    });
    expect(c.auth.tokens.size).toBe(0);
    expect(c.nodeId).toMatch(/.+-\d+$/);
  });

  it('reads values as the environment gives them (strings) and ignores unrelated keys', () => {
    const c = parseConfig({ TCP_PORT: '7100', HEARTBEAT_MS: '50', SERVER_PING_MS: '20', LOG_LEVEL: 'warn', PATH: '/usr/bin', HOME: '/root' });
    expect(c.tcp.port).toBe(7100);
    expect(c.heartbeat).toMatchObject({ heartbeatMs: 50, serverPingMs: 20 });
    expect(c.logLevel).toBe('warn');
  });

  it('treats an empty value (KEY= in .env) as unset', () => {
    expect(parseConfig({ TCP_PORT: '', MAX_BAD_FRAMES: ' ', AUTH_TOKEN: '' })).toMatchObject({ tcp: { port: 7000 }, maxBadFrames: 10, auth: { sharedToken: undefined } });
  });

  it('refuses TCP_PORT=abc with a ConfigValidationError naming the key and the value', () => {
    expect(() => parseConfig({ TCP_PORT: 'abc' })).toThrow(ConfigValidationError);
    expect(problems({ TCP_PORT: 'abc' })).toEqual(["TCP_PORT: must be a whole number (got 'abc')"]);
    expect(() => parseConfig({ TCP_PORT: 'abc' })).toThrow(/TCP_PORT/);
  });

  it.each([
    ['TCP_PORT', '70000', 'must be <= 65535'],
    ['TCP_PORT', '-1', 'must be >= 0'],
    ['TCP_PORT', '3.5', 'must be a whole number'],
    ['TCP_PORT', '0x10', 'must be a whole number'],
    ['LOGIN_TIMEOUT_MS', '1e3', 'must be a whole number'],
    ['LOGIN_TIMEOUT_MS', '0', 'must be >= 1'],
    ['LOGIN_TIMEOUT_MS', '9999999999', 'must be <= 2147483647'],
    ['MAX_CONNECTIONS', '0', 'must be >= 1'],
    ['MAX_OUTBOUND_BYTES', '1000', 'must be >= 1024'],
    ['AUTH_MODE', 'TOKEN', "must be 'none' or 'token'"],
    ['LOG_LEVEL', 'loud', 'must be one of error, warn, log, debug, verbose'],
    ['SQLITE_COMMIT_WINDOW_MS', '1001', 'must be <= 1000'],
    ['SQLITE_COMMIT_WINDOW_MS', '-1', 'must be >= 0'],
  ])('refuses %s=%s: %s', (key, value, message) => {
    expect(problems({ [key]: value })).toEqual([`${key}: ${message} (got '${value}')`]);
  });

  it('reports every bad key at once', () => {
    expect(problems({ TCP_PORT: 'x', HTTP_PORT: 'y' }).map((p) => p.split(':')[0])).toEqual(['TCP_PORT', 'HTTP_PORT']);
  });

  it('refuses CURSOR_START >= CURSOR_LIMIT', () => {
    expect(problems({ CURSOR_START: '5', CURSOR_LIMIT: '5' })).toEqual(["CURSOR_START: must be below CURSOR_LIMIT (5) (got '5')"]);
    expect(problems({ CURSOR_START: '6' })).toEqual(["CURSOR_START: must be below CURSOR_LIMIT (5) (got '6')"]);
    expect(problems({ CURSOR_START: '4', CURSOR_LIMIT: '5' })).toEqual([]);
  });

  it('refuses AUTH_MODE=token without AUTH_TOKENS or AUTH_TOKEN', () => {
    expect(problems({ AUTH_MODE: 'token' })).toEqual(["AUTH_MODE: is 'token' but neither AUTH_TOKENS nor AUTH_TOKEN is set (got 'token')"]);
    expect(problems({ AUTH_MODE: 'token', AUTH_TOKEN: 's' })).toEqual([]);
    expect(problems({ AUTH_MODE: 'token', AUTH_TOKENS: 'a:s' })).toEqual([]);
  });

  it('parses AUTH_TOKENS into clientId → token, and refuses malformed, invalid or repeated entries', () => {
    expect([...parseConfig({ AUTH_MODE: 'token', AUTH_TOKENS: 'a:secret, b:other:with:colons' }).auth.tokens]).toEqual([
      ['a', 'secret'],
      ['b', 'other:with:colons'],
    ]);
    expect(problems({ AUTH_TOKENS: 'a:1,,b:2' })).toEqual([expect.stringMatching(/^AUTH_TOKENS: entry '' is not clientId:token/)]);
    expect(problems({ AUTH_TOKENS: 'nocolon' })).toEqual([expect.stringMatching(/^AUTH_TOKENS: entry 'nocolon' is not clientId:token/)]);
    expect(problems({ AUTH_TOKENS: 'a:' })).toEqual([expect.stringMatching(/^AUTH_TOKENS: entry 'a:' is not clientId:token/)]);
    expect(problems({ AUTH_TOKENS: 'a b:1' })).toEqual([expect.stringMatching(/^AUTH_TOKENS: clientId 'a b' is not 1-128 characters/)]);
    expect(problems({ AUTH_TOKENS: 'a:1,a:2' })).toEqual([expect.stringMatching(/^AUTH_TOKENS: clientId 'a' is listed twice/)]);
  });

  it('refuses only one of TLS_CERT_FILE / TLS_KEY_FILE', () => {
    expect(problems({ TLS_CERT_FILE: '/c.pem' })).toEqual([expect.stringMatching(/^TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together/)]);
    expect(problems({ TLS_CERT_FILE: '/c.pem', TLS_KEY_FILE: '/k.pem' })).toEqual([]);
  });

  it('SERVER_PING_MS defaults to HEARTBEAT_MS', () => {
    expect(parseConfig({ HEARTBEAT_MS: '250' }).heartbeat.serverPingMs).toBe(250);
  });

  it('configFrom takes numbers as the environment would take their text', () => {
    expect(configFrom({ TCP_PORT: 0, MAX_BAD_FRAMES: 3 })).toMatchObject({ tcp: { port: 0 }, maxBadFrames: 3 });
    expect(() => configFrom({ TCP_PORT: 'abc' })).toThrow(/TCP_PORT/);
  });
});
