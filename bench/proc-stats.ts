import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

let clockTicks: number | undefined;

/** `getconf CLK_TCK`: the unit of utime/stime in /proc/<pid>/stat (100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
export function readCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read utime/stime from /proc/${pid}/stat: '${stat.slice(0, 120)}'`);
  return utime + stime;
}

/** CPU seconds (user + system) the process has used so far. */
export function readCpuSeconds(pid: number): number {
  return readCpuTicks(pid) / clockTicksPerSecond();
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Monotonic nanoseconds as a Number: exact to the ns for ~104 days of uptime, and the same clock in every process of the machine. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Watches one process's CPU between start() and stop(). */
export class CpuMeter {
  private ticks0 = 0;
  private t0 = 0;
  constructor(private readonly pid: number) {}

  start(): this {
    this.ticks0 = readCpuTicks(this.pid);
    this.t0 = nowNs();
    return this;
  }

  /** CPU seconds used, wall seconds elapsed, and their ratio (1 = one core busy). */
  stop(): { cpuSeconds: number; wallSeconds: number; cores: number } {
    const cpuSeconds = (readCpuTicks(this.pid) - this.ticks0) / clockTicksPerSecond();
    const wallSeconds = (nowNs() - this.t0) / 1e9;
    return { cpuSeconds, wallSeconds, cores: cpuSeconds / wallSeconds };
  }
}

/** `count` RSS samples `intervalMs` apart. */
export async function sampleRss(pid: number, count: number, intervalMs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(intervalMs);
    samples.push(readRssBytes(pid));
  }
  return samples;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of raw values (for small sets such as sweep durations). */
export function percentileOf(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}
