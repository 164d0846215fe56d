/**
 * Why CommandService refused something. Plain errors (the commands part does
 * not know HTTP); the admin API maps `kind` to a status code.
 */
export type CommandErrorKind = 'client_not_found' | 'client_closed' | 'queue_full' | 'command_not_found' | 'too_large' | 'bad_cursor';

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly kind: CommandErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export class ClientNotFoundError extends CommandError {
  constructor(readonly clientId: string) {
    super('client_not_found', `client '${clientId}' is not known (send with queue: true to hold the command for its first LOGIN)`);
  }
}

export class ClientClosedError extends CommandError {
  constructor(
    readonly clientId: string,
    readonly closeReason: string | null,
  ) {
    super(
      'client_closed',
      `client '${clientId}' is closed${closeReason ? ` (${closeReason})` : ''}; send with queue: true to deliver at its next LOGIN`,
    );
  }
}

export class QueueFullError extends CommandError {
  constructor(
    readonly clientId: string,
    readonly pending: number,
    readonly max: number,
  ) {
    super('queue_full', `client '${clientId}' already has ${pending} undelivered commands (MAX_QUEUED_COMMANDS ${max})`);
  }
}

export class CommandNotFoundError extends CommandError {
  constructor(readonly id: string) {
    super('command_not_found', `command '${id}' is not known (never created, or removed after COMMAND_RETENTION_MS)`);
  }
}

export class CommandTooLargeError extends CommandError {
  constructor(
    readonly bytes: number,
    readonly max: number,
  ) {
    super('too_large', `data: the CMD frame would be ${bytes} bytes, above MAX_FRAME_BYTES (${max})`);
  }
}

export class BadCursorError extends CommandError {
  constructor(readonly cursor: string) {
    super('bad_cursor', `cursor '${cursor.slice(0, 64)}' is not one this gateway returned`);
  }
}
