import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import type { BenchOptions, ScenarioId } from './cli';
import type { ScenarioResult } from './scenarios/common';
import type { TargetKind } from './targets';

export type Results = Partial<Record<ScenarioId, Partial<Record<TargetKind, ScenarioResult>>>>;

export interface Machine {
  nproc: number;
  cpu: string;
  memory: string;
  node: string;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
}

export function machine(): Machine {
  let memory = `${Math.round(totalmem() / 2 ** 30)} GiB`;
  try {
    memory = execFileSync('free', ['-h'], { encoding: 'utf8' }).trim();
  } catch {
    // keep the total
  }
  return { nproc: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', memory, node: process.version, loadAvgStart: loadavg() };
}

/** How a row is judged: on the gateway's own figure, or on gateway ÷ baseline. */
type Goal = { on: 'gateway' | 'ratio'; max?: number; min?: number; text: string };

interface Row {
  scenario: ScenarioId;
  label: string;
  key: string;
  digits: number;
  goal?: Goal;
  /** A ratio would mislead (e.g. a before → after pair). */
  noRatio?: true;
}

/** Every figure in the table, in order, with the issue's targets. */
const ROWS: Row[] = [
  { scenario: 's1', label: 'connections logged in', key: 'connections', digits: 0, noRatio: true },
  { scenario: 's1', label: 'server CPU per connect+login (µs)', key: 'cpuPerLoginUs', digits: 1, goal: { on: 'gateway', max: 120, text: '≤ 120 µs' } },
  { scenario: 's1', label: 'RSS per connection (bytes)', key: 'rssPerConnBytes', digits: 0, goal: { on: 'gateway', max: 6144, text: '≤ 6 KiB' } },
  { scenario: 's1', label: 'RSS before → after (MiB)', key: 'rssAfterMB', digits: 1, noRatio: true },
  { scenario: 's1', label: 'idle CPU (% of a core)', key: 'idleCpuPct', digits: 2 },
  { scenario: 's1', label: 'errors', key: 'errors', digits: 0 },
  { scenario: 's2', label: 'server CPU (% of a core)', key: 'cpuPct', digits: 1, goal: { on: 'ratio', max: 1.3, text: '≤ 1.3 × baseline' } },
  { scenario: 's2', label: 'RTT p50 (ms)', key: 'rttP50Ms', digits: 3 },
  { scenario: 's2', label: 'RTT p99 (ms)', key: 'rttP99Ms', digits: 3, goal: { on: 'gateway', max: 1.5, text: '≤ 1.5 ms' } },
  { scenario: 's2', label: 'RTT p99.9 (ms)', key: 'rttP999Ms', digits: 3 },
  { scenario: 's2', label: 'errors', key: 'errors', digits: 0, goal: { on: 'gateway', max: 0, text: '0' } },
  { scenario: 's3', label: 'heartbeats per second', key: 'heartbeatsPerSec', digits: 0, goal: { on: 'ratio', min: 0.7, text: '≥ 0.7 × baseline' } },
  { scenario: 's3', label: 'server CPU (% of a core)', key: 'cpuPct', digits: 1 },
  { scenario: 's3', label: 'load generator CPU (% of a core)', key: 'clientCpuPct', digits: 1 },
  { scenario: 's3', label: 'RTT p99 under saturation (ms)', key: 'rttP99Ms', digits: 2 },
  { scenario: 's3', label: 'errors', key: 'errors', digits: 0 },
  { scenario: 's4', label: '50% of clients have the CMD (ms)', key: 'p50Ms', digits: 1 },
  { scenario: 's4', label: '99% have it (ms)', key: 'p99Ms', digits: 1 },
  { scenario: 's4', label: '100% have it (ms)', key: 'p100Ms', digits: 1, goal: { on: 'ratio', max: 1.3, text: '≤ 1.3 × baseline' } },
  { scenario: 's4', label: 'all acks recorded as acked (ms)', key: 'ackAllMs', digits: 0, goal: { on: 'gateway', max: 1000, text: '≤ 1000 ms' } },
  { scenario: 's4', label: 'errors', key: 'errors', digits: 0 },
  { scenario: 's5', label: 'records swept', key: 'records', digits: 0 },
  { scenario: 's5', label: 'sweep pass, median (ms)', key: 'sweepMedianMs', digits: 2, goal: { on: 'gateway', max: 5, text: '≤ 5 ms' } },
  { scenario: 's5', label: 'sweep pass, p99 (ms)', key: 'sweepP99Ms', digits: 2 },
  { scenario: 'c1', label: 'same-node command, p50 / p99 (ms)', key: 'sameP99Ms', digits: 2, noRatio: true },
  { scenario: 'c1', label: 'cross-node command, p50 (ms)', key: 'crossP50Ms', digits: 2, noRatio: true },
  { scenario: 'c1', label: 'cross-node command, p99 (ms)', key: 'crossP99Ms', digits: 2, noRatio: true },
  { scenario: 'c1', label: 'cross-node p99 − same-node p99 (ms)', key: 'crossExtraP99Ms', digits: 2, goal: { on: 'gateway', max: 5, text: '≤ 5 ms' } },
  { scenario: 'c1', label: 'Redis commands per posted command', key: 'redisPerCommand', digits: 1, noRatio: true },
  { scenario: 'durability', label: 'commands accepted/s, 1 HTTP client, SQLite', key: 'sqlite1PerSec', digits: 0 },
  { scenario: 'durability', label: 'commands accepted/s, 1 HTTP client, memory', key: 'memory1PerSec', digits: 0 },
  { scenario: 'durability', label: 'SQLite ÷ memory, 1 HTTP client', key: 'ratio1', digits: 2 },
  { scenario: 'durability', label: 'commands accepted/s, 64 HTTP clients, SQLite', key: 'sqlite64PerSec', digits: 0 },
  { scenario: 'durability', label: 'commands accepted/s, 64 HTTP clients, memory', key: 'memory64PerSec', digits: 0 },
  { scenario: 'durability', label: 'SQLite ÷ memory, 64 HTTP clients', key: 'ratio64', digits: 2 },
  { scenario: 'durability', label: '202 p99, 64 HTTP clients, SQLite (ms)', key: 'sqlite64P99Ms', digits: 2 },
  { scenario: 'durability', label: '202 p99, 64 HTTP clients, memory (ms)', key: 'memory64P99Ms', digits: 2 },
  { scenario: 'durability', label: 'errors', key: 'errors', digits: 0 },
  { scenario: 'soak', label: 'RSS start / middle / end (MiB)', key: 'rssEndMB', digits: 1, noRatio: true },
  { scenario: 'soak', label: 'RSS growth, middle → end (%)', key: 'rssGrowthPct', digits: 1 },
  { scenario: 'soak', label: 'RTT p99 (ms)', key: 'rttP99Ms', digits: 3 },
  { scenario: 'soak', label: 'errors', key: 'errors', digits: 0 },
  { scenario: 'abuse', label: 'others\' RTT p99, quiet (ms)', key: 'quietP99Ms', digits: 2 },
  { scenario: 'abuse', label: 'others\' RTT p99 during a one-client MSG flood, rates off (ms)', key: 'floodP99Ms', digits: 2, goal: { on: 'gateway', max: 50, text: '< 50 ms' } },
  { scenario: 'abuse', label: 'flood frames answered per second', key: 'floodFramesPerSec', digits: 0 },
  { scenario: 'abuse', label: 'RSS kept by the one-shot clientIds ?q= searches (MiB)', key: 'oneShotMiB', digits: 1 },
  { scenario: 'abuse', label: 'others\' RTT p99 while ?q= is polled every 100 ms (ms)', key: 'queryP99Ms', digits: 2, goal: { on: 'gateway', max: 50, text: '< 50 ms' } },
  { scenario: 'abuse', label: '?q= response p50 / p99 (ms)', key: 'queryMsP99', digits: 1 },
  { scenario: 'abuse', label: 'others\' RTT p99 during a MSG flood, defaults (ms)', key: 'limitedFloodP99Ms', digits: 2, goal: { on: 'gateway', max: 50, text: '< 50 ms' } },
  { scenario: 'abuse', label: 'MSG flood frames answered before the close, defaults', key: 'limitedFloodAnswered', digits: 0 },
  { scenario: 'abuse', label: 'HEART flood frames answered, defaults', key: 'heartFloodAnswered', digits: 0 },
  { scenario: 'abuse', label: 'connect flood: logged in / attempted', key: 'connectFloodAccepted', digits: 0 },
  { scenario: 'abuse', label: 'flapping clientId: logins accepted / attempted', key: 'flapLoggedIn', digits: 0 },
  { scenario: 'abuse', label: 'log lines during the flapping', key: 'flapLogLines', digits: 0 },
  { scenario: 'abuse', label: 'log lines for the stray ACKs', key: 'strayAckLogLines', digits: 0 },
];

const TITLES: Record<ScenarioId, string> = {
  s1: 'S1 idle fleet',
  s2: 'S2 steady load',
  s3: 'S3 throughput',
  s4: 'S4 fan-out',
  s5: 'S5 sweep',
  c1: 'C1 cross-node command',
  durability: 'Durability',
  soak: 'Soak',
  abuse: 'Abuse',
};

function fmt(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export interface Verdict {
  scenario: ScenarioId;
  figure: string;
  target: string;
  gateway: number | null;
  baseline: number | null;
  ratio: number | null;
  met: boolean | null;
}

/** The table's rows with their values and pass/miss, for the JSON too. */
export function verdicts(results: Results, options: BenchOptions): Verdict[] {
  const out: Verdict[] = [];
  for (const row of ROWS) {
    if (!options.scenarios.includes(row.scenario)) continue;
    const g = results[row.scenario]?.gateway?.figures[row.key] ?? null;
    const b = results[row.scenario]?.baseline?.figures[row.key] ?? null;
    const ratio = !row.noRatio && g !== null && b !== null && b !== 0 ? g / b : null;
    let met: boolean | null = null;
    if (row.goal) {
      const v = row.goal.on === 'gateway' ? g : ratio;
      if (v !== null) met = (row.goal.max === undefined || v <= row.goal.max) && (row.goal.min === undefined || v >= row.goal.min);
    }
    out.push({ scenario: row.scenario, figure: row.label, target: row.goal?.text ?? '', gateway: g, baseline: b, ratio, met });
  }
  return out;
}

/** The markdown table (and the notes under it) of one run. */
export function markdown(results: Results, options: BenchOptions, env: Machine, startedAt: Date): string {
  const lines: string[] = [];
  lines.push(`Run of ${startedAt.toISOString()} — ${env.nproc} cores (${env.cpu}), Node ${env.node}, load average at start ${env.loadAvgStart.map((l) => l.toFixed(2)).join(' ')}${env.loadAvgEnd ? `, at end ${env.loadAvgEnd.map((l) => l.toFixed(2)).join(' ')}` : ''}${options.quick ? ' — **--quick** (scaled down)' : ''}`);
  lines.push('');
  const params: Record<ScenarioId, string> = {
    s1: `S1 ${options.s1Conns} conns, ${options.s1IdleSeconds} s idle`,
    s2: `S2 ${options.s2Conns} × ${options.s2Hz} HEART/s, ${options.s2Seconds} s`,
    s3: `S3 ${options.s3Conns} × ${options.s3Inflight} in flight, ${options.s3Seconds} s, ${options.s3Workers} load process(es)`,
    s4: `S4 ${options.s4Conns} conns`,
    s5: `S5 ${options.s5Records} records (${options.s5Live} connected), ${options.s5Passes} passes`,
    c1: `C1 ${options.c1Commands} commands each way, 3 nodes on one Redis`,
    durability: `durability ${options.durabilitySeconds} s per run`,
    soak: `soak ${options.soakConns} × ${options.soakHz} HEART/s, ${options.soakMinutes} min`,
    abuse: `abuse ${options.abuseVictims} × ${options.abuseHz} HEART/s measuring; ${options.abuseFloodFrames} MSG / ${options.abuseHeartFrames} HEART flood; ?q= over ${options.abuseRecords} records; ${options.abuseConnectRate} connects/s × ${options.abuseConnectSeconds} s; ${options.abuseFlaps} flaps; ${options.abuseStrayAcks} stray ACKs`,
  };
  lines.push(`Parameters: ${options.scenarios.map((id) => params[id]).join(' · ')}`);
  lines.push('');
  lines.push('| scenario | figure | gateway | baseline | gateway ÷ baseline | target | met? |');
  lines.push('|---|---|--:|--:|--:|---|---|');
  const rows = ROWS.filter((r) => options.scenarios.includes(r.scenario));
  const shown = new Set<ScenarioId>();
  const judged = verdicts(results, options);
  for (const [i, row] of rows.entries()) {
    const v = judged[i];
    const res = results[row.scenario];
    const cell = (kind: TargetKind, value: number | null) => {
      const r = res?.[kind];
      if (!options.targets.includes(kind)) return 'not run';
      if (!r) return '—';
      if (r.failed) return 'failed';
      if (r.unavailable) return 'n/a';
      if (row.key === 'rssAfterMB') return `${fmt(r.figures.rssBeforeMB, 1)} → ${fmt(r.figures.rssAfterMB, 1)}`;
      if (row.key === 'queryMsP99') return `${fmt(r.figures.queryMsP50, 1)} / ${fmt(r.figures.queryMsP99, 1)}`;
      if (row.key === 'connectFloodAccepted') return `${fmt(r.figures.connectFloodAccepted, 0)} / ${fmt(r.figures.connectFloodAttempted, 0)}`;
      if (row.key === 'flapLoggedIn') return `${fmt(r.figures.flapLoggedIn, 0)} / ${fmt(r.figures.flapAttempts, 0)}`;
      if (row.key === 'sameP99Ms') return `${fmt(r.figures.sameP50Ms, 2)} / ${fmt(r.figures.sameP99Ms, 2)}`;
      if (row.key === 'rssEndMB') return `${fmt(r.figures.rssStartMB, 1)} / ${fmt(r.figures.rssMiddleMB, 1)} / ${fmt(r.figures.rssEndMB, 1)}`;
      return fmt(value, row.digits);
    };
    const title = shown.has(row.scenario) ? '' : TITLES[row.scenario];
    shown.add(row.scenario);
    const met = v.met === null ? (row.goal ? '?' : '') : v.met ? 'pass' : '**miss**';
    lines.push(`| ${title} | ${row.label} | ${cell('gateway', v.gateway)} | ${cell('baseline', v.baseline)} | ${v.ratio === null ? '' : `${fmt(v.ratio, 2)}×`} | ${v.target} | ${met} |`);
  }
  const notes: string[] = [];
  for (const id of options.scenarios) {
    for (const kind of options.targets) {
      const r = results[id]?.[kind];
      if (!r) continue;
      if (r.failed) notes.push(`${TITLES[id]}, ${kind}: failed: ${r.failed.split('\n')[0]}`);
      if (r.unavailable) notes.push(`${TITLES[id]}, ${kind}: not measured: ${r.unavailable}`);
      for (const n of r.notes ?? []) notes.push(`${TITLES[id]}, ${kind}: ${n}`);
      for (const s of (r.errorSamples ?? []).slice(0, 3)) notes.push(`${TITLES[id]}, ${kind}: e.g. ${s}`);
    }
  }
  if (notes.length) {
    lines.push('');
    for (const n of notes) lines.push(`- ${n}`);
  }
  const windows: Partial<Record<ScenarioId, string>> = { s1: 'the connect+login phase', s3: 'the measuring window' };
  for (const id of options.scenarios) {
    const profile = results[id]?.gateway?.profile;
    if (!profile?.length) continue;
    lines.push('');
    lines.push(`Gateway CPU profile in ${TITLES[id]} (\`node --cpu-prof\`, samples of ${windows[id] ?? 'the whole run'} only), top self time:`);
    lines.push('');
    lines.push('| self ms | self % | function | where |');
    lines.push('|--:|--:|---|---|');
    for (const p of profile) lines.push(`| ${p.selfMs} | ${p.selfPct} | ${p.fn} | ${p.where} |`);
  }
  return lines.join('\n');
}
