import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { CLIENT_ID_RULE, isClientId } from '../protocol';
import type { Framing } from '../transport/codec';
import { BACKOFF_DEFAULTS } from './backoff';

export interface ReconnectOptions {
  /** Ceiling of the first reconnect delay; each delay is random in [0, ceiling]. @default 1000 */
  minDelayMs?: number;
  /** Largest ceiling of a reconnect delay. @default 30000 */
  maxDelayMs?: number;
  /** Growth of the ceiling per failed attempt. @default 2 */
  factor?: number;
  /** Failed attempts in a row (without getting online) before giving up with `reconnect_failed`. @default Infinity */
  maxAttempts?: number;
  /** Random source in [0, 1) for the jitter. @default Math.random */
  random?: () => number;
}

export interface LongLinkClientOptions {
  /** Gateway host. */
  host: string;
  /** Gateway long-link port (TCP_PORT). */
  port: number;
  /** This client's id: CLIENT_ID_RULE (1-128 characters of [A-Za-z0-9._:@-]). */
  clientId: string;
  /** Sent in LOGIN (AUTH_MODE=token). @default undefined */
  token?: string;
  /** Sent in LOGIN, kept by the gateway in the client's record (at most 4 KiB of JSON). @default undefined */
  meta?: Record<string, unknown>;
  /** Wire framing: 'length' (uint32 prefix) or 'line' (JSON + '\n'). @default 'length' */
  framing?: Framing;
  /** TLS: `true` for the system CAs, or node:tls connect options (ca, cert, servername, ...). @default undefined (plain TCP) */
  tls?: TlsConnectionOptions | true;
  /** HEART interval until the gateway's LOGIN reply names its own (which then wins). @default 10000 */
  heartbeatMs?: number;
  /**
   * The server is taken for dead when no frame at all arrives within this long
   * after a HEART was sent; the socket is destroyed and the client reconnects.
   * @default 2.5 × the heartbeat interval in force
   */
  heartbeatTimeoutMs?: number;
  /** Extra fields sent in every HEART (the gateway keeps them as the client's reported state). @default undefined */
  heartbeatFields?: () => Record<string, unknown>;
  /** Reconnect policy (exponential backoff with full jitter). */
  reconnect?: ReconnectOptions;
  /** A connection that stayed online this long resets the backoff to its first step. @default 30000 */
  stableAfterMs?: number;
  /** Bound of TCP (+TLS) connect plus the LOGIN reply, per attempt. @default 10000 */
  connectTimeoutMs?: number;
  /** send() rejects when its reply hasn't come this long after the call (time spent queued included). @default 10000 */
  requestTimeoutMs?: number;
  /** Frames held while not online (flushed after LOGIN); one more is refused with QueueFullError. @default 1000 */
  maxQueuedFrames?: number;
  /** How many recent command ids are remembered (with their ACK) to drop redeliveries. @default 1000 */
  commandDedupSize?: number;
  /** KICK reasons after which the client stays closed instead of reconnecting. @default ['replaced'] */
  stopOnKick?: readonly string[];
  /** Largest frame accepted from the gateway. @default 16777216 (16 MiB) */
  maxFrameBytes?: number;
  /** close(): how long BYE may take to flush before the socket is destroyed. @default 1000 */
  closeTimeoutMs?: number;
  /** SO_KEEPALIVE initial delay on the socket (0 turns it off). @default 60000 */
  tcpKeepAliveMs?: number;
}

export const CLIENT_DEFAULTS = {
  framing: 'length' as Framing,
  heartbeatMs: 10_000,
  heartbeatTimeoutFactor: 2.5,
  reconnect: { ...BACKOFF_DEFAULTS, maxAttempts: Infinity },
  stableAfterMs: 30_000,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  maxQueuedFrames: 1000,
  commandDedupSize: 1000,
  stopOnKick: ['replaced'] as readonly string[],
  maxFrameBytes: 16 * 1024 * 1024,
  closeTimeoutMs: 1000,
  tcpKeepAliveMs: 60_000,
};

