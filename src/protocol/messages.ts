import type { ProtocolErrorBody } from './error-codes';

/** Message types of docs/PROTOCOL.md §2. */
export const MessageType = {
  LOGIN: 'LOGIN',
  HEART: 'HEART',
  ACK: 'ACK',
  MSG: 'MSG',
  BYE: 'BYE',
  CMD: 'CMD',
  KICK: 'KICK',
  ERROR: 'ERROR',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** LOGIN meta: at most this many bytes of JSON. */
export const MAX_META_BYTES = 4096;

export interface LoginMessage {
  type: 'LOGIN';
  clientId?: string;
  token?: string;
  meta?: Record<string, unknown>;
}
export interface HeartMessage {
  type: 'HEART';
  ok?: boolean;
  [field: string]: unknown;
}
export interface AckMessage {
  type: 'ACK';
  id: string;
  ok: boolean;
  result?: unknown;
  error?: ProtocolErrorBody;
}
export interface MsgMessage {
  type: 'MSG';
  pattern: string;
  data?: unknown;
  id?: string;
}
export interface ByeMessage {
  type: 'BYE';
  reason?: string;
}
export type ClientMessage = LoginMessage | HeartMessage | AckMessage | MsgMessage | ByeMessage;

/** Server → client. */
export interface CmdMessage {
  type: 'CMD';
  id: string;
  name: string;
  data?: unknown;
  expiresAt?: number;
}
export interface KickMessage {
  type: 'KICK';
  reason: string;
}
export interface ErrorMessage {
  type: 'ERROR';
  code: string;
  message: string;
  id?: string;
}
export interface LoginReply {
  type: 'LOGIN';
  ok: true;
  clientId: string;
  sessionId: string;
  heartbeatMs: number;
  serverTime: number;
}
export interface LoginFailure {
  type: 'LOGIN';
  ok: false;
  error: ProtocolErrorBody;
}
export interface MsgReply {
  type: 'MSG';
  id: string;
  ok: boolean;
  data?: unknown;
  error?: ProtocolErrorBody;
}
