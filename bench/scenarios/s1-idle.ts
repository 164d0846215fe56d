import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayProfile } from '../cpu-profile';
import { WorkerPool } from '../load/worker-pool';
import { CpuMeter, median, nowNs, sampleRss } from '../proc-stats';
import { HOST, startTarget } from '../targets';
import { errorReport, mergeStats, onFleet, ms, type Scenario, type ScenarioResult } from './common';

/** RSS is sampled this often: Node's RSS moves with every GC, so one reading says little. */
const RSS_SAMPLE_MS = 200;
/** After the connect burst, its garbage collection and JIT work settle before idle is measured. */
const SETTLE_MS = 2000;

/**
 * S1 idle fleet: N clients connect and log in; then they idle with one HEART
 * per 10 s each. Server CPU per connect+login, RSS per connection (median
 * after − median before, over N) and the idle CPU.
 */
export const s1Idle: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  const n = options.s1Conns;
  const profile = GatewayProfile.for(kind, options, 's1');
  const target = await startTarget(kind, { maxConnections: n + 1000, heartbeatMs: 10000, cpuProfDir: profile?.dir });
  const pool = WorkerPool.start(n);
  return onFleet(target, pool, profile, async () => {
    await pool.all({ op: 'reset' });
    // Start-up garbage and lazy initialisation settle before the "before" reading.
    await sleep(1000);
    const rssBefore = median(await sampleRss(target.pid, 20, 50));
    const loginCpu = new CpuMeter(target.pid).start();
    const t0 = nowNs();
    const { loggedIn, failed } = await pool.connect(HOST, target.tcpPort, 'idle-', n);
    const login = loginCpu.stop();
    // The profile of S1 is the one of the connect+login phase.
    if (profile) profile.window = { fromNs: t0, toNs: nowNs() };
    log(`  ${kind}: ${loggedIn} logged in (${failed} failed) in ${login.wallSeconds.toFixed(1)} s`);
    await pool.all({ op: 'steady', hz: 0.1 });
    await sleep(SETTLE_MS);
    await pool.all({ op: 'reset' });
    const idleCpu = new CpuMeter(target.pid).start();
    const samples = await sampleRss(target.pid, Math.max(5, Math.round((options.s1IdleSeconds * 1000) / RSS_SAMPLE_MS)), RSS_SAMPLE_MS);
    const idle = idleCpu.stop();
    await pool.all({ op: 'steady', hz: 0 });
    const stats = mergeStats(await pool.all({ op: 'collect', drainMs: 2000 }));
    const rssAfter = median(samples);
    return {
      figures: {
        connections: loggedIn,
        connectSeconds: login.wallSeconds,
        cpuPerLoginUs: loggedIn > 0 ? (login.cpuSeconds / loggedIn) * 1e6 : null,
        rssBeforeMB: rssBefore / 2 ** 20,
        rssAfterMB: rssAfter / 2 ** 20,
        rssPerConnBytes: loggedIn > 0 ? (rssAfter - rssBefore) / loggedIn : null,
        rssSamples: samples.length,
        idleCpuPct: idle.cores * 100,
        idleRttP99Ms: stats.rtt.count ? ms(stats.rtt.percentile(99)) : null,
        errors: stats.errorTotal + failed,
      },
      ...errorReport(stats),
    };
  });
};
