import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { BenchOptions, ScenarioId } from './cli';
import type { ProfileLine } from './scenarios/common';
import { ROOT, type TargetKind } from './targets';

interface CpuProfile {
  /** µs of CLOCK_MONOTONIC on Linux: the clock of process.hrtime in every process. */
  startTime: number;
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

/** The newest .cpuprofile in `dir`, or undefined. */
export function newestProfile(dir: string): string | undefined {
  let best: { path: string; mtime: number } | undefined;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.cpuprofile')) continue;
    const path = join(dir, name);
    const mtime = statSync(path).mtimeMs;
    if (!best || mtime > best.mtime) best = { path, mtime };
  }
  return best?.path;
}

/**
 * Self time per function (summed over its call sites), the `top` largest.
 * With a window (hrtime ns), only the samples taken inside it count, so the
 * gateway's start-up and the connect phase stay out of the S3 picture.
 */
export function topSelfTime(file: string, top = 15, window?: { fromNs: number; toNs: number }): ProfileLine[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map<number, number>();
  let at = profile.startTime;
  // timeDeltas[i] is the time before sample i: it belongs to the node sampled at i.
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at * 1000 < window.fromNs || at * 1000 > window.toNs)) continue;
    byNode.set(profile.samples[i], (byNode.get(profile.samples[i]) ?? 0) + delta);
  }
  const byFn = new Map<string, ProfileLine>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const path = url.startsWith('file://') ? relative(ROOT, url.slice('file://'.length)) : url;
    const where = path ? `${path}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const line = byFn.get(key) ?? { fn: functionName || '(anonymous)', where, selfMs: 0, selfPct: 0 };
    line.selfMs += us / 1000;
    byFn.set(key, line);
  }
  return [...byFn.values()]
    .map((l) => ({ ...l, selfMs: Math.round(l.selfMs), selfPct: total ? Math.round((l.selfMs * 1000 * 1000) / total) / 10 : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
}

/**
 * `--cpu-prof`: the gateway of one scenario runs under `node --cpu-prof`
 * into a directory of its own; the scenario sets the window it cares about,
 * and the summary counts only the samples inside it.
 */
export class GatewayProfile {
  window: { fromNs: number; toNs: number } | undefined;

  private constructor(readonly dir: string) {}

  /** A profile for this scenario's gateway, or undefined when --cpu-prof is off (or for the baseline). */
  static for(kind: TargetKind, options: BenchOptions, scenario: ScenarioId): GatewayProfile | undefined {
    if (!options.cpuProf || kind !== 'gateway') return undefined;
    const dir = resolve(ROOT, options.outDir, 'profiles', `${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    return new GatewayProfile(dir);
  }

  /** Call after the gateway has exited (the file is written on exit). */
  summarise(): { profile?: ProfileLine[]; note: string } {
    const file = newestProfile(this.dir);
    if (!file) return { note: `no CPU profile was written to ${relative(ROOT, this.dir)}` };
    return { profile: topSelfTime(file, 15, this.window), note: `CPU profile: ${relative(ROOT, file)}` };
  }
}
