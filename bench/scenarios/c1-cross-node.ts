import { connect, type Socket } from 'node:net';
import { nowNs, percentileOf } from '../proc-stats';
import { BenchRedis } from '../redis-server';
import { ADMIN_TOKEN, HOST, startGatewayTarget, type Target } from '../targets';
import { ms, type Scenario, type ScenarioResult } from './common';

/** A device that ACKs every CMD at once (line framing). */
class AckingDevice {
  private buffer = '';
  private constructor(readonly socket: Socket) {}

  static async login(port: number, clientId: string): Promise<AckingDevice> {
    const socket = connect(port, HOST);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const device = new AckingDevice(socket);
    socket.on('data', (chunk: Buffer) => device.onData(chunk));
    socket.write(`${JSON.stringify({ type: 'LOGIN', clientId })}\n`);
    return device;
  }

  private onData(chunk: Buffer): void {
    this.buffer += chunk.toString();
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.includes('"CMD"')) continue;
      const { id } = JSON.parse(line) as { id: string };
      this.socket.write(`${JSON.stringify({ type: 'ACK', id, ok: true })}\n`);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

async function postAndWait(node: Target, clientId: string): Promise<number> {
  const t0 = nowNs();
  const res = await fetch(`http://${HOST}:${node.httpPort}/clients/${clientId}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ name: 'bench', waitMs: 5000 }),
  });
  const body = (await res.json()) as { status?: string };
  if (res.status !== 200 || body.status !== 'acked') throw new Error(`POST: HTTP ${res.status} ${JSON.stringify(body)}`);
  return (nowNs() - t0) / 1e6;
}

/**
 * C1 cross-node command: three gateway nodes on one private Redis; one
 * device on node C. POST with waitMs on node A (the command goes through
 * C's inbox and the ack back through A's) against the same POST on node C
 * itself, alternating, 1,000 of each, one at a time. The goal:
 * cross-node p99 ≤ same-node p99 + 5 ms. Gateway only (the baseline has no
 * cluster).
 */
export const c1CrossNode: Scenario = async (kind, { options, log }): Promise<ScenarioResult> => {
  if (kind !== 'gateway') return { figures: {}, unavailable: 'cluster mode is the gateway’s' };
  const n = options.c1Commands;
  const redis = await BenchRedis.start();
  const nodes: Target[] = [];
  let device: AckingDevice | undefined;
  try {
    for (const id of ['bench-a', 'bench-b', 'bench-c']) {
      nodes.push(await startGatewayTarget({ maxConnections: 100, env: { REDIS_URL: redis.url, NODE_ID: id } }));
    }
    const [a, , c] = nodes;
    device = await AckingDevice.login(c.tcpPort, 'bench-device');
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 50; i++) {
      await postAndWait(a, 'bench-device');
      await postAndWait(c, 'bench-device');
    }
    log(`  ${n} commands each way`);
    const commandsBefore = await redis.totalCommands();
    const same: number[] = [];
    const cross: number[] = [];
    for (let i = 0; i < n; i++) {
      cross.push(await postAndWait(a, 'bench-device'));
      same.push(await postAndWait(c, 'bench-device'));
    }
    const redisPerCommand = ((await redis.totalCommands()) - commandsBefore) / (2 * n);
    const p = (xs: number[], q: number) => ms(percentileOf(xs, q) * 1e6);
    return {
      figures: {
        commands: n,
        sameP50Ms: p(same, 50),
        sameP99Ms: p(same, 99),
        crossP50Ms: p(cross, 50),
        crossP99Ms: p(cross, 99),
        crossExtraP99Ms: Math.round((percentileOf(cross, 99) - percentileOf(same, 99)) * 1000) / 1000,
        redisPerCommand: Math.round(redisPerCommand * 10) / 10,
      },
      notes: [],
    };
  } finally {
    device?.close();
    for (const node of nodes) await node.stop();
    await redis.stop();
  }
};
