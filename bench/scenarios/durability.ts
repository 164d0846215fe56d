import { setTimeout as sleep } from 'node:timers/promises';
import { percentileOf } from '../proc-stats';
import { ADMIN_TOKEN, HOST, startGatewayTarget, type Target } from '../targets';
import { ms, type Figures, type Scenario, type ScenarioResult } from './common';

/** Offline clients the commands are spread over (each queues up to MAX_QUEUED_COMMANDS). */
const CLIENTS_PER_LOOP = 1000;
const WARM_UP_MS = 500;

interface Run {
  accepted: number;
  refused: number;
  perSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * `concurrency` HTTP clients, each POSTing one command after the other
 * (`queue: true` to offline clients, no waitMs) for `seconds`: the 202s
 * per second the gateway gives. With STORE=sqlite every 202 names a
 * committed row, so this is the price of durability, against STORE=memory.
 */
async function post(target: Target, concurrency: number, seconds: number): Promise<Run> {
  const url = (loop: number, i: number) => `http://${HOST}:${target.httpPort}/clients/dur-${loop}-${i % CLIENTS_PER_LOOP}/commands`;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
  let measuring = false;
  let stop = false;
  let accepted = 0;
  let refused = 0;
  const latencies: number[] = [];
  const loop = async (n: number) => {
    for (let i = 0; !stop; i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(url(n, i), { method: 'POST', headers, body: JSON.stringify({ name: 'durable', data: { n: i }, queue: true }) });
      await res.arrayBuffer();
      if (!measuring) continue;
      if (res.status === 202 || res.status === 201) {
        accepted++;
        latencies.push(Number(process.hrtime.bigint() - t0));
      } else refused++;
    }
  };
  const loops = Array.from({ length: concurrency }, (_, n) => loop(n));
  await sleep(WARM_UP_MS);
  measuring = true;
  const t0 = Date.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (Date.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  const at = (p: number) => (latencies.length ? ms(percentileOf(latencies, p)) : null);
  return { accepted, refused, perSec: Math.round(accepted / elapsed), p50Ms: at(50), p99Ms: at(99) };
}

/**
 * Durability: commands accepted per second without waitMs, by 1 and by 64
 * concurrent HTTP clients, the gateway with STORE=sqlite against the same
 * gateway with STORE=memory (gateway only: the baseline has no store).
 */
export const durability: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  if (kind !== 'gateway') return { figures: {}, unavailable: 'the baseline has no command store' };
  const figures: Figures = {};
  const notes: string[] = [];
  for (const store of ['sqlite', 'memory'] as const) {
    for (const concurrency of [1, 64]) {
      const target = await startGatewayTarget({ maxConnections: 1000, env: { STORE: store, MAX_QUEUED_COMMANDS: '1000000' } });
      try {
        const run = await post(target, concurrency, options.durabilitySeconds);
        log(`  ${store}, ${concurrency} HTTP client(s): ${run.perSec} commands/s accepted, p99 ${run.p99Ms} ms`);
        figures[`${store}${concurrency}PerSec`] = run.perSec;
        figures[`${store}${concurrency}P99Ms`] = run.p99Ms;
        if (run.refused) notes.push(`${store}, ${concurrency} client(s): ${run.refused} requests not answered 202`);
        figures.errors = (figures.errors ?? 0) + run.refused;
      } finally {
        await target.stop();
      }
    }
  }
  for (const c of [1, 64]) {
    const s = figures[`sqlite${c}PerSec`];
    const m = figures[`memory${c}PerSec`];
    figures[`ratio${c}`] = s && m ? Math.round((s / m) * 100) / 100 : null;
  }
  return { figures, notes };
};
