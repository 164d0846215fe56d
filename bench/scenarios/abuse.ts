import { setTimeout as sleep } from 'node:timers/promises';
import { encodeJson } from '../../src/transport/codec';
import { connectFlood, flapping, flood, openPeer, login, pollAdmin } from '../load/abuser';
import { nextLocalAddress, WorkerPool } from '../load/worker-pool';
import { median, sampleRss } from '../proc-stats';
import { HOST, startGatewayTarget, type Target } from '../targets';
import { mergeStats, ms, onFleet, type Figures, type Scenario, type ScenarioResult } from './common';

/** Records made per batch for the `?q=` part (connect, then drop: each becomes a leave record). */
const RECORD_BATCH = 5000;

/** The victims' RTT p99 over `body` (they heartbeat at a steady rate the whole time). */
async function victimsP99(pool: WorkerPool, body: () => Promise<void>): Promise<number> {
  await pool.all({ op: 'reset' });
  await body();
  const stats = mergeStats(await pool.all({ op: 'collect' }));
  return ms(stats.rtt.percentile(99));
}

/**
 * Issue 12's abuse pass, measured: the p99 RTT of well-behaved clients while
 * one client floods or an admin polls `?q=`, and what admission control lets
 * through of a connect flood, a flapping clientId and stray ACKs.
 *
 * Part 1 runs with the rates off (ADMISSION_OFF): what is left to protect the
 * others is fairness (the per-read frame budget, sliced queries). Part 2 runs
 * with every default on.
 */
