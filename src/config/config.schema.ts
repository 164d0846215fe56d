import { hostname } from 'node:os';
import { z } from 'zod';
import { int, MAX_TIMER_MS } from './whole-number';
import { CLIENT_ID_RULE, isClientId } from '../protocol/client-id';
import type { LongLinkConfig } from './long-link-config';
import { AdmissionConfig, hardeningConfig, hardeningShape, LimitsConfig, refineHardening } from './hardening.config';
import { redactRedisUrl, redisUrlProblem } from '../cluster/redis-url';

/**
 * Every configuration key of the gateway, its type and default. The names are
 * part of the contract (operators script them): see the README's
 * Configuration table and `.env.example`, which list the same keys.
 */
const port = () => int(0, 65535);
/** Node's timers take at most 2^31-1 ms; a longer delay fires after 1 ms instead. */
/** A duration that ends up in a timer. */
const timerMs = (min: number) => int(min, MAX_TIMER_MS);
const optionalString = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));

export const configSchema = z
  .object({
    NODE_ENV: z.string().default('development'),
    TCP_HOST: z.string().min(1).default('0.0.0.0'),
    TCP_PORT: port().default(7000),
    // No default here: unset, it depends on ADMIN_TOKEN (see parseConfig).
    HTTP_HOST: optionalString(),
    HTTP_PORT: port().default(3000),
    HTTP_MAX_CONNECTIONS: int(1).default(512),
    HTTP_HEADERS_TIMEOUT_MS: timerMs(1).default(10000),
    HTTP_REQUEST_TIMEOUT_MS: timerMs(1).default(30000),
    HTTP_KEEPALIVE_TIMEOUT_MS: timerMs(1).default(5000),
    TLS_CERT_FILE: optionalString(),
    TLS_KEY_FILE: optionalString(),
    MAX_CONNECTIONS: int(1).default(10000),
    MAX_FRAME_BYTES: int(64, 64 * 1024 * 1024).default(65536),
    MAX_BAD_FRAMES: int(0).default(10),
    MAX_OUTBOUND_BYTES: int(1024).default(1048576),
    LOGIN_TIMEOUT_MS: timerMs(1).default(10000),
    AUTH_MODE: z.enum(['none', 'token'], { error: "must be 'none' or 'token'" }).default('none'),
    AUTH_TOKENS: optionalString(),
    AUTH_TOKEN: optionalString(),
    HEARTBEAT_MS: timerMs(1).default(10000),
    CURSOR_START: int(0).default(3),
    CURSOR_LIMIT: int(1).default(5),
    LEAVE_STRIKES: int(1).default(3),
    RECOVER_WINDOWS: int(1).default(3),
    LEAVE_TIMEOUT_MS: int(0).default(1800000),
    CLOSED_RETENTION_MS: int(0).default(86400000),
    PRESENCE_HISTORY: int(0, 1000).default(20),
    SERVER_PING_MS: timerMs(1).optional(),
    TCP_KEEPALIVE_MS: timerMs(0).default(60000),
    COMMAND_TTL_MS: int(1).default(86400000),
    COMMAND_RETENTION_MS: int(0).default(86400000),
    MAX_QUEUED_COMMANDS: int(1).default(1000),
    SHUTDOWN_GRACE_MS: timerMs(0).default(5000),
    // Default depends on NODE_ENV (see parseConfig).
    SHUTDOWN_DRAIN_MS: timerMs(0).optional(),
    ADMIN_TOKEN: optionalString(),
    // Default: redis with REDIS_URL, else sqlite (see parseConfig).
    STORE: z.enum(['memory', 'sqlite', 'redis'], { error: "must be 'memory', 'sqlite' or 'redis'" }).optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    SQLITE_SYNCHRONOUS: z
      .string()
      .transform((v) => v.trim().toUpperCase())
      .pipe(z.enum(['NORMAL', 'FULL'], { error: 'must be NORMAL or FULL' }))
      .default('NORMAL'),
    SQLITE_COMMIT_WINDOW_MS: int(0, 1000).default(5),
    METRICS_TOKEN: optionalString(),
    SSE_REPLAY_EVENTS: int(0, 1_000_000).default(10000),
    REDIS_URL: optionalString(),
    NODE_ID: optionalString(),
    NODE_LEASE_MS: timerMs(30).default(10000),
    CLUSTER_WORKERS: int(1, 256).optional(),
    LOG_FORMAT: z.enum(['text', 'json'], { error: "must be 'text' or 'json'" }).default('text'),
    LOG_LEVEL: z
      .enum(['error', 'warn', 'log', 'debug', 'verbose'], {
        error: 'must be one of error, warn, log, debug, verbose',
      })
      .default('log'),
    ...hardeningShape,
  })
  .superRefine((c, ctx) => {
    refineHardening(c, (key, message) => ctx.addIssue({ code: 'custom', path: [key], message }));
    const redisProblem = c.REDIS_URL === undefined ? undefined : redisUrlProblem(c.REDIS_URL);
    if (redisProblem) ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: redisProblem });
    if (c.STORE === 'redis' && c.REDIS_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['STORE'], message: "is 'redis' but REDIS_URL is not set" });
    }
    if (c.CLUSTER_WORKERS !== undefined && c.REDIS_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['CLUSTER_WORKERS'], message: 'needs REDIS_URL (the workers share one view through Redis)' });
    }
    if (c.CURSOR_START >= c.CURSOR_LIMIT) {
      ctx.addIssue({ code: 'custom', path: ['CURSOR_START'], message: `must be below CURSOR_LIMIT (${c.CURSOR_LIMIT})` });
    }
    if (Boolean(c.TLS_CERT_FILE) !== Boolean(c.TLS_KEY_FILE)) {
      ctx.addIssue({ code: 'custom', path: [c.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'], message: 'TLS_CERT_FILE and TLS_KEY_FILE must be set together' });
    }
    if (c.HTTP_HEADERS_TIMEOUT_MS > c.HTTP_REQUEST_TIMEOUT_MS) {
      // Node refuses a headers timeout above the request timeout.
      ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_MS'], message: `must not exceed HTTP_REQUEST_TIMEOUT_MS (${c.HTTP_REQUEST_TIMEOUT_MS})` });
    }
    if (c.AUTH_MODE === 'token' && !c.AUTH_TOKENS && !c.AUTH_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: "is 'token' but neither AUTH_TOKENS nor AUTH_TOKEN is set" });
    }
    for (const problem of parseAuthTokens(c.AUTH_TOKENS).problems) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_TOKENS'], message: problem });
    }
  });

