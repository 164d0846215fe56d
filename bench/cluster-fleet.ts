import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mergeStats, describeErrors } from './scenarios/common';
import { WorkerPool } from './load/worker-pool';
import { readRssBytes } from './proc-stats';
import { BenchRedis } from './redis-server';
import { ADMIN_TOKEN, freePort, HOST, ROOT } from './targets';

/*
 * The cluster soak of issue 13: N live clients on W gateway workers
 * (`node:cluster`, CLUSTER_WORKERS=W, sharing the ports) on one private
 * Redis, the load from several client processes on several loopback source
 * addresses, one HEART per HEARTBEAT_MS each, for a number of minutes.
 * Samples every 30 s (and at the end): GET /clients/stats several times
 * (the shared port hands each request to some worker: every answer must
 * show all N alive), RSS of every worker, Redis commands per second.
 *
 *   node dist-bench/bench/cluster-fleet.js --clients 50000 --workers 3 --minutes 10 --heartbeat-ms 30000
 *   (smoke: --clients 2000 --workers 3 --minutes 0.5 --heartbeat-ms 2000)
 */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The direct children of a process (the cluster's workers). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

async function stats(httpPort: number): Promise<{ alive: number; total: number; nodes: Record<string, { connected: number }> } | { error: string }> {
  try {
    const res = await fetch(`http://${HOST}:${httpPort}/clients/stats`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await res.json()) as { byStatus?: { alive: number }; total?: number; nodes?: Record<string, { connected: number }>; message?: string };
    if (!res.ok) return { error: `HTTP ${res.status} ${body.message ?? ''}` };
    return { alive: body.byStatus?.alive ?? -1, total: body.total ?? -1, nodes: body.nodes ?? {} };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function main(): Promise<void> {
  const clients = arg('clients', 50000);
  const workers = arg('workers', 3);
  const minutes = arg('minutes', 10);
  const heartbeatMs = arg('heartbeat-ms', 30000);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

  const redis = await BenchRedis.start();
  const [tcpPort, httpPort] = [await freePort(), await freePort()];
  const primary = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'development',
      TCP_HOST: HOST,
      TCP_PORT: String(tcpPort),
      HTTP_HOST: HOST,
      HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'warn',
      AUTH_MODE: 'none',
      ADMIN_TOKEN,
      REDIS_URL: redis.url,
      NODE_ID: 'fleet',
      CLUSTER_WORKERS: String(workers),
      MAX_CONNECTIONS: String(clients),
      HEARTBEAT_MS: String(heartbeatMs),
    },
  });
  const pool = WorkerPool.start(clients, Math.max(4, Math.ceil(clients / 9000)));
  const samples: unknown[] = [];
  try {
    for (let i = 0; ; i++) {
      const s = await stats(httpPort);
      if (!('error' in s)) break;
      if (i > 600) throw new Error(`gateway not up: ${s.error}`);
      await sleep(100);
    }
    const workerPids = childrenOf(primary.pid as number);
    log(`primary ${primary.pid}, workers ${workerPids.join(', ')}; connecting ${clients} clients from ${pool.size} processes`);
    const t0 = Date.now();
    const { loggedIn, failed } = await pool.connect(HOST, tcpPort, 'fleet-', clients);
    log(`${loggedIn} logged in (${failed} failed) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await pool.all({ op: 'steady', hz: 1000 / heartbeatMs });
    const endAt = Date.now() + minutes * 60_000;
    let lastCommands = await redis.totalCommands();
    let lastAt = Date.now();
    for (;;) {
      const wait = Math.min(30_000, Math.max(0, endAt - Date.now()));
      await sleep(wait);
      const answers = await Promise.all(Array.from({ length: workers * 3 }, () => stats(httpPort)));
      const commands = await redis.totalCommands();
      const now = Date.now();
      const sample = {
        atS: Math.round((now - t0) / 1000),
        alive: answers.map((a) => ('error' in a ? a.error : a.alive)),
        connectedPerNode: 'error' in answers[0] ? null : Object.fromEntries(Object.entries(answers[0].nodes).map(([k, v]) => [k, v.connected])),
        rssMB: workerPids.map((pid) => Math.round(readRssBytes(pid) / 2 ** 20)),
        redisCommandsPerSec: Math.round(((commands - lastCommands) / (now - lastAt)) * 1000),
        heartbeatsPerSec: Math.round(clients / (heartbeatMs / 1000)),
      };
      lastCommands = commands;
      lastAt = now;
      samples.push(sample);
      log(JSON.stringify(sample));
      if (now >= endAt) break;
    }
    const merged = mergeStats(await pool.all({ op: 'collect' }));
    const last = samples[samples.length - 1] as { redisCommandsPerSec: number; heartbeatsPerSec: number };
    const summary = {
      clients,
      workers,
      minutes,
      heartbeatMs,
      loggedIn,
      failed,
      errors: merged.errorTotal,
      errorKinds: describeErrors(merged.errors),
      redisCommandsPerHeartbeat: Math.round((last.redisCommandsPerSec / last.heartbeatsPerSec) * 10000) / 10000,
      samples,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await pool.close();
    primary.kill('SIGTERM');
    await new Promise((r) => primary.once('exit', r));
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error('cluster-fleet failed:', error);
  process.exit(1);
});
