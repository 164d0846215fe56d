/** Tuning of the HTTP admin API (module option `admin`). */
export interface AdminApiOptions {
  /**
   * A comment line (`: ping`) goes down every `GET /events` stream this often,
   * so proxies do not cut an idle stream.
   * @default 15000
   */
  sseHeartbeatMs: number;
}

export const ADMIN_API_DEFAULTS: AdminApiOptions = { sseHeartbeatMs: 15_000 };

export const ADMIN_API_OPTIONS = Symbol('ADMIN_API_OPTIONS');

/**
 * Events kept for an SSE listener that does not read (in characters of event
 * data); past this its connection is dropped rather than buffered further.
 */
export const SSE_MAX_PENDING_CHARS = 1 << 20;
