import cluster, { Worker } from 'node:cluster';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';

/** A worker that dies sooner than this after its start is restarted only after a pause (no crash loop at full speed). */
const MIN_UPTIME_MS = 5000;
const RESTART_PAUSE_MS = 1000;

/**
 * CLUSTER_WORKERS=N: this process becomes a `node:cluster` primary that runs
 * N gateway workers sharing the TCP and HTTP ports (the primary accepts and
 * hands connections round-robin). Each worker is a node of its own on the
 * same Redis, named `<NODE_ID or hostname>-w<i>`: stable across its
 * restarts, so a restarted worker clears its previous life at once instead
 * of waiting for the lease to run out. The primary holds no sockets and
 * restarts a worker that dies; SIGTERM/SIGINT are passed on to the workers
 * (each drains as a single gateway does) and the primary exits after them.
 */
export function runPrimary(workers: number, env: NodeJS.ProcessEnv): void {
  const logger = new Logger('cluster');
  const base = env.NODE_ID && env.NODE_ID.trim() !== '' ? env.NODE_ID.trim() : hostname();
  let stopping = false;
  const slots = new Map<number, { worker: Worker; startedAt: number }>();

  const fork = (slot: number) => {
    const worker = cluster.fork({ ...env, CLUSTER_WORKERS: '', LONGLINK_WORKER: String(slot), NODE_ID: `${base}-w${slot}` });
    slots.set(slot, { worker, startedAt: Date.now() });
    worker.on('exit', (code, signal) => {
      if (stopping) {
        slots.delete(slot);
        if (slots.size === 0) process.exit(0);
        return;
      }
      const uptime = Date.now() - (slots.get(slot)?.startedAt ?? 0);
      logger.warn(`worker ${base}-w${slot} exited (${signal ?? code}); restarting`);
      setTimeout(() => fork(slot), uptime < MIN_UPTIME_MS ? RESTART_PAUSE_MS : 0);
    });
  };

  for (let i = 1; i <= workers; i++) fork(i);
  logger.log(`primary ${process.pid}: ${workers} worker(s) as nodes ${base}-w1..w${workers}`);

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: stopping ${slots.size} worker(s)`);
    for (const { worker } of slots.values()) worker.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export function isClusterPrimary(workers: number | undefined): workers is number {
  return workers !== undefined && cluster.isPrimary;
}
