import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { freePort } from './free-port';

/**
 * A private `redis-server` for one test file: a free port, no persistence
 * (`--save '' --appendonly no`), so a restart comes back empty, like a Redis
 * without persistence after a crash. `REDIS_SERVER_BIN` overrides the binary.
 * There is no fallback: a test that needs Redis fails loudly without it.
 */
export class TestRedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly bin: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestRedisServer> {
    const server = new TestRedisServer(findRedisServer(), await freePort());
    await server.startProcess();
    return server;
  }

  /** Kills the server (SIGKILL: no save, no goodbye). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Stops it and starts it again, empty, on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  /** Sends one command over a plain socket (no client library: the test's own view of Redis). */
  async command(...args: string[]): Promise<string> {
    return rawCommand(this.port, args);
  }

  /** `INFO stats` total_commands_processed. */
  async totalCommands(): Promise<number> {
    const info = await this.command('INFO', 'stats');
    const match = /total_commands_processed:(\d+)/.exec(info);
    if (!match) throw new Error(`no total_commands_processed in INFO stats: ${info.slice(0, 200)}`);
    return Number(match[1]);
  }

  private async startProcess(): Promise<void> {
    const child = spawn(this.bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${output}`);
      try {
        if ((await rawCommand(this.port, ['PING'])) === 'PONG') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s: ${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function findRedisServer(): string {
  const candidates = [process.env.REDIS_SERVER_BIN, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].filter((c): c is string => !!c);
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('which', ['redis-server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error('redis-server not found (looked at REDIS_SERVER_BIN, /usr/bin, /usr/local/bin, PATH): the Redis tests need it; install redis-server 7');
}


/** One RESP request/response over a fresh socket; enough for PING, INFO, DBSIZE, FLUSHALL, HGET… */
function rawCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buffer = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => {
      socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
    });
    socket.on('data', (d) => {
      buffer += d.toString('utf8');
      const reply = parseReply(buffer);
      if (reply === undefined) return;
      socket.end();
      if (reply instanceof Error) reject(reply);
      else resolve(reply);
    });
  });
}

function parseReply(buf: string): string | Error | undefined {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return undefined;
  const head = buf.slice(1, eol);
  switch (buf[0]) {
    case '+':
    case ':':
      return head;
    case '-':
      return new Error(head);
    case '$': {
      const len = Number(head);
      if (len < 0) return '';
      const body = Buffer.from(buf.slice(eol + 2), 'utf8');
      if (body.length < len + 2) return undefined;
      return body.subarray(0, len).toString('utf8');
    }
    default:
      // Arrays are not needed by the tests; the raw text is enough to read.
      return buf.endsWith('\r\n') ? buf : undefined;
  }
}
