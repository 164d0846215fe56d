import { setTimeout as sleep } from 'node:timers/promises';
import { WorkerPool } from '../load/worker-pool';
import { GatewayProfile } from '../cpu-profile';
import { CpuMeter, nowNs } from '../proc-stats';
import { HOST, startTarget } from '../targets';
import { errorReport, mergeStats, onFleet, ms, type Scenario, type ScenarioResult } from './common';

const WARM_UP_MS = 2000;

/** S2 steady load: N clients × `s2Hz` heartbeats/s for T s: server CPU, RTT percentiles, errors. */
export const s2Steady: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  const n = options.s2Conns;
  const profile = GatewayProfile.for(kind, options, 's2');
  const target = await startTarget(kind, { maxConnections: n + 1000, heartbeatMs: 10000, cpuProfDir: profile?.dir });
  const pool = WorkerPool.start(n);
  return onFleet(target, pool, profile, async () => {
    const { loggedIn, failed } = await pool.connect(HOST, target.tcpPort, 'steady-', n);
    log(`  ${kind}: ${loggedIn} logged in, ${options.s2Hz} HEART/s each for ${options.s2Seconds} s`);
    await pool.all({ op: 'steady', hz: options.s2Hz });
    await sleep(WARM_UP_MS);
    await pool.all({ op: 'reset' });
    const cpu = new CpuMeter(target.pid).start();
    const t0 = nowNs();
    await sleep(options.s2Seconds * 1000);
    if (profile) profile.window = { fromNs: t0, toNs: nowNs() };
    const used = cpu.stop();
    await pool.all({ op: 'steady', hz: 0 });
    // Heartbeats still in flight get 2 s to come back; what doesn't is "lost".
    const stats = mergeStats(await pool.all({ op: 'collect', drainMs: 2000 }));
    return {
      figures: {
        connections: loggedIn,
        cpuPct: used.cores * 100,
        heartbeatsPerSec: stats.received / used.wallSeconds,
        rttP50Ms: ms(stats.rtt.percentile(50)),
        rttP99Ms: ms(stats.rtt.percentile(99)),
        rttP999Ms: ms(stats.rtt.percentile(99.9)),
        rttMaxMs: ms(stats.rtt.max),
        errors: stats.errorTotal + failed,
      },
      ...errorReport(stats),
    };
  });
};
