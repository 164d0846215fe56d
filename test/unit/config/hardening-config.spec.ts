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

describe('bounds and admission keys', () => {
  it('are on by default with the documented values', () => {
    const c = parseConfig({});
    expect(c.limits).toEqual({ maxJsonDepth: 32, maxReportedBytes: 4096, maxClientRecords: 50000 });
    expect(c.admission).toEqual({
      connectRatePerIp: 100,
      connectBurstPerIp: 200,
      flapMaxLogins: 15,
      flapHostMaxLogins: 300,
      flapWindowMs: 60000,
      flapBanMs: 300000,
      msgRate: 200,
      msgBurst: 400,
      byteRate: 262144,
      byteBurst: 1048576,
      rateLimitStrikes: 20,
      frameBudget: 64,
      logThrottleMs: 5000,
    });
  });

  it('take 0 to turn a rate off', () => {
    const c = parseConfig({ CONNECT_RATE_PER_IP: '0', FLAP_MAX_LOGINS: '0', CONN_MSG_RATE: '0', CONN_BYTE_RATE: '0', FRAME_BUDGET: '0' });
    expect(c.admission).toMatchObject({ connectRatePerIp: 0, flapMaxLogins: 0, msgRate: 0, byteRate: 0, frameBudget: 0 });
  });

  it.each([
    [{ MAX_JSON_DEPTH: '1' }, "MAX_JSON_DEPTH: must be >= 2 (got '1')"],
    [{ MAX_CLIENT_RECORDS: 'lots' }, "MAX_CLIENT_RECORDS: must be a whole number (got 'lots')"],
    [{ CONN_MSG_RATE: '-5' }, "CONN_MSG_RATE: must be >= 0 (got '-5')"],
    [{ FLAP_BAN_MS: '0' }, "FLAP_BAN_MS: must be >= 1 (got '0')"],
    [{ CONN_BYTE_BURST: '1000' }, "CONN_BYTE_BURST: must be >= MAX_FRAME_BYTES (65536) while CONN_BYTE_RATE is on (got '1000')"],
  ])('a bad value names its key: %j', (env, problem) => {
    expect(problems(env as Record<string, string>)).toEqual([problem]);
  });

  it('a small byte burst is fine with the byte rate off', () => {
    expect(problems({ CONN_BYTE_BURST: '1000', CONN_BYTE_RATE: '0' })).toEqual([]);
  });
});
