import type { TargetKind } from './targets';

export type ScenarioId = 's1' | 's2' | 's3' | 's4' | 's5' | 'c1' | 'durability' | 'soak' | 'abuse';
export const SCENARIOS: readonly ScenarioId[] = ['s1', 's2', 's3', 's4', 's5', 'c1', 'durability', 'soak', 'abuse'];
/** What runs without --scenarios: the soak (10 minutes) and abuse (gateway only) are asked for by name. */
export const DEFAULT_SCENARIOS: readonly ScenarioId[] = ['s1', 's2', 's3', 's4', 's5', 'c1', 'durability'];

/** Every parameter of a run; each has a `--kebab-case` flag (e.g. `--s2-conns 5000`). */
export interface BenchOptions {
  scenarios: ScenarioId[];
  targets: TargetKind[];
  /** S1 idle fleet: connections. @default 15000 */
  s1Conns: number;
  /** S1: seconds of idle (one HEART per 10 s per client) over which idle CPU and RSS are sampled. @default 20 */
  s1IdleSeconds: number;
  /** S2 steady load: connections. @default 10000 */
  s2Conns: number;
  /** S2: heartbeats per second per connection. @default 1 */
  s2Hz: number;
  /** S2: measured seconds (after a warm-up of 3 s). @default 30 */
  s2Seconds: number;
  /** S3 throughput: connections. @default 500 */
  s3Conns: number;
  /** S3: heartbeats each connection keeps in flight. @default 32 */
  s3Inflight: number;
  /** S3: measured seconds (after a warm-up of 2 s). @default 15 */
  s3Seconds: number;
  /** S3: load-generator processes (one leaves the other core to the server on this 2-core machine). @default 1 */
  s3Workers: number;
  /** S4 fan-out: connections. @default 10000 */
  s4Conns: number;
  /** S5 sweep: presence records. @default 20000 */
  s5Records: number;
  /** S5: of those, how many stay connected (the rest log in and drop, i.e. `leave`); a process holds at most 20,000 files. @default 19000 */
  s5Live: number;
  /** S5: sweep passes timed (each after one HEART from every live client). @default 30 */
  s5Passes: number;
  /** C1 cross-node command (3 nodes on a private redis-server): commands timed each way. @default 1000 */
  c1Commands: number;
  /** Durability: measured seconds of each run (sqlite and memory × 1 and 64 HTTP clients). @default 5 */
  durabilitySeconds: number;
  /** Soak: connections. @default 15000 */
  soakConns: number;
  /** Soak: heartbeats per second per connection. @default 0.5 */
  soakHz: number;
  /** Soak: minutes. @default 10 */
  soakMinutes: number;
  /** Abuse: well-behaved clients measuring RTT meanwhile. @default 200 */
  abuseVictims: number;
  /** Abuse: their heartbeats per second each. @default 10 */
  abuseHz: number;
  /** Abuse: MSG frames of the one-client flood. @default 200000 */
  abuseFloodFrames: number;
  /** Abuse: HEART frames of the one-client heartbeat flood (defaults on). @default 1000000 */
  abuseHeartFrames: number;
  /** Abuse: records the admin `?q=` scans. @default 20000 */
  abuseRecords: number;
  /** Abuse: seconds of `?q=` polling every 100 ms. @default 10 */
  abuseQuerySeconds: number;
  /** Abuse: connects per second of the connect flood, from one IP. @default 2000 */
  abuseConnectRate: number;
  /** Abuse: seconds of the connect flood. @default 2 */
  abuseConnectSeconds: number;
  /** Abuse: login-and-drop attempts of one flapping clientId. @default 2000 */
  abuseFlaps: number;
  /** Abuse: ACKs for unknown commands from one client. @default 20000 */
  abuseStrayAcks: number;
  /** Profile the gateway with node --cpu-prof in S1 (connect+login), S2, S3 and S4 (the broadcast until all acked) (files in bench/results/profiles; the profiler slows what it watches, so keep these figures apart). @default false */
  cpuProf: boolean;
  /** Where results go. @default bench/results */
  outDir: string;
  /** Write docs/BENCHMARKS.md's table too. @default false */
  writeDocs: boolean;
  quick: boolean;
}