export type RawConfig = z.output<typeof configSchema>;

/**
 * AUTH_TOKENS (`clientId:token,…`) read once: the map, and what is wrong
 * with it (the schema reports those, naming the key).
 */
export function parseAuthTokens(text: string | undefined): { tokens: Map<string, string>; problems: string[] } {
  const tokens = new Map<string, string>();
  const problems: string[] = [];
  for (const pair of text?.split(',') ?? []) {
    const i = pair.indexOf(':');
    const clientId = pair.slice(0, i).trim();
    const token = pair.slice(i + 1).trim();
    if (i <= 0 || token === '' || clientId === '') problems.push(`entry '${pair}' is not clientId:token`);
    else if (!isClientId(clientId)) problems.push(`clientId '${clientId}' is not ${CLIENT_ID_RULE}`);
    // Silently keeping the last one would lock out whoever holds the first.
    else if (tokens.has(clientId)) problems.push(`clientId '${clientId}' is listed twice`);
    else tokens.set(clientId, token);
  }
  return { tokens, problems };
}

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Validates raw string values (normally process.env) and returns the typed
 * configuration. Throws ConfigValidationError naming every bad key.
 */
export function parseConfig(env: Record<string, string | undefined>): LongLinkConfig {
  // An empty value (KEY= in .env, as .env.example has them) means "use the default".
  const present: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') present[k] = v;
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '?');
      // A REDIS_URL may hold a password: never echo it.
      const got = key === 'REDIS_URL' && env[key] !== undefined ? redactRedisUrl(env[key] as string) : env[key];
      return `${key}: ${issue.message}${got !== undefined ? ` (got '${got}')` : ''}`;
    });
    throw new ConfigValidationError(problems);
  }
  const c = result.data;
  const { tokens } = parseAuthTokens(c.AUTH_TOKENS);
  return {
    nodeEnv: c.NODE_ENV,
    tcp: { host: c.TCP_HOST, port: c.TCP_PORT, tlsCertFile: c.TLS_CERT_FILE, tlsKeyFile: c.TLS_KEY_FILE, keepAliveMs: c.TCP_KEEPALIVE_MS },
    http: {
      // An open admin API (no ADMIN_TOKEN) is reachable from this machine only, unless asked for.
      host: c.HTTP_HOST ?? (c.ADMIN_TOKEN ? '0.0.0.0' : '127.0.0.1'),
      hostExplicit: c.HTTP_HOST !== undefined,
      port: c.HTTP_PORT,
      maxConnections: c.HTTP_MAX_CONNECTIONS,
      headersTimeoutMs: c.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: c.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: c.HTTP_KEEPALIVE_TIMEOUT_MS,
    },
    maxConnections: c.MAX_CONNECTIONS,
    maxFrameBytes: c.MAX_FRAME_BYTES,
    maxBadFrames: c.MAX_BAD_FRAMES,
    maxOutboundBytes: c.MAX_OUTBOUND_BYTES,
    loginTimeoutMs: c.LOGIN_TIMEOUT_MS,
    auth: { mode: c.AUTH_MODE, tokens, sharedToken: c.AUTH_TOKEN },
    heartbeat: {
      heartbeatMs: c.HEARTBEAT_MS,
      cursorStart: c.CURSOR_START,
      cursorLimit: c.CURSOR_LIMIT,
      leaveStrikes: c.LEAVE_STRIKES,
      recoverWindows: c.RECOVER_WINDOWS,
      leaveTimeoutMs: c.LEAVE_TIMEOUT_MS,
      serverPingMs: c.SERVER_PING_MS ?? c.HEARTBEAT_MS,
    },
    presence: { closedRetentionMs: c.CLOSED_RETENTION_MS, historySize: c.PRESENCE_HISTORY },
    commands: { ttlMs: c.COMMAND_TTL_MS, retentionMs: c.COMMAND_RETENTION_MS, maxQueued: c.MAX_QUEUED_COMMANDS },
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    // A balancer needs a few seconds to see readiness fail; a developer's Ctrl-C should not wait.
    shutdownDrainMs: c.SHUTDOWN_DRAIN_MS ?? (c.NODE_ENV === 'production' ? 5000 : 0),
    adminToken: c.ADMIN_TOKEN,
    // REDIS_URL means cluster mode, whose stores are Redis (docs/CLUSTER.md); else SQLite unless STORE says otherwise.
    store: c.REDIS_URL !== undefined ? 'redis' : (c.STORE ?? 'sqlite'),
    dataDir: c.DATA_DIR,
    sqliteSynchronous: c.SQLITE_SYNCHRONOUS,
    sqliteCommitWindowMs: c.SQLITE_COMMIT_WINDOW_MS,
    metricsToken: c.METRICS_TOKEN,
    sseReplayEvents: c.SSE_REPLAY_EVENTS,
    logFormat: c.LOG_FORMAT,
    redisUrl: c.REDIS_URL,
    nodeId: c.NODE_ID ?? `${hostname()}-${process.pid}`,
    nodeLeaseMs: c.NODE_LEASE_MS,
    clusterWorkers: c.CLUSTER_WORKERS,
    logLevel: c.LOG_LEVEL,
    ...hardeningConfig(c),
  };
}

/** Config for tests and embedding: defaults, overridden by the given keys. */
export function configFrom(overrides: Record<string, string | number | undefined> = {}): LongLinkConfig {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(overrides)) env[k] = v === undefined ? undefined : String(v);
  return parseConfig(env);
}
