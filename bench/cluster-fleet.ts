import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeErrors, mergeStats } from './scenarios/common';
import { WorkerPool } from './load/worker-pool';
import { readRssBytes } from './proc-stats';
import { BenchRedis } from './redis-server';
import { ADMIN_TOKEN, ADMISSION_OFF, freePort, gatewayEnv, HOST, ROOT } from './targets';

/*
 * The cluster soak of issue 13: N live clients on W gateway workers
 * (`node:cluster`, CLUSTER_WORKERS=W, sharing the ports) on one private
 * Redis, the load from several client processes on several loopback source
 * addresses, one HEART per --heartbeat-ms each (the gateway's HEARTBEAT_MS,
 * so one frame per window), for --minutes.
 *
 * A sample right after the logins, then every --sample-s and at the end:
 * - GET /clients/stats asked on fresh connections until every node has
 *   answered (the primary hands each connection to the next worker; a
 *   probe's /health on the same connection names the worker by its local
 *   client count): each answer must show all N alive;
 * - RSS of every worker (by its NODE_ID);
 * - Redis commands per second (INFO stats) and per heartbeat frame (frames
 *   counted by the load processes), against the budget of 0.02;
 * - client errors so far.
 * Ends with the verdicts; exit code 1 when one fails.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json
 *   node dist-bench/bench/cluster-fleet.js --clients 50000 --workers 3 --minutes 10 --heartbeat-ms 30000
 *   (smoke: --clients 2000 --workers 2 --minutes 1 --heartbeat-ms 2000 --sample-s 10)
 */
