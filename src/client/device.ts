/**
 * The demo device: a LongLinkClient that logs everything it goes through and
 * handles three commands (echo, sleep, fail).
 *
 *   npm run device -- --id dev-1 [--host 127.0.0.1] [--port 7000] [--token t] [--framing line] [--tls]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { LongLinkClient } from './long-link-client';
import type { Framing } from '../transport/codec';

export interface DeviceArgs {
  id: string;
  host: string;
  port: number;
  token: string | undefined;
  framing: Framing;
  tls: boolean;
}

const USAGE = `usage: npm run device -- --id <clientId> [--host 127.0.0.1] [--port 7000] [--token <token>] [--framing length|line] [--tls]`;

/** Longest `sleep` the device accepts, so a typo can't park it for a day. */
const MAX_SLEEP_MS = 600_000;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseDeviceArgs(argv: string[]): DeviceArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        id: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '7000' },
        token: { type: 'string' },
        framing: { type: 'string', default: 'length' },
        tls: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (!values.id) throw new UsageError(`--id is required\n${USAGE}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`--port must be 1-65535, got '${values.port}'\n${USAGE}`);
  if (values.framing !== 'length' && values.framing !== 'line') {
    throw new UsageError(`--framing must be 'length' or 'line', got '${values.framing}'\n${USAGE}`);
  }
  return { id: values.id, host: values.host, port, token: values.token, framing: values.framing, tls: values.tls };
}

/** The device's client, with its handlers and logging wired; not connected yet. */
export function createDevice(args: DeviceArgs, log: (line: string) => void = defaultLog): LongLinkClient {
  const client = new LongLinkClient({
    host: args.host,
    port: args.port,
    clientId: args.id,
    token: args.token,
    framing: args.framing,
    tls: args.tls ? true : undefined,
    meta: { kind: 'demo-device', pid: process.pid },
    // A demo should come back within seconds of a gateway restart; fleets may prefer the 30 s default cap.
    reconnect: { minDelayMs: 500, maxDelayMs: 5000 },
    // Reported state the gateway keeps from every HEART.
    heartbeatFields: () => ({ pid: process.pid, uptimeS: Math.round(process.uptime()) }),
  });
  client.on('status', ({ from, to, reason }) => log(`status ${from} -> ${to} (${reason})`));
  client.on('online', (s) => log(`online as '${s.clientId}' session ${s.sessionId}, heartbeat every ${s.heartbeatMs} ms`));
  client.on('reconnect_scheduled', (r) => log(`reconnect attempt ${r.attempt} in ${r.delayMs} ms`));
  client.on('command', (c) => log(`command ${c.name} id=${c.id} data=${JSON.stringify(c.data)}${c.duplicate ? ' (repeated id: not run again)' : ''}`));
  client.on('ack', (a) =>
    log(`ack ${a.name} id=${a.id} ${a.ok ? `ok result=${JSON.stringify(a.result)}` : `failed ${a.error?.code}: ${a.error?.message}`} in ${a.durationMs} ms${a.sent ? '' : ' (offline: re-sent on redelivery)'}`),
  );
  client.on('kicked', (k) => log(`kicked: ${k.reason}${k.willReconnect ? '' : ' (not reconnecting)'}`));
  client.on('error', (e) => log(`error ${e.code}: ${e.message}`));

  client.onCommand('echo', (data) => data);
  client.onCommand('sleep', async (data) => {
    const ms = (data as { ms?: unknown } | undefined)?.ms;
    if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_SLEEP_MS)) {
      throw Object.assign(new Error(`sleep needs {"ms": 0-${MAX_SLEEP_MS}}, got ${JSON.stringify(data)}`), { code: 'BAD_ARGUMENT' });
    }
    await sleep(ms);
    return { sleptMs: ms };
  });
  client.onCommand('fail', (data) => {
    const message = (data as { message?: unknown } | undefined)?.message;
    throw Object.assign(new Error(typeof message === 'string' ? message : 'failed on purpose (the fail command)'), { code: 'DEVICE_FAILURE' });
  });
  return client;
}

function defaultLog(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

async function main(): Promise<void> {
  let args: DeviceArgs;
  try {
    args = parseDeviceArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const client = createDevice(args);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // Second Ctrl-C: don't wait for the BYE to flush.
      process.exit(130);
    }
    stopping = true;
    defaultLog(`${signal}: closing (BYE)`);
    void client.close(`device stopped by ${signal}`).then(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  defaultLog(`device '${args.id}' connecting to ${args.tls ? 'tls' : 'tcp'}://${args.host}:${args.port} (${args.framing} framing)`);
  client.connect().catch((error: Error) => {
    // Closed before ever getting online: refused LOGIN, replaced, or closed by a signal.
    if (!stopping) {
      defaultLog(`not connected: ${error.message}`);
      process.exitCode = 1;
    }
  });
  // A client closed by the gateway (KICK replaced, refused LOGIN) holds nothing: the process ends by itself.
  client.on('status', ({ to, reason }) => {
    if (to === 'closed' && !stopping) {
      process.exitCode = 1;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      defaultLog(`closed for good: ${reason}`);
    }
  });
}

if (require.main === module) void main();
