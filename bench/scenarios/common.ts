import type { BenchOptions } from '../cli';
import { LogHistogram } from '../histogram';
import type { FleetErrors, FleetStats } from '../load/fleet';
import type { GatewayProfile } from '../cpu-profile';
import type { TargetKind } from '../targets';

/** Figures of one scenario on one target; null when not measurable there. */
export type Figures = Record<string, number | null>;

export interface ScenarioResult {
  figures: Figures;
  /** Why the scenario could not run on this target (e.g. a missing route). */
  unavailable?: string;
  /** The scenario failed: what happened. */
  failed?: string;
  errorSamples?: string[];
  notes?: string[];
  /** Top self-time functions of a CPU profile taken during it. */
  profile?: ProfileLine[];
}

export interface ProfileLine {
  selfMs: number;
  selfPct: number;
  fn: string;
  where: string;
}

export interface ScenarioContext {
  options: BenchOptions;
  /** Progress line on stderr. */
  log(line: string): void;
}

export type Scenario = (kind: TargetKind, ctx: ScenarioContext) => Promise<ScenarioResult>;

export interface MergedStats {
  connections: number;
  sent: number;
  received: number;
  rtt: LogHistogram;
  errors: FleetErrors;
  errorTotal: number;
  errorSamples: string[];
}

/** Adds up what the workers report. */
export function mergeStats(all: FleetStats[]): MergedStats {
  const rtt = new LogHistogram();
  const errors = { ...all[0].errors };
  for (const k of Object.keys(errors) as Array<keyof FleetErrors>) errors[k] = 0;
  const samples: string[] = [];
  let connections = 0;
  let sent = 0;
  let received = 0;
  for (const s of all) {
    rtt.merge(s.rtt);
    connections += s.connections;
    sent += s.sent;
    received += s.received;
    for (const k of Object.keys(errors) as Array<keyof FleetErrors>) errors[k] += s.errors[k];
    samples.push(...s.errorSamples);
  }
  const errorTotal = Object.values(errors).reduce((a, b) => a + b, 0);
  return { connections, sent, received, rtt, errors, errorTotal, errorSamples: samples.slice(0, 10) };
}

/** ns → ms, rounded to the µs. */
export const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;

/** Lists the non-zero error kinds, e.g. "closed 3, lost 12". */
export function describeErrors(errors: FleetErrors): string {
  return (Object.entries(errors) as Array<[string, number]>)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/** The error figures every fleet scenario reports alike. */
export function errorReport(stats: MergedStats): Pick<ScenarioResult, 'errorSamples' | 'notes'> {
  return { errorSamples: stats.errorSamples, notes: stats.errorTotal ? [describeErrors(stats.errors)] : [] };
}

/**
 * Runs a scenario's body against a started target and load pool, then
 * always closes both, and adds the CPU profile's summary when one was taken.
 */
export async function onFleet(
  target: { stop(): Promise<void> },
  pool: { close(): Promise<void> },
  profile: GatewayProfile | undefined,
  body: () => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  let result: ScenarioResult;
  try {
    result = await body();
  } finally {
    await pool.close();
    await target.stop();
  }
  if (profile) {
    const { profile: lines, note } = profile.summarise();
    result.profile = lines;
    result.notes = [...(result.notes ?? []), note];
  }
  return result;
}
