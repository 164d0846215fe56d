/** Error codes of docs/PROTOCOL.md §2, sent as `{"type":"ERROR","code",...}`. */
export const ErrorCode = {
  BAD_JSON: 'BAD_JSON',
  BAD_MESSAGE: 'BAD_MESSAGE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  NOT_LOGGED_IN: 'NOT_LOGGED_IN',
  LOGIN_TIMEOUT: 'LOGIN_TIMEOUT',
  AUTH_FAILED: 'AUTH_FAILED',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVER_FULL: 'SERVER_FULL',
  NO_HANDLER: 'NO_HANDLER',
  HANDLER_ERROR: 'HANDLER_ERROR',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ProtocolErrorBody {
  code: string;
  message: string;
}