const BUDGET = 0.02;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number, got '${process.argv[i + 1]}'`);
  return value;
}

/** The cluster's workers (children of the primary) by their NODE_ID. */
function workersOf(primary: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== primary) continue;
      const nodeId = /(?:^|\0)NODE_ID=([^\0]*)/.exec(readFileSync(`/proc/${entry}/environ`, 'utf8'))?.[1];
      out.set(nodeId ?? `pid-${entry}`, Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

interface Stats {
  alive: number;
  total: number;
  nodes: Record<string, { connected: number }>;
}

function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, path, agent, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** One fresh connection (so one worker): its /health, then /clients/stats; the worker named by its local client count. */
async function probe(port: number): Promise<{ node: string; stats: Stats } | { error: string }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const health = await get(agent, port, '/health');
    const res = await get(agent, port, '/clients/stats');
    if (res.status !== 200) return { error: `HTTP ${res.status} ${res.body?.message ?? ''}` };
    const stats: Stats = { alive: res.body.byStatus?.alive ?? -1, total: res.body.total ?? -1, nodes: res.body.nodes ?? {} };
    const local = health.body?.clients;
    const named = Object.entries(stats.nodes).filter(([, n]) => n.connected === local);
    return { node: named.length === 1 ? named[0][0] : `(a worker with ${local} clients)`, stats };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    agent.destroy();
  }
}

/** Probes until every node answered (at most 6 per node): what each answered. */
async function askEveryNode(port: number, nodes: string[]): Promise<{ aliveByNode: Record<string, number | string>; connectedPerNode: Record<string, number>; missing: string[] }> {
  const aliveByNode: Record<string, number | string> = {};
  let connectedPerNode: Record<string, number> = {};
  for (let i = 0; i < nodes.length * 6 && nodes.some((n) => !(n in aliveByNode)); i++) {
    const p = await probe(port);
    if ('error' in p) {
      aliveByNode[`probe ${i}`] = p.error;
      continue;
    }
    aliveByNode[p.node] = p.stats.alive;
    connectedPerNode = Object.fromEntries(Object.entries(p.stats.nodes).map(([k, v]) => [k, v.connected]));
  }
  return { aliveByNode, connectedPerNode, missing: nodes.filter((n) => !(n in aliveByNode)) };
}

async function main(): Promise<void> {
  const clients = arg('clients', 50000);
  const workers = arg('workers', 3);
  const minutes = arg('minutes', 10);
  const heartbeatMs = arg('heartbeat-ms', 30000);
  const sampleMs = Math.max(5, arg('sample-s', 30)) * 1000;
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

  const redis = await BenchRedis.start();
  const [tcpPort, httpPort] = [await freePort(), await freePort()];
  const primary = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...gatewayEnv(tcpPort, httpPort),
      REDIS_URL: redis.url,
      NODE_ID: 'fleet',
      CLUSTER_WORKERS: String(workers),
      MAX_CONNECTIONS: String(clients),
      HEARTBEAT_MS: String(heartbeatMs),
      // The load comes from a handful of loopback addresses at thousands of connects a second (as in S1-S5).
      ...ADMISSION_OFF,
    },
  });
  const exited = new Promise((r) => primary.once('exit', r));
  const pool = WorkerPool.start(clients, Math.max(4, Math.ceil(clients / 9000)));
  const samples: Array<Record<string, unknown>> = [];
  const checks: Array<[string, boolean, string]> = [];
  try {
    let nodePids = new Map<string, number>();
    for (let i = 0; nodePids.size < workers || !('stats' in (await probe(httpPort))); i++) {
      if (i > 600) throw new Error(`the gateway's ${workers} workers not up within 60 s`);
      if (primary.exitCode !== null) throw new Error(`the gateway exited with ${primary.exitCode}`);
      await sleep(100);
      nodePids = workersOf(primary.pid as number);
    }
    const nodes = [...nodePids.keys()].sort();
    log(`primary ${primary.pid}, workers ${nodes.map((n) => `${n}=${nodePids.get(n)}`).join(', ')}; connecting ${clients} clients from ${pool.size} processes`);
    const t0 = Date.now();
    const { loggedIn, failed } = await pool.connect(HOST, tcpPort, 'fleet-', clients);
    const loginS = (Date.now() - t0) / 1000;
    log(`${loggedIn} logged in (${failed} failed) in ${loginS.toFixed(1)} s`);
    await pool.all({ op: 'steady', hz: 1000 / heartbeatMs });
    const steadyAt = Date.now();
    const endAt = steadyAt + minutes * 60_000;
    const counters = async () => ({ at: Date.now(), commands: await redis.totalCommands(), frames: mergeStats(await pool.all({ op: 'collect' })) });
    const first = await counters();
    let last = first;
    for (let n = 0; ; n++) {
      if (n > 0) await sleep(Math.min(sampleMs, Math.max(0, endAt - Date.now())));
      const asked = await askEveryNode(httpPort, nodes);
      const now = await counters();
      const seconds = (now.at - last.at) / 1000;
      const commands = now.commands - last.commands;
      const frames = now.frames.sent - last.frames.sent;
      const sample = {
        atS: Math.round((now.at - steadyAt) / 1000),
        aliveByNode: asked.aliveByNode,
        ...(asked.missing.length ? { notAnswering: asked.missing } : {}),
        connectedPerNode: asked.connectedPerNode,
        rssMB: Object.fromEntries(nodes.map((id) => [id, Math.round(readRssBytes(nodePids.get(id) as number) / 2 ** 20)])),
        redisCommandsPerSec: n === 0 ? null : Math.round(commands / seconds),
        heartbeatFramesPerSec: n === 0 ? null : Math.round(frames / seconds),
        redisCommandsPerFrame: n === 0 || frames === 0 ? null : Math.round((commands / frames) * 10000) / 10000,
        clientErrors: now.frames.errorTotal,
      };
      last = now;
      samples.push(sample);
      log(JSON.stringify(sample));
      if (now.at >= endAt) break;
    }
    const merged = mergeStats(await pool.all({ op: 'collect' }));
    const steadyFrames = last.frames.sent - first.frames.sent;
    const steadyCommands = last.commands - first.commands;
    const perFrame = steadyFrames > 0 ? Math.round((steadyCommands / steadyFrames) * 10000) / 10000 : NaN;
    const allAlive = samples.every((s) => nodes.every((id) => (s.aliveByNode as Record<string, unknown>)[id] === clients));
    const rss = nodes.map((id) => {
      const series = samples.map((s) => (s.rssMB as Record<string, number>)[id]);
      return { node: id, firstMB: series[0], lastMB: series[series.length - 1], maxMB: Math.max(...series) };
    });
    checks.push(
      ['all logged in', loggedIn === clients, `${loggedIn} of ${clients} in ${loginS.toFixed(1)} s`],
      ['alive in /clients/stats from every node', allAlive, `every node answered ${clients} alive in each of ${samples.length} samples`],
      ['0 errors', merged.errorTotal === 0, merged.errorTotal === 0 ? '0' : describeErrors(merged.errors)],
      ['RSS per node flat', rss.every((r) => r.lastMB <= r.firstMB * 1.25 + 20), rss.map((r) => `${r.node} ${r.firstMB} -> ${r.lastMB} MB (max ${r.maxMB})`).join(', ')],
      [`Redis commands per heartbeat frame <= ${BUDGET}`, perFrame <= BUDGET, `${perFrame} (${steadyCommands} commands for ${steadyFrames} frames after the logins)`],
    );
    const summary = {
      clients,
      workers,
      minutes,
      heartbeatMs,
      loggedIn,
      failed,
      loginSeconds: loginS,
      errors: merged.errorTotal,
      errorKinds: describeErrors(merged.errors),
      errorSamples: merged.errorSamples,
      redisCommandsPerHeartbeatFrame: perFrame,
      rss,
      samples,
      verdicts: Object.fromEntries(checks.map(([name, ok, detail]) => [name, `${ok ? 'PASS' : 'FAIL'}: ${detail}`])),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    for (const [name, ok, detail] of checks) log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
    if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
  } finally {
    await pool.close();
    primary.kill('SIGTERM');
    await exited;
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error('cluster-fleet failed:', error);
  process.exit(1);
});
