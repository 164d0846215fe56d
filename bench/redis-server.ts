import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { freePort, HOST } from './targets';

/** A private redis-server for the cluster scenario (no persistence); fails loudly without the binary. */
export class BenchRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  static async start(): Promise<BenchRedis> {
    const bin = [process.env.REDIS_SERVER_BIN, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((b) => b && existsSync(b));
    if (!bin) throw new Error('redis-server not found (set REDIS_SERVER_BIN): the cluster scenario needs it');
    const port = await freePort();
    const child = spawn(bin, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const redis = new BenchRedis(child, port);
    for (let i = 0; i < 100; i++) {
      if ((await redis.command('PING').catch(() => '')) === '+PONG') return redis;
      await sleep(50);
    }
    throw new Error(`redis-server on ${port} did not answer`);
  }

  /** One inline command: a status/integer reply's text, or a bulk reply's body. */
  command(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(this.port, HOST, () => s.write(`${args.join(' ')}\r\n`));
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const head = buf.subarray(0, eol).toString();
        if (!head.startsWith('$')) {
          s.end();
          resolve(head);
          return;
        }
        const len = Number(head.slice(1));
        if (buf.length < eol + 2 + len) return;
        s.end();
        resolve(buf.subarray(eol + 2, eol + 2 + len).toString());
      });
      s.once('error', reject);
    });
  }

  async totalCommands(): Promise<number> {
    const info = await this.command('INFO', 'stats');
    return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}
