import type { AdmissionConfig, LimitsConfig } from './hardening.config';

/** Where client records and commands live (STORE). */
export type StoreKind = 'memory' | 'sqlite' | 'redis';

/**
 * The typed configuration every part reads (through the LONGLINK_CONFIG
 * provider), parsed from the environment by `parseConfig`. Each field names
 * its key; the defaults are those of `.env.example`.
 */
export interface LongLinkConfig {
  /** NODE_ENV (`production` requires ADMIN_TOKEN). @default 'development' */
  nodeEnv: string;
  tcp: {
    /** TCP_HOST. @default '0.0.0.0' */
    host: string;
    /** TCP_PORT (0: any free port). @default 7000 */
    port: number;
    /** TLS_CERT_FILE: TLS on the long-link listener when set with tlsKeyFile. @default undefined */
    tlsCertFile?: string;
    /** TLS_KEY_FILE. @default undefined */
    tlsKeyFile?: string;
    /** TCP_KEEPALIVE_MS: SO_KEEPALIVE initial delay. @default 60000 */
    keepAliveMs: number;
  };
  http: {
    /** HTTP_HOST of the admin API. @default '0.0.0.0' with ADMIN_TOKEN, else '127.0.0.1' */
    host: string;
    /** HTTP_HOST was given; false: the host was chosen from ADMIN_TOKEN. @default false */
    hostExplicit: boolean;
    /** HTTP_PORT. @default 3000 */
    port: number;
    /** HTTP_MAX_CONNECTIONS: sockets the admin listener holds at once; more are dropped at accept. @default 512 */
    maxConnections: number;
    /** HTTP_HEADERS_TIMEOUT_MS. @default 10000 */
    headersTimeoutMs: number;
    /** HTTP_REQUEST_TIMEOUT_MS. @default 30000 */
    requestTimeoutMs: number;
    /** HTTP_KEEPALIVE_TIMEOUT_MS. @default 5000 */
    keepAliveTimeoutMs: number;
  };
  /** MAX_CONNECTIONS: sockets held at once; more are refused with SERVER_FULL. @default 10000 */
  maxConnections: number;
  /** MAX_FRAME_BYTES: frames above this are refused (FRAME_TOO_LARGE, close). @default 65536 */
  maxFrameBytes: number;
  /** MAX_BAD_FRAMES: bad frames in a row tolerated; the next closes. @default 10 */
  maxBadFrames: number;
  /** MAX_OUTBOUND_BYTES: unsent bytes per connection before it is closed. @default 1048576 */
  maxOutboundBytes: number;
  /** LOGIN_TIMEOUT_MS: connect → LOGIN deadline (a TLS handshake counts). @default 10000 */
  loginTimeoutMs: number;
  auth: {
    /** AUTH_MODE. @default 'none' */
    mode: 'none' | 'token';
    /** AUTH_TOKENS (`clientId:token,…`), parsed once. @default empty */
    tokens: Map<string, string>;
    /** AUTH_TOKEN: one token for every client. @default undefined */
    sharedToken?: string;
  };
  heartbeat: {
    /** HEARTBEAT_MS: the liveness window, and the interval told to clients. @default 10000 */
    heartbeatMs: number;
    /** CURSOR_START. @default 3 */
    cursorStart: number;
    /** CURSOR_LIMIT. @default 5 */
    cursorLimit: number;
    /** LEAVE_STRIKES. @default 3 */
    leaveStrikes: number;
    /** RECOVER_WINDOWS. @default 3 */
    recoverWindows: number;
    /** LEAVE_TIMEOUT_MS: leave → close. @default 1800000 */
    leaveTimeoutMs: number;
    /** SERVER_PING_MS: server probe after this long without sending. @default heartbeatMs */
    serverPingMs: number;
  };
  presence: {
    /** CLOSED_RETENTION_MS: how long close records stay listed. @default 86400000 */
    closedRetentionMs: number;
    /** PRESENCE_HISTORY: transitions kept per record. @default 20 */
    historySize: number;
  };
  commands: {
    /** COMMAND_TTL_MS. @default 86400000 */
    ttlMs: number;
    /** COMMAND_RETENTION_MS: finished commands kept this long. @default 86400000 */
    retentionMs: number;
    /** MAX_QUEUED_COMMANDS: undelivered commands per client. @default 1000 */
    maxQueued: number;
  };
  /** SHUTDOWN_GRACE_MS: graceful shutdown bound. @default 5000 */
  shutdownGraceMs: number;
  /** SHUTDOWN_DRAIN_MS: SIGTERM → readiness 503 for this long before the listeners close. @default 5000 in production, else 0 */
  shutdownDrainMs: number;
  /** ADMIN_TOKEN: bearer token of the admin API. @default undefined (open; refused in production) */
  adminToken?: string;
  /** METRICS_TOKEN: bearer token that opens GET /metrics only (ADMIN_TOKEN opens it too). @default undefined */
  metricsToken?: string;
  /** SSE_REPLAY_EVENTS: events kept for SSE resumption (Last-Event-ID). @default 10000 */
  sseReplayEvents: number;
  /** LOG_FORMAT. @default 'text' */
  logFormat: 'text' | 'json';
  /** STORE: where records and commands live. @default 'redis' with REDIS_URL, else 'sqlite' */
  store: StoreKind;
  /** DATA_DIR: directory of the SQLite file (longlink.db), created at start. @default './data' */
  dataDir: string;
  /** SQLITE_SYNCHRONOUS: NORMAL survives a process crash, FULL a power cut too (docs/STORAGE.md). @default 'NORMAL' */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** SQLITE_COMMIT_WINDOW_MS: how long a presence row may wait for the COMMIT it shares with others (commands commit at the end of their turn). @default 5 */
  sqliteCommitWindowMs: number;
  /** REDIS_URL: cluster mode. @default undefined */
  redisUrl?: string;
  /** NODE_ID. @default `${hostname()}-${pid}` */
  nodeId: string;
  /** NODE_LEASE_MS: cluster: a node that has not beaten for this long is dead (its clients go `leave`). @default 10000 */
  nodeLeaseMs: number;
  /** CLUSTER_WORKERS: `node:cluster` workers to fork; unset: this process is the node. @default undefined */
  clusterWorkers?: number;
  /** LOG_LEVEL. @default 'log' */
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** What a peer may make us keep (docs/HARDENING.md); each field has its @default there. */
  limits: LimitsConfig;
  /** Connect, login and frame rates (docs/HARDENING.md). */
  admission: AdmissionConfig;
}
