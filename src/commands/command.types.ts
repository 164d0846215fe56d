import type { ProtocolErrorBody } from '../protocol';

/** docs/PROTOCOL.md §4. `queued` and `sent` are pending; the other three are final. */
export type CommandStatus = 'queued' | 'sent' | 'acked' | 'failed' | 'expired';
export const COMMAND_STATUSES: readonly CommandStatus[] = ['queued', 'sent', 'acked', 'failed', 'expired'];
export const PENDING_STATUSES: readonly CommandStatus[] = ['queued', 'sent'];
export const FINAL_STATUSES: readonly CommandStatus[] = ['acked', 'failed', 'expired'];

export function isFinal(status: CommandStatus): boolean {
  return status === 'acked' || status === 'failed' || status === 'expired';
}

/** One server-push command (a plain, detached object). */
export interface CommandRecord {
  id: string;
  clientId: string;
  name: string;
  data?: unknown;
  status: CommandStatus;
  /** epoch ms, by the gateway's clock */
  createdAt: number;
  /** Last time it was written to the client's socket (a re-send after a reconnect moves it). */
  sentAt?: number;
  /** When the ACK arrived (ok or not). */
  ackedAt?: number;
  /** From an `ACK ok:true`. */
  result?: unknown;
  /** From an `ACK ok:false`. */
  error?: ProtocolErrorBody;
  /** Past this without an ACK it is `expired` and never sent again. */
  expiresAt: number;
  /** When it became acked, failed or expired; retention counts from here. */
  finishedAt?: number;
  /** How many times it was written to a socket (more than 1: re-sent after a reconnect). */
  attempts: number;
  /** The broadcast it belongs to. */
  batchId?: string;
}

/** One status change of a command; `from` is null when it was created. */
export interface CommandEvent {
  id: string;
  clientId: string;
  name: string;
  from: CommandStatus | null;
  to: CommandStatus;
  /** epoch ms */
  at: number;
  batchId?: string;
  nodeId: string;
}

export interface SendCommandOptions {
  /** Expiry from creation. @default COMMAND_TTL_MS */
  ttlMs?: number;
  /**
   * Queue the command for a client that is `close` or not known yet (it is
   * sent at that client's next LOGIN) instead of refusing it.
   * @default false
   */
  queue?: boolean;
  /** Groups the commands of one broadcast. */
  batchId?: string;
}

/** What a list of commands can be narrowed to (all fields combine with AND). */
export interface CommandQuery {
  clientId?: string;
  batchId?: string;
  status?: CommandStatus;
}