export const DEFAULTS: BenchOptions = {
  scenarios: [...DEFAULT_SCENARIOS],
  targets: ['gateway', 'baseline'],
  s1Conns: 15000,
  s1IdleSeconds: 20,
  s2Conns: 10000,
  s2Hz: 1,
  s2Seconds: 30,
  s3Conns: 500,
  s3Inflight: 32,
  s3Seconds: 15,
  s3Workers: 1,
  s4Conns: 10000,
  s5Records: 20000,
  s5Live: 19000,
  s5Passes: 30,
  c1Commands: 1000,
  durabilitySeconds: 5,
  soakConns: 15000,
  soakHz: 0.5,
  soakMinutes: 10,
  abuseVictims: 200,
  abuseHz: 10,
  abuseFloodFrames: 200000,
  abuseHeartFrames: 1000000,
  abuseRecords: 20000,
  abuseQuerySeconds: 10,
  abuseConnectRate: 2000,
  abuseConnectSeconds: 2,
  abuseFlaps: 2000,
  abuseStrayAcks: 20000,
  cpuProf: false,
  outDir: 'bench/results',
  writeDocs: false,
  quick: false,
};

/** `--quick`: the same scenarios scaled down to about a minute in all. */
export const QUICK: Partial<BenchOptions> = {
  s1Conns: 2000,
  s1IdleSeconds: 4,
  s2Conns: 2000,
  s2Seconds: 5,
  s3Conns: 100,
  s3Seconds: 4,
  s4Conns: 2000,
  s5Records: 2000,
  s5Live: 1800,
  s5Passes: 10,
  c1Commands: 200,
  durabilitySeconds: 2,
  soakConns: 2000,
  soakMinutes: 1,
  abuseVictims: 50,
  abuseFloodFrames: 20000,
  abuseHeartFrames: 50000,
  abuseRecords: 5000,
  abuseQuerySeconds: 3,
  abuseConnectRate: 500,
  abuseConnectSeconds: 1,
  abuseFlaps: 200,
  abuseStrayAcks: 2000,
};

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export const USAGE = `usage: npm run bench -- [--quick] [--scenarios s1,s2,s3,s4,s5,c1,durability[,soak][,abuse]] [--targets gateway,baseline]
  ${Object.entries(DEFAULTS)
    .filter(([k]) => !['scenarios', 'targets', 'quick'].includes(k))
    .map(([k, v]) => `--${kebab(k)} ${typeof v === 'boolean' ? '' : `<${String(v)}>`}`.trim())
    .join('\n  ')}`;

/** Flags override --quick, which overrides the defaults. Throws with the usage on an unknown flag or a bad value. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const byFlag = new Map(Object.keys(DEFAULTS).map((k) => [`--${kebab(k)}`, k as keyof BenchOptions]));
  const given: Partial<Record<keyof BenchOptions, unknown>> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const key = byFlag.get(flag);
    if (!key) throw new Error(`unknown option '${flag}'\n${USAGE}`);
    const def = DEFAULTS[key];
    if (typeof def === 'boolean') {
      given[key] = true;
      continue;
    }
    const raw = argv[++i];
    if (raw === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    if (typeof def === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got '${raw}'`);
      given[key] = n;
    } else if (key === 'scenarios') {
      const list = raw.split(',').map((s) => s.trim().toLowerCase());
      for (const s of list) if (!SCENARIOS.includes(s as ScenarioId)) throw new Error(`${flag}: unknown scenario '${s}' (known: ${SCENARIOS.join(', ')})`);
      given[key] = list;
    } else if (key === 'targets') {
      const list = raw.split(',').map((s) => s.trim().toLowerCase());
      for (const t of list) if (t !== 'gateway' && t !== 'baseline') throw new Error(`${flag}: unknown target '${t}' (gateway, baseline)`);
      given[key] = list;
    } else {
      given[key] = raw;
    }
  }
  const quick = given.quick === true;
  const options = { ...DEFAULTS, ...(quick ? QUICK : {}), ...given } as BenchOptions;
  if (options.s5Live > options.s5Records) options.s5Live = options.s5Records;
  return options;
}