export const abuse: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  if (kind !== 'gateway') return { figures: {}, unavailable: 'the baseline has no admission control or admin API' };
  const o = options;
  const figures: Figures = {};
  const notes: string[] = [];

  // ---- part 1: fairness alone ----------------------------------------------------
  {
    const target = await startGatewayTarget({ maxConnections: o.abuseVictims + RECORD_BATCH + 1000, admission: 'off' });
    const pool = WorkerPool.start(o.abuseVictims);
    const makers = WorkerPool.start(RECORD_BATCH);
    await onFleet(target, { close: async () => void (await Promise.all([pool.close(), makers.close()])) }, undefined, async () => {
      await pool.connect(HOST, target.tcpPort, 'victim-', o.abuseVictims);
      await pool.all({ op: 'steady', hz: o.abuseHz });
      await sleep(1000);
      figures.quietP99Ms = await victimsP99(pool, () => sleep(3000));
      log(`  quiet: victims p99 ${figures.quietP99Ms} ms`);

      let f: Awaited<ReturnType<typeof flood>> | undefined;
      figures.floodP99Ms = await victimsP99(pool, async () => {
        f = await flood(target.tcpPort, nextLocalAddress(), 'flooder', { type: 'MSG', pattern: 'bench.nobody', data: { n: 1 } }, o.abuseFloodFrames);
      });
      const fl = f as Awaited<ReturnType<typeof flood>>;
      figures.floodFramesPerSec = Math.round(fl.answered / (fl.durationMs / 1000));
      log(`  MSG flood, rates off: ${fl.answered}/${fl.sent} answered in ${fl.durationMs.toFixed(0)} ms; victims p99 ${figures.floodP99Ms} ms`);

      // What one-shot clientIds (LOGIN, then close) leave behind: the gateway's RSS before and after (medians).
      const rssBefore = median(await sampleRss(target.pid, 10, 50));
      for (let made = 0; made < o.abuseRecords; made += RECORD_BATCH) {
        const n = Math.min(RECORD_BATCH, o.abuseRecords - made);
        await makers.connect(HOST, target.tcpPort, 'rec-', n, made);
        await makers.all({ op: 'close' });
      }
      await sleep(500);
      const rssAfter = median(await sampleRss(target.pid, 10, 50));
      figures.oneShotMiB = Math.round(((rssAfter - rssBefore) / 1048576) * 10) / 10;
      log(`  ${o.abuseRecords} one-shot clientIds: RSS ${(rssBefore / 1048576).toFixed(1)} -> ${(rssAfter / 1048576).toFixed(1)} MiB`);
      let poll: Awaited<ReturnType<typeof pollAdmin>> | undefined;
      // A term that matches a tenth of the records: every query scans them all and fills a page.
      figures.queryP99Ms = await victimsP99(pool, async () => {
        poll = await pollAdmin(target.httpPort, '/clients?q=rec-1&limit=100', 100, o.abuseQuerySeconds);
      });
      const p = poll as Awaited<ReturnType<typeof pollAdmin>>;
      figures.queryMsP50 = ms(p.latency.percentile(50));
      figures.queryMsP99 = ms(p.latency.percentile(99));
      if (p.failures) notes.push(`?q= polling: ${p.failures} of ${p.requests} requests failed`);
      log(`  ?q= every 100 ms over ${o.abuseRecords} records: query p50 ${figures.queryMsP50} ms; victims p99 ${figures.queryP99Ms} ms`);
      return { figures };
    });
  }

  // ---- part 2: every default on ------------------------------------------------------
  {
    const target: Target = await startGatewayTarget({ maxConnections: o.abuseVictims + 5000, admission: 'on' });
    const pool = WorkerPool.start(o.abuseVictims);
    await onFleet(target, pool, undefined, async () => {
      await pool.connect(HOST, target.tcpPort, 'victim-', o.abuseVictims);
      await pool.all({ op: 'steady', hz: o.abuseHz });
      await sleep(1000);

      let f: Awaited<ReturnType<typeof flood>> | undefined;
      figures.limitedFloodP99Ms = await victimsP99(pool, async () => {
        f = await flood(target.tcpPort, nextLocalAddress(), 'flooder', { type: 'MSG', pattern: 'bench.nobody' }, o.abuseFloodFrames);
      });
      const fl = f as Awaited<ReturnType<typeof flood>>;
      figures.limitedFloodAnswered = fl.answered;
      figures.limitedFloodClosedMs = fl.closedAfterMs === null ? null : Math.round(fl.closedAfterMs);
      log(`  MSG flood, defaults: ${fl.answered} answered, closed after ${figures.limitedFloodClosedMs} ms (${JSON.stringify(fl.received)})`);

      const h = await flood(target.tcpPort, nextLocalAddress(), 'heart-flooder', { type: 'HEART' }, o.abuseHeartFrames);
      figures.heartFloodAnswered = h.answered;
      log(`  HEART flood of ${o.abuseHeartFrames}: ${h.answered} answered (${JSON.stringify(h.received)})`);

      const c = await connectFlood(target.tcpPort, nextLocalAddress(), o.abuseConnectRate, o.abuseConnectSeconds, 'cf-');
      figures.connectFloodAccepted = c.loggedIn;
      figures.connectFloodAttempted = c.attempted;
      log(`  connect flood ${o.abuseConnectRate}/s for ${o.abuseConnectSeconds} s: ${c.loggedIn} of ${c.attempted} logged in (${JSON.stringify(c.refused)})`);

      const linesBefore = target.logLines;
      const flap = await flapping(target.tcpPort, nextLocalAddress(), 'flapper', o.abuseFlaps);
      figures.flapLoggedIn = flap.loggedIn;
      figures.flapAttempts = flap.attempts;
      figures.flapLogLines = target.logLines - linesBefore;
      log(`  flapping: ${flap.loggedIn} of ${flap.attempts} logins accepted (${flap.perSecond.toFixed(0)}/s; ${JSON.stringify(flap.refused)}), ${figures.flapLogLines} log lines`);

      const acker = await openPeer(target.tcpPort, nextLocalAddress());
      if ((await login(acker, 'stray-acker')) === 'ok') {
        const before = target.logLines;
        const acks = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ type: 'ACK', id: `nope-${i}`, ok: true }));
        // Spread over a few seconds so the per-connection rate lets them through: this measures logging, not the bucket.
        for (let sent = 0; sent < o.abuseStrayAcks; sent += 100) {
          acker.socket.write(Buffer.concat(acks.slice(0, Math.min(100, o.abuseStrayAcks - sent)).map((a) => encodeJson('length', a))));
          await sleep(5);
        }
        await sleep(1000);
        figures.strayAckLogLines = target.logLines - before;
        log(`  ${o.abuseStrayAcks} stray ACKs: ${figures.strayAckLogLines} log lines`);
      }
      acker.socket.destroy();
      return { figures };
    });
  }
  return { figures, notes };
};
