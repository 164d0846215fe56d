import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerReply, WorkerRequest, WorkerResults } from './messages';

/** Sockets per worker process: the file limit here is 20,000 per process; stay well clear of it. */
export const MAX_SOCKETS_PER_WORKER = 9000;

let nextAddress = 0;

/**
 * A fresh loopback source address for each worker ever started (127.1.x.y):
 * each gets its own 28k ephemeral ports, and the TIME_WAIT left by one
 * scenario never blocks the next one's connects.
 */
export function nextLocalAddress(): string {
  const i = nextAddress++;
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class WorkerHandle {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  readonly localAddress = nextLocalAddress();

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.seq);
      if (!p) return;
      this.pending.delete(reply.seq);
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(`worker ${child.pid}: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`worker ${child.pid} exited (code ${code}, signal ${signal})`));
      this.pending.clear();
    });
  }

  call<K extends WorkerRequest['op']>(req: Extract<WorkerRequest, { op: K }>): Promise<WorkerResults[K]> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ seq, req });
    });
  }
}

/** The load-generator processes of one scenario. */
export class WorkerPool {
  private constructor(readonly workers: WorkerHandle[]) {}

  /** Enough workers for `connections` sockets (at least `min`). */
  static start(connections: number, min = 1): WorkerPool {
    const count = Math.max(min, Math.ceil(connections / MAX_SOCKETS_PER_WORKER));
    const script = join(__dirname, 'worker.js');
    return new WorkerPool(Array.from({ length: count }, () => new WorkerHandle(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))));
  }

  get size(): number {
    return this.workers.length;
  }

  /** The worker processes' pids (to read their CPU: is the load generator the bottleneck?). */
  get pids(): number[] {
    return this.workers.map((w) => w.child.pid ?? -1);
  }

  /** The same request to every worker (or one built per worker), in parallel. */
  all<K extends WorkerRequest['op']>(req: Extract<WorkerRequest, { op: K }> | ((index: number, localAddress: string) => Extract<WorkerRequest, { op: K }>)): Promise<Array<WorkerResults[K]>> {
    return Promise.all(this.workers.map((w, i) => w.call<K>(typeof req === 'function' ? req(i, w.localAddress) : req)));
  }

  /**
   * Splits `count` client ids (`${prefix}${n}`, n from `from`) over the workers and logs them all in.
   * Resolves with the number logged in.
   */
  async connect(host: string, port: number, prefix: string, count: number, from = 0): Promise<{ loggedIn: number; failed: number }> {
    const per = Math.ceil(count / this.size);
    const results = await this.all<'connect'>((i, localAddress) => {
      const start = i * per;
      const n = Math.max(0, Math.min(per, count - start));
      return { op: 'connect', spec: { host, port, localAddress, clientIds: Array.from({ length: n }, (_, k) => `${prefix}${from + start + k}`) } };
    });
    return { loggedIn: results.reduce((a, r) => a + r.loggedIn, 0), failed: results.reduce((a, r) => a + r.failed, 0) };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.call<'close'>({ op: 'close' })));
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.disconnect();
          }),
      ),
    );
  }
}
