import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, type BenchOptions, type ScenarioId } from './cli';
import { machine, markdown, verdicts, type Results } from './report';
import type { Scenario, ScenarioContext } from './scenarios/common';
import { s1Idle } from './scenarios/s1-idle';
import { s2Steady } from './scenarios/s2-steady';
import { s3Throughput } from './scenarios/s3-throughput';
import { s4Fanout } from './scenarios/s4-fanout';
import { s5Sweep } from './scenarios/s5-sweep';
import { c1CrossNode } from './scenarios/c1-cross-node';
import { durability } from './scenarios/durability';
import { soak } from './scenarios/soak';
import { abuse } from './scenarios/abuse';
import { ROOT } from './targets';

const RUNNERS: Record<ScenarioId, Scenario> = { s1: s1Idle, s2: s2Steady, s3: s3Throughput, s4: s4Fanout, s5: s5Sweep, c1: c1CrossNode, durability, soak, abuse };

const DOCS_BEGIN = '<!-- bench:table:begin -->';
const DOCS_END = '<!-- bench:table:end -->';

/** Replaces the table between the markers of docs/BENCHMARKS.md. */
function writeDocs(table: string): void {
  const file = join(ROOT, 'docs', 'BENCHMARKS.md');
  const doc = readFileSync(file, 'utf8');
  const a = doc.indexOf(DOCS_BEGIN);
  const b = doc.indexOf(DOCS_END);
  if (a < 0 || b < a) throw new Error(`${file} has no ${DOCS_BEGIN} … ${DOCS_END} markers`);
  writeFileSync(file, `${doc.slice(0, a + DOCS_BEGIN.length)}\n${table}\n${doc.slice(b)}`);
}

async function main(options: BenchOptions): Promise<void> {
  const startedAt = new Date();
  const env = machine();
  const ctx: ScenarioContext = { options, log: (line) => process.stderr.write(`${line}\n`) };
  const results: Results = {};
  for (const id of options.scenarios) {
    // Targets alternate within each scenario, so drift in the machine's load hits both alike.
    for (const kind of options.targets) {
      ctx.log(`${id} on ${kind}…`);
      const t0 = Date.now();
      try {
        (results[id] ??= {})[kind] = await RUNNERS[id](kind, ctx);
      } catch (error) {
        (results[id] ??= {})[kind] = { figures: {}, failed: error instanceof Error ? error.message : String(error) };
        ctx.log(`  ${kind} failed: ${String(error)}`);
      }
      ctx.log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      // Let the last scenario's sockets and CPU settle.
      await sleep(1000);
    }
  }
  env.loadAvgEnd = loadavg();
  const table = markdown(results, options, env, startedAt);
  const outDir = resolve(ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = join(outDir, `${stamp}.json`);
  writeFileSync(json, JSON.stringify({ startedAt, machine: env, options, results, verdicts: verdicts(results, options) }, null, 2));
  writeFileSync(join(outDir, 'latest.md'), `${table}\n`);
  if (options.writeDocs) writeDocs(table);
  process.stdout.write(`\n${table}\n\nwritten: ${json}, ${join(outDir, 'latest.md')}${options.writeDocs ? ', docs/BENCHMARKS.md' : ''}\n`);
}

let options: BenchOptions;
try {
  options = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
main(options).catch((error: unknown) => {
  console.error('bench failed:', error);
  process.exit(1);
});
