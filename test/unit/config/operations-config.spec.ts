import { ConfigValidationError, parseConfig } from '../../../src/config';

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    return error.problems;
  }
}

/** The operations keys: admin listener defaults and bounds, drain, metrics token, log format, SSE replay. */
describe('parseConfig: operations keys', () => {
  it('binds the admin API to loopback without ADMIN_TOKEN and to every interface with one, unless HTTP_HOST says otherwise', () => {
    expect(parseConfig({}).http).toMatchObject({ host: '127.0.0.1', hostExplicit: false });
    expect(parseConfig({ ADMIN_TOKEN: 't' }).http).toMatchObject({ host: '0.0.0.0', hostExplicit: false });
    expect(parseConfig({ HTTP_HOST: '0.0.0.0' }).http).toMatchObject({ host: '0.0.0.0', hostExplicit: true });
    expect(parseConfig({ HTTP_HOST: '10.0.0.5', ADMIN_TOKEN: 't' }).http).toMatchObject({ host: '10.0.0.5', hostExplicit: true });
    // HTTP_HOST= in .env (as .env.example has it) is unset.
    expect(parseConfig({ HTTP_HOST: '' }).http).toMatchObject({ host: '127.0.0.1', hostExplicit: false });
  });

  it('drains 5 s by default in production and not at all otherwise; an explicit value wins', () => {
    expect(parseConfig({}).shutdownDrainMs).toBe(0);
    expect(parseConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 't' }).shutdownDrainMs).toBe(5000);
    expect(parseConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 't', SHUTDOWN_DRAIN_MS: '0' }).shutdownDrainMs).toBe(0);
    expect(parseConfig({ SHUTDOWN_DRAIN_MS: '250' }).shutdownDrainMs).toBe(250);
  });

  it('reads the HTTP bounds, the metrics token, the replay window and the log format', () => {
    const c = parseConfig({
      HTTP_MAX_CONNECTIONS: '8',
      HTTP_HEADERS_TIMEOUT_MS: '200',
      HTTP_REQUEST_TIMEOUT_MS: '400',
      HTTP_KEEPALIVE_TIMEOUT_MS: '100',
      METRICS_TOKEN: 'scrape',
      SSE_REPLAY_EVENTS: '0',
      LOG_FORMAT: 'json',
    });
    expect(c.http).toMatchObject({ maxConnections: 8, headersTimeoutMs: 200, requestTimeoutMs: 400, keepAliveTimeoutMs: 100 });
    expect(c).toMatchObject({ metricsToken: 'scrape', sseReplayEvents: 0, logFormat: 'json' });
  });

  it.each([
    ['LOG_FORMAT', 'xml', "must be 'text' or 'json'"],
    ['HTTP_MAX_CONNECTIONS', '0', 'must be >= 1'],
    ['HTTP_HEADERS_TIMEOUT_MS', '0', 'must be >= 1'],
    ['SHUTDOWN_DRAIN_MS', 'soon', 'must be a whole number'],
    ['SSE_REPLAY_EVENTS', '-1', 'must be >= 0'],
  ])('refuses %s=%s naming the key', (key, value, message) => {
    expect(problems({ [key]: value })).toEqual([`${key}: ${message} (got '${value}')`]);
  });

  it('refuses a headers timeout above the request timeout', () => {
    expect(problems({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (1000) (got \'5000\')',
    ]);
  });
});
