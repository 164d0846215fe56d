import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayProfile } from '../cpu-profile';
import { WorkerPool } from '../load/worker-pool';
import { nowNs, percentileOf } from '../proc-stats';
import { HOST, startTarget } from '../targets';
import { describeErrors, mergeStats, ms, onFleet, type Scenario, type ScenarioResult } from './common';

const POLL_MS = 20;
const GIVE_UP_MS = 60_000;

/**
 * S4 fan-out: N clients connected, one broadcast over HTTP; time (from the
 * POST being sent) until 50/99/100% of them hold the CMD, and, for the
 * gateway, until every command is recorded as acked (polled every 20 ms).
 * Clients ACK each CMD as soon as it arrives; times are hrtime, which is
 * the same monotonic clock in every process of the machine.
 */
export const s4Fanout: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  const n = options.s4Conns;
  const profile = GatewayProfile.for(kind, options, 's4');
  const target = await startTarget(kind, { maxConnections: n + 1000, heartbeatMs: 10000, cpuProfDir: profile?.dir });
  const pool = WorkerPool.start(n);
  return onFleet(target, pool, profile, async (): Promise<ScenarioResult> => {
    const { loggedIn, failed } = await pool.connect(HOST, target.tcpPort, 'fan-', n);
    await pool.all({ op: 'arm-commands' });
    await target.warmUpHttp();
    await sleep(500);
    log(`  ${kind}: ${loggedIn} logged in, broadcasting`);
    const t0 = nowNs();
    let answer;
    try {
      answer = await target.broadcast();
    } catch (error) {
      return { figures: {}, unavailable: `broadcast failed: ${(error as Error).message}` };
    }
    const postMs = (nowNs() - t0) / 1e6;
    if (!answer) return { figures: {}, unavailable: 'POST /commands/broadcast answered 404 (no admin route yet)' };
    const expected = answer.count;

    const delivered = (async () => {
      const deadline = Date.now() + GIVE_UP_MS;
      while (Date.now() < deadline) {
        const counts = await pool.all({ op: 'command-count' });
        if (counts.reduce((a, b) => a + b, 0) >= expected) return;
        await sleep(POLL_MS);
      }
    })();
    const acked = (async (): Promise<number | null> => {
      if (!answer.batchId) return null;
      const deadline = Date.now() + GIVE_UP_MS;
      while (Date.now() < deadline) {
        const count = await target.ackedCount(answer.batchId);
        if (count === undefined) return null;
        if (count >= expected) return (nowNs() - t0) / 1e6;
        await sleep(POLL_MS);
      }
      return null;
    })();
    const [, ackAllMs] = await Promise.all([delivered, acked]);
    if (profile) profile.window = { fromNs: t0, toNs: nowNs() };
    const times = (await pool.all({ op: 'command-times' })).flat().map((t) => (t - t0) / 1e6);
    const stats = mergeStats(await pool.all({ op: 'collect' }));
    const notes: string[] = [];
    if (times.length < expected) notes.push(`only ${times.length} of ${expected} clients got the CMD within ${GIVE_UP_MS / 1000} s`);
    if (stats.errorTotal) notes.push(describeErrors(stats.errors));
    const at = (p: number) => (times.length >= Math.ceil((p / 100) * expected) ? ms(percentileOf(times, (p * expected) / times.length) * 1e6) : null);
    return {
      figures: {
        connections: loggedIn,
        commands: expected,
        postMs,
        p50Ms: at(50),
        p99Ms: at(99),
        p100Ms: times.length >= expected ? ms(Math.max(...times) * 1e6) : null,
        ackAllMs: kind === 'gateway' ? ackAllMs : null,
        errors: stats.errorTotal + failed,
      },
      errorSamples: stats.errorSamples,
      notes,
    };
  });
};
