import { setTimeout as sleep } from 'node:timers/promises';
import { WorkerPool } from '../load/worker-pool';
import { median, readRssBytes } from '../proc-stats';
import { HOST, startTarget } from '../targets';
import { describeErrors, mergeStats, ms, type Scenario, type ScenarioResult } from './common';

const SAMPLE_MS = 1000;

/**
 * Soak (opt-in: `--scenarios soak`): N clients heartbeat every 1/hz s for M
 * minutes while the server's RSS is read every second. Flat memory means the
 * median of the last tenth of the run is no higher than that of the middle.
 */
export const soak: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  if (kind !== 'gateway') return { figures: {}, unavailable: 'the soak watches the gateway only' };
  const n = options.soakConns;
  const target = await startTarget(kind, { maxConnections: n + 1000, heartbeatMs: 10000 });
  const pool = WorkerPool.start(n);
  try {
    const { loggedIn, failed } = await pool.connect(HOST, target.tcpPort, 'soak-', n);
    log(`  ${kind}: ${loggedIn} logged in, ${options.soakHz} HEART/s each for ${options.soakMinutes} min`);
    await pool.all({ op: 'steady', hz: options.soakHz });
    const samples: number[] = [];
    const until = Date.now() + options.soakMinutes * 60_000;
    while (Date.now() < until) {
      samples.push(readRssBytes(target.pid));
      await sleep(SAMPLE_MS);
    }
    await pool.all({ op: 'steady', hz: 0 });
    const stats = mergeStats(await pool.all({ op: 'collect', drainMs: 2000 }));
    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const mid = Math.floor(samples.length / 2);
    const mib = (b: number) => b / 2 ** 20;
    const start = mib(median(samples.slice(0, tenth)));
    const middle = mib(median(samples.slice(mid - (tenth >> 1), mid - (tenth >> 1) + tenth)));
    const end = mib(median(samples.slice(-tenth)));
    return {
      figures: {
        connections: loggedIn,
        rssStartMB: start,
        rssMiddleMB: middle,
        rssEndMB: end,
        rssGrowthPct: ((end - middle) / middle) * 100,
        rttP99Ms: ms(stats.rtt.percentile(99)),
        errors: stats.errorTotal + failed,
      },
      errorSamples: stats.errorSamples,
      notes: [
        `RSS per minute (MiB): ${Array.from({ length: Math.ceil(samples.length / 60) }, (_, i) => mib(median(samples.slice(i * 60, i * 60 + 60))).toFixed(1)).join(', ')}`,
        ...(stats.errorTotal ? [describeErrors(stats.errors)] : []),
      ],
    };
  } finally {
    await pool.close();
    await target.stop();
  }
};
