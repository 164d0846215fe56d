import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayProfile } from '../cpu-profile';
import { WorkerPool } from '../load/worker-pool';
import { CpuMeter, nowNs } from '../proc-stats';
import { HOST, startTarget } from '../targets';
import { errorReport, mergeStats, onFleet, ms, type Scenario, type ScenarioResult } from './common';

const WARM_UP_MS = 2000;

/** S3 throughput: C clients each keep K heartbeats in flight for T s: heartbeats answered per second. */
export const s3Throughput: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  const n = options.s3Conns;
  const profile = GatewayProfile.for(kind, options, 's3');
  const target = await startTarget(kind, { maxConnections: n + 1000, heartbeatMs: 10000, cpuProfDir: profile?.dir });
  const pool = WorkerPool.start(n, options.s3Workers);
  return onFleet(target, pool, profile, async () => {
    const { loggedIn, failed } = await pool.connect(HOST, target.tcpPort, 'tp-', n);
    log(`  ${kind}: ${loggedIn} logged in, ${options.s3Inflight} in flight each, ${options.s3Seconds} s over ${pool.size} worker(s)`);
    await pool.all({ op: 'throughput', inflight: options.s3Inflight });
    await sleep(WARM_UP_MS);
    await pool.all({ op: 'reset' });
    const t0 = nowNs();
    const cpu = new CpuMeter(target.pid).start();
    const clientCpu = pool.pids.map((pid) => new CpuMeter(pid).start());
    await sleep(options.s3Seconds * 1000);
    const clientCores = clientCpu.reduce((sum, m) => sum + m.stop().cores, 0);
    const stats = mergeStats(await pool.all({ op: 'collect' }));
    const t1 = nowNs();
    if (profile) profile.window = { fromNs: t0, toNs: t1 };
    const wallSeconds = (t1 - t0) / 1e9;
    const used = cpu.stop();
    await pool.all({ op: 'throughput', inflight: 0 });
    return {
      figures: {
        connections: loggedIn,
        heartbeatsPerSec: stats.received / wallSeconds,
        cpuPct: used.cores * 100,
        // Near 100% per worker means the clients, not the server, set the pace.
        clientCpuPct: clientCores * 100,
        rttP50Ms: ms(stats.rtt.percentile(50)),
        rttP99Ms: ms(stats.rtt.percentile(99)),
        errors: stats.errorTotal + failed,
      },
      ...errorReport(stats),
    };
  });
};