/** Options with every default filled in and checked. */
export interface ResolvedClientOptions
  extends Required<Omit<LongLinkClientOptions, 'token' | 'meta' | 'tls' | 'heartbeatTimeoutMs' | 'heartbeatFields' | 'reconnect'>> {
  token: string | undefined;
  meta: Record<string, unknown> | undefined;
  tls: TlsConnectionOptions | undefined;
  /** Explicit timeout, or undefined for 2.5 × the interval in force. */
  heartbeatTimeoutMs: number | undefined;
  heartbeatFields: (() => Record<string, unknown>) | undefined;
  reconnect: Required<Omit<ReconnectOptions, 'random'>> & { random?: () => number };
}

function positive(name: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || (allowZero ? value < 0 : value <= 0)) {
    throw new RangeError(`LongLinkClient option ${name} must be a number ${allowZero ? '>= 0' : '> 0'}, got ${value}`);
  }
  return value;
}

export function resolveClientOptions(o: LongLinkClientOptions): ResolvedClientOptions {
  if (typeof o.host !== 'string' || o.host.length === 0) throw new TypeError('LongLinkClient option host must be a non-empty string');
  if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) throw new RangeError(`LongLinkClient option port must be 1-65535, got ${o.port}`);
  if (!isClientId(o.clientId)) {
    throw new TypeError(`LongLinkClient option clientId must be ${CLIENT_ID_RULE}, got '${o.clientId}'`);
  }
  const framing = o.framing ?? CLIENT_DEFAULTS.framing;
  if (framing !== 'length' && framing !== 'line') throw new TypeError(`LongLinkClient option framing must be 'length' or 'line', got '${framing}'`);
  const r = o.reconnect ?? {};
  const maxAttempts = r.maxAttempts ?? CLIENT_DEFAULTS.reconnect.maxAttempts;
  if (!(maxAttempts >= 0)) throw new RangeError(`LongLinkClient option reconnect.maxAttempts must be >= 0, got ${maxAttempts}`);
  return {
    host: o.host,
    port: o.port,
    clientId: o.clientId,
    token: o.token,
    meta: o.meta,
    framing,
    tls: o.tls === true ? {} : o.tls,
    heartbeatMs: positive('heartbeatMs', o.heartbeatMs ?? CLIENT_DEFAULTS.heartbeatMs),
    heartbeatTimeoutMs: o.heartbeatTimeoutMs === undefined ? undefined : positive('heartbeatTimeoutMs', o.heartbeatTimeoutMs),
    heartbeatFields: o.heartbeatFields,
    reconnect: {
      minDelayMs: r.minDelayMs ?? CLIENT_DEFAULTS.reconnect.minDelayMs,
      maxDelayMs: r.maxDelayMs ?? Math.max(CLIENT_DEFAULTS.reconnect.maxDelayMs, r.minDelayMs ?? 0),
      factor: r.factor ?? CLIENT_DEFAULTS.reconnect.factor,
      maxAttempts,
      random: r.random,
    },
    stableAfterMs: positive('stableAfterMs', o.stableAfterMs ?? CLIENT_DEFAULTS.stableAfterMs, true),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs),
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs),
    maxQueuedFrames: positive('maxQueuedFrames', o.maxQueuedFrames ?? CLIENT_DEFAULTS.maxQueuedFrames, true),
    commandDedupSize: positive('commandDedupSize', o.commandDedupSize ?? CLIENT_DEFAULTS.commandDedupSize, true),
    stopOnKick: o.stopOnKick ?? CLIENT_DEFAULTS.stopOnKick,
    maxFrameBytes: positive('maxFrameBytes', o.maxFrameBytes ?? CLIENT_DEFAULTS.maxFrameBytes),
    closeTimeoutMs: positive('closeTimeoutMs', o.closeTimeoutMs ?? CLIENT_DEFAULTS.closeTimeoutMs, true),
    tcpKeepAliveMs: positive('tcpKeepAliveMs', o.tcpKeepAliveMs ?? CLIENT_DEFAULTS.tcpKeepAliveMs, true),
  };
}
