import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { WorkerPool } from '../load/worker-pool';
import { median, percentileOf } from '../proc-stats';
import type { HostMessage, HostRequest } from '../sweep-host';
import { ADMIN_TOKEN, ADMISSION_OFF, freshDataDir, HOST } from '../targets';
import { describeErrors, mergeStats, type Scenario, type ScenarioResult } from './common';

/** The gateway in a child process that can call its own sweep (bench/sweep-host.ts). */
class SweepHost {
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly ready: Promise<{ tcpPort: number; httpPort: number }>;
  private readonly child: ChildProcess;
  private readonly data = freshDataDir();

  constructor(maxConnections: number) {
    this.child = fork(join(__dirname, '..', 'sweep-host.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        AUTH_MODE: 'none',
        REDIS_URL: '',
        ADMIN_TOKEN,
        MAX_CONNECTIONS: String(maxConnections),
        // Windows far longer than the run: only the benchmark's own calls sweep.
        HEARTBEAT_MS: '3600000',
        DATA_DIR: this.data.dir,
        // 20,000 connects in seconds from a few loopback addresses are the set-up, not what S5 measures.
        ...ADMISSION_OFF,
      },
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (msg: HostMessage) => {
        if (msg.kind === 'ready') resolve(msg);
        else if (msg.kind === 'failed') reject(new Error(`sweep host failed to start: ${msg.error}`));
        else {
          const p = this.pending.get(msg.seq);
          this.pending.delete(msg.seq);
          if (msg.ok) p?.resolve(msg.result);
          else p?.reject(new Error(msg.error));
        }
      });
      this.child.once('exit', (code) => reject(new Error(`sweep host exited (code ${code})`)));
    });
  }

  call<T>(req: HostRequest): Promise<T> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ seq, req });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      await this.call({ op: 'stop' }).catch(() => this.child.kill('SIGKILL'));
      await exited;
    }
    this.data.remove();
  }
}

/**
 * S5 sweep: one presence sweep pass (docs/PROTOCOL.md §3) over R records, timed
 * in the gateway's own process. R − L clients log in and drop (records in
 * `leave`), L stay connected; before each timed pass every live client sends
 * one HEART and gets its answer, so each pass closes a normal, active window.
 */
export const s5Sweep: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  if (kind !== 'gateway') return { figures: {}, unavailable: 'the baseline keeps no presence records' };
  const records = options.s5Records;
  const live = options.s5Live;
  const gone = records - live;
  const host = new SweepHost(live + 500);
  let pool: WorkerPool | undefined;
  try {
    const { tcpPort } = await host.ready;
    pool = WorkerPool.start(Math.max(live, gone));
    let failed = 0;
    if (gone > 0) {
      failed += (await pool.connect(HOST, tcpPort, 'gone-', gone)).failed;
      await pool.all({ op: 'disconnect', count: Number.MAX_SAFE_INTEGER });
    }
    const connected = await pool.connect(HOST, tcpPort, 'live-', live);
    failed += connected.failed;
    const stats = await host.call<{ total: number; connected: number }>({ op: 'stats' });
    log(`  gateway: ${stats.total} records, ${stats.connected} connected; ${options.s5Passes} sweeps`);
    const durations: number[] = [];
    const reported: number[] = [];
    let swept = 0;
    for (let i = 0; i < options.s5Passes; i++) {
      await pool.all({ op: 'heart-round' });
      const pass = await host.call<{ records: number; durationMs: number; wallMs: number }>({ op: 'sweep' });
      durations.push(pass.wallMs);
      reported.push(pass.durationMs);
      swept = pass.records;
    }
    const fleet = mergeStats(await pool.all({ op: 'collect' }));
    return {
      figures: {
        records: swept,
        connected: stats.connected,
        passes: durations.length,
        sweepMedianMs: median(durations),
        sweepP99Ms: percentileOf(durations, 99),
        sweepMaxMs: Math.max(...durations),
        sweepReportedMedianMs: median(reported),
        errors: fleet.errorTotal + failed,
      },
      errorSamples: fleet.errorSamples,
      notes: [
        ...(gone > 0 ? [`${gone} of the ${records} records are clients that logged in and dropped (leave): one process may hold 20,000 files, so ${live} stay connected`] : []),
        ...(fleet.errorTotal ? [describeErrors(fleet.errors)] : []),
      ],
    };
  } finally {
    await pool?.close();
    await host.stop();
  }
};
