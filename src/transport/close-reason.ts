/** Why a connection closed; presence maps these to statuses (the transport does not). */
export const CloseReason = {
  LOGOUT: 'logout',
  KICKED: 'kicked',
  REPLACED: 'replaced',
  TIMEOUT: 'timeout',
  SHUTDOWN: 'shutdown',
  LOGIN_TIMEOUT: 'login_timeout',
  NOT_LOGGED_IN: 'not_logged_in',
  AUTH_FAILED: 'auth_failed',
  SERVER_FULL: 'server_full',
  FRAME_TOO_LARGE: 'frame_too_large',
  TOO_MANY_BAD_FRAMES: 'too_many_bad_frames',
  OUTBOUND_OVERFLOW: 'outbound_overflow',
  /** Over a rate (CONN_MSG_RATE, CONN_BYTE_RATE) for RATE_LIMIT_STRIKES frames in a row, or a login banned for flapping. */
  RATE_LIMITED: 'rate_limited',
  PEER_CLOSED: 'peer_closed',
  /** A bug on our side while handling the connection's frames (logged with its stack). */
  INTERNAL_ERROR: 'internal_error',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** A socket error's reason: `socket_error:ECONNRESET`. */
export function socketErrorReason(code: string | undefined): string {
  return code ? `socket_error:${code}` : 'socket_error';
}
