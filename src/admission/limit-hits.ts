import { Injectable } from '@nestjs/common';

/** Every bound a peer can run into; the `limit` label of longlink_limit_hits_total. */
export const LIMIT_NAMES = [
  /** A frame nested deeper than MAX_JSON_DEPTH. */
  'json_depth',
  /** HEART fields over MAX_REPORTED_BYTES (or MAX_JSON_DEPTH). */
  'reported_bytes',
  /** A close record dropped early, or a new clientId refused, at MAX_CLIENT_RECORDS. */
  'client_records_evicted',
  'client_records_refused',
  /** A socket refused by CONNECT_RATE_PER_IP. */
  'connect_rate',
  /** A login refused because its clientId / peer host is banned for flapping. */
  'flap_client',
  'flap_host',
  /** A frame refused by CONN_MSG_RATE / CONN_BYTE_RATE, and a connection closed for it. */
  'msg_rate',
  'byte_rate',
  'rate_limit_close',
  /** A read that used up FRAME_BUDGET and yielded. */
  'frame_budget',
  /** An admin HTTP body nested deeper than MAX_JSON_DEPTH (400). */
  'http_body_depth',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/**
 * How often each bound was hit, as plain counters (the hot path pays one
 * add); MetricsService exports them at scrape time.
 */
@Injectable()
export class LimitHits {
  readonly counts = Object.fromEntries(LIMIT_NAMES.map((n) => [n, 0])) as Record<LimitName, number>;

  hit(limit: LimitName, n = 1): void {
    this.counts[limit] += n;
  }
}
