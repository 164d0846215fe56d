import { AdmissionControl } from '../../../src/admission/admission-control';
import { LimitHits } from '../../../src/admission/limit-hits';
import { FakeClock } from '../../../src/common/clock';
import { configFrom } from '../../../src/config';

describe('AdmissionControl', () => {
  function setup(env: Record<string, number> = {}) {
    const clock = new FakeClock();
    const hits = new LimitHits();
    const control = new AdmissionControl(configFrom({ LOG_THROTTLE_MS: 0, ...env }), clock, hits);
    return { clock, hits, control };
  }
  let control: AdmissionControl;
  afterEach(() => control.onModuleDestroy());

  it('refuses connects from one IP past the burst, names the key, and lets them in again as it refills', () => {
    const s = setup({ CONNECT_RATE_PER_IP: 10, CONNECT_BURST_PER_IP: 3 });
    control = s.control;
    for (let i = 0; i < 3; i++) expect(control.admitSocket('10.0.0.1')).toBeUndefined();
    expect(control.admitSocket('10.0.0.1')).toBe('more than CONNECT_RATE_PER_IP (10/s, burst 3) connects from 10.0.0.1');
    expect(control.admitSocket('10.0.0.2')).toBeUndefined();
    s.clock.advance(100);
    expect(control.admitSocket('10.0.0.1')).toBeUndefined();
    expect(s.hits.counts.connect_rate).toBe(1);
  });

  it('bans a flapping clientId (EMQX defaults: the 16th login within a minute, for 5 minutes)', () => {
    const s = setup();
    control = s.control;
    for (let i = 0; i < 15; i++) expect(control.admitLogin('dev-1', '10.0.0.1')).toBeUndefined();
    expect(control.admitLogin('dev-1', '10.0.0.1')).toBe(
      "clientId 'dev-1' had more than 15 logins within FLAP_WINDOW_MS (60000 ms): banned for FLAP_BAN_MS (300000 ms), 300 s left",
    );
    expect(control.admitLogin('dev-2', '10.0.0.1')).toBeUndefined();
    s.clock.advance(299_000);
    expect(control.admitLogin('dev-1', '10.0.0.1')).toMatch(/1 s left$/);
    s.clock.advance(1000);
    expect(control.admitLogin('dev-1', '10.0.0.1')).toBeUndefined();
    expect(s.hits.counts.flap_client).toBe(2);
  });

  it('bans a host for its re-logins, not for many devices logging in once each (a NAT after a restart)', () => {
    const s = setup({ FLAP_HOST_MAX_LOGINS: 5, FLAP_MAX_LOGINS: 15 });
    control = s.control;
    for (let i = 0; i < 1000; i++) expect(control.admitLogin(`dev-${i}`, '10.0.0.9')).toBeUndefined();
    // Each of six devices logs in a second time: the sixth re-login is one too many.
    for (let i = 0; i < 5; i++) expect(control.admitLogin(`dev-${i}`, '10.0.0.9')).toBeUndefined();
    expect(control.admitLogin('dev-5', '10.0.0.9')).toMatch(/^peer host 10\.0\.0\.9 had more than 5 re-logins within FLAP_WINDOW_MS/);
    // Banned host: even a fresh clientId is refused; other hosts are not.
    expect(control.admitLogin('fresh', '10.0.0.9')).toMatch(/^peer host 10\.0\.0\.9/);
    expect(control.admitLogin('fresh', '10.0.0.10')).toBeUndefined();
  });

  it('budgets frames and bytes per connection, and says when refusals persist', () => {
    const s = setup({ CONN_MSG_RATE: 10, CONN_MSG_BURST: 2, CONN_BYTE_RATE: 1000, CONN_BYTE_BURST: 65536, RATE_LIMIT_STRIKES: 2 });
    control = s.control;
    const rates = control.connectionRates();
    const now = s.clock.now();
    expect(control.takeFrame(rates, now, false)).toBeUndefined();
    expect(control.takeFrame(rates, now, false)).toBeUndefined();
    expect(control.takeFrame(rates, now, false)).toBe('msg_rate');
    expect(control.takeFrame(rates, now, false)).toBe('msg_rate');
    expect(control.persists(rates)).toBe(false);
    expect(control.takeFrame(rates, now, false)).toBe('msg_rate');
    expect(control.persists(rates)).toBe(true);
    // One that passes ends the run.
    expect(control.takeFrame(rates, now + 100, false)).toBeUndefined();
    expect(control.persists(rates)).toBe(false);
    expect(control.takeBytes(rates, 65536, now)).toBe(true);
    expect(control.takeBytes(rates, 10, now)).toBe(false);
    expect(control.takeFrame(rates, now + 200, true)).toBe('byte_rate');
    expect(control.refusalMessage('msg_rate')).toBe('more than CONN_MSG_RATE (10 frames/s, burst 2) on this connection');
  });

  it('does nothing when every rate is 0', () => {
    const s = setup({ CONNECT_RATE_PER_IP: 0, FLAP_MAX_LOGINS: 0, FLAP_HOST_MAX_LOGINS: 0, CONN_MSG_RATE: 0, CONN_BYTE_RATE: 0 });
    control = s.control;
    for (let i = 0; i < 10_000; i++) expect(control.admitSocket('x') ?? control.admitLogin('a', 'x')).toBeUndefined();
    const rates = control.connectionRates();
    expect(rates).toEqual({ frames: undefined, bytes: undefined, strikes: 0 });
  });
});
