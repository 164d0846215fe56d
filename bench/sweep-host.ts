import { join } from 'node:path';
import { nowNs } from './proc-stats';

/**
 * S5 needs the gateway in this process, to call the presence sweep directly:
 * it is built with startGateway() from the user-facing build (dist/), and
 * the parent drives it over IPC (`sweep`, `stats`, `stop`). Only the few
 * members used here are typed, so the bench build does not compile src/.
 */
interface SweepResultLike {
  records: number;
  lagged: boolean;
  durationMs: number;
}
interface AppLike {
  get(token: unknown): unknown;
  close(): Promise<void>;
}
interface PresenceLike {
  stats(): Promise<unknown>;
}

export type HostRequest = { op: 'sweep' } | { op: 'stats' } | { op: 'stop' };
export type HostMessage =
  | { kind: 'ready'; tcpPort: number; httpPort: number }
  | { kind: 'failed'; error: string }
  | { kind: 'reply'; seq: number; ok: true; result: unknown }
  | { kind: 'reply'; seq: number; ok: false; error: string };

const dist = join(__dirname, '..', '..', 'dist');

async function main(): Promise<void> {
  const { startGateway } = require(join(dist, 'bootstrap.js')) as {
    startGateway(config: unknown, options?: { logger?: false | string[] }): Promise<{ app: AppLike; tcpPort: number; httpPort: number }>;
  };
  const { parseConfig } = require(join(dist, 'config', 'index.js')) as { parseConfig(env: NodeJS.ProcessEnv): unknown };
  const { HeartbeatService } = require(join(dist, 'heartbeat', 'index.js')) as { HeartbeatService: unknown };
  const { PresenceService } = require(join(dist, 'presence', 'index.js')) as { PresenceService: unknown };
  const config = parseConfig({ ...process.env, TCP_PORT: '0', HTTP_PORT: '0', TCP_HOST: '127.0.0.1', HTTP_HOST: '127.0.0.1' });
  const { app, tcpPort, httpPort } = await startGateway(config);
  const heartbeat = app.get(HeartbeatService) as { sweep(): SweepResultLike };
  const presence = app.get(PresenceService) as PresenceLike;

  const handle = async (req: HostRequest): Promise<unknown> => {
    switch (req.op) {
      case 'sweep': {
        const t0 = nowNs();
        const result = heartbeat.sweep();
        return { ...result, wallMs: (nowNs() - t0) / 1e6 };
      }
      case 'stats':
        return presence.stats();
      case 'stop':
        await app.close();
        setImmediate(() => process.exit(0));
        return null;
    }
  };
  process.on('message', (msg: { seq: number; req: HostRequest }) => {
    handle(msg.req).then(
      (result) => process.send?.({ kind: 'reply', seq: msg.seq, ok: true, result } satisfies HostMessage),
      (error: unknown) => process.send?.({ kind: 'reply', seq: msg.seq, ok: false, error: String(error) } satisfies HostMessage),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ kind: 'ready', tcpPort, httpPort } satisfies HostMessage);
}

main().catch((error: unknown) => {
  process.send?.({ kind: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies HostMessage);
  process.exit(1);
});
