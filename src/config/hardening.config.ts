import { z } from 'zod';
import { int, MAX_TIMER_MS } from './whole-number';

/**
 * Bounds and admission control (docs/HARDENING.md): what one peer may make
 * the gateway keep, and how fast it may connect and send. Every rate is on by
 * default; 0 turns one off. Merged into the main schema by config.schema.ts.
 */
const whole = int;

export const hardeningShape = {
  MAX_JSON_DEPTH: whole(2, 1000).default(32),
  MAX_REPORTED_BYTES: whole(0).default(4096),
  MAX_CLIENT_RECORDS: whole(1).default(50000),
  CONNECT_RATE_PER_IP: whole(0).default(100),
  CONNECT_BURST_PER_IP: whole(1).default(200),
  FLAP_MAX_LOGINS: whole(0).default(15),
  FLAP_HOST_MAX_LOGINS: whole(0).default(300),
  FLAP_WINDOW_MS: whole(1, MAX_TIMER_MS).default(60000),
  FLAP_BAN_MS: whole(1, MAX_TIMER_MS).default(300000),
  CONN_MSG_RATE: whole(0).default(200),
  CONN_MSG_BURST: whole(1).default(400),
  CONN_BYTE_RATE: whole(0).default(262144),
  CONN_BYTE_BURST: whole(1).default(1048576),
  RATE_LIMIT_STRIKES: whole(0).default(20),
  FRAME_BUDGET: whole(0).default(64),
  LOG_THROTTLE_MS: whole(0, MAX_TIMER_MS).default(5000),
};

type HardeningRaw = { [K in keyof typeof hardeningShape]: z.output<(typeof hardeningShape)[K]> } & { MAX_FRAME_BYTES: number };

export interface LimitsConfig {
  /** Nesting depth of any frame and any admin HTTP body. @default 32 */
  maxJsonDepth: number;
  /** JSON bytes of a HEART's own fields kept as `reported`. @default 4096 */
  maxReportedBytes: number;
  /** Client records this node keeps (alive, leave and close). @default 50000 */
  maxClientRecords: number;
}

export interface AdmissionConfig {
  /** New sockets per second from one IP (token bucket; 0 = off). @default 100 */
  connectRatePerIp: number;
  /** @default 200 */
  connectBurstPerIp: number;
  /** Logins of one clientId in `flapWindowMs` before it is banned (0 = off). @default 15 */
  flapMaxLogins: number;
  /** Re-logins (a clientId logging in again within the window) from one peer host before it is banned (0 = off). @default 300 */
  flapHostMaxLogins: number;
  /** @default 60000 */
  flapWindowMs: number;
  /** @default 300000 */
  flapBanMs: number;
  /** Frames per second per connection (token bucket; 0 = off). @default 200 */
  msgRate: number;
  /** @default 400 */
  msgBurst: number;
  /** Bytes per second per connection (token bucket; 0 = off). @default 262144 */
  byteRate: number;
  /** @default 1048576 */
  byteBurst: number;
  /** Rate-limited frames in a row before the connection is closed (0: the first closes). @default 20 */
  rateLimitStrikes: number;
  /** Frames handled per read before the socket yields to the others until the next turn (0 = off). @default 64 */
  frameBudget: number;
  /** One log line per reason per this many ms, with a count (0 = every line). @default 5000 */
  logThrottleMs: number;
}

/** Cross-key rules; each problem names its key. */
export function refineHardening(c: HardeningRaw, addIssue: (key: string, message: string) => void): void {
  if (c.CONN_BYTE_RATE > 0 && c.CONN_BYTE_BURST < c.MAX_FRAME_BYTES) {
    // Otherwise a frame of MAX_FRAME_BYTES could never pass the byte bucket.
    addIssue('CONN_BYTE_BURST', `must be >= MAX_FRAME_BYTES (${c.MAX_FRAME_BYTES}) while CONN_BYTE_RATE is on`);
  }
}

export function hardeningConfig(c: HardeningRaw): { limits: LimitsConfig; admission: AdmissionConfig } {
  return {
    limits: { maxJsonDepth: c.MAX_JSON_DEPTH, maxReportedBytes: c.MAX_REPORTED_BYTES, maxClientRecords: c.MAX_CLIENT_RECORDS },
    admission: {
      connectRatePerIp: c.CONNECT_RATE_PER_IP,
      connectBurstPerIp: c.CONNECT_BURST_PER_IP,
      flapMaxLogins: c.FLAP_MAX_LOGINS,
      flapHostMaxLogins: c.FLAP_HOST_MAX_LOGINS,
      flapWindowMs: c.FLAP_WINDOW_MS,
      flapBanMs: c.FLAP_BAN_MS,
      msgRate: c.CONN_MSG_RATE,
      msgBurst: c.CONN_MSG_BURST,
      byteRate: c.CONN_BYTE_RATE,
      byteBurst: c.CONN_BYTE_BURST,
      rateLimitStrikes: c.RATE_LIMIT_STRIKES,
      frameBudget: c.FRAME_BUDGET,
      logThrottleMs: c.LOG_THROTTLE_MS,
    },
  };
}
