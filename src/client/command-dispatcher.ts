import { AckMessage, ErrorCode } from '../protocol';

/** What a command handler gets besides the command's data. */
export interface CommandContext {
  /** The command's id (unique per command; redeliveries keep it). */
  id: string;
  name: string;
  /** Server epoch ms after which the gateway no longer waits for the ACK, when it set one. */
  expiresAt: number | undefined;
}

/**
 * Runs one command. The resolved value becomes the ACK's `result`; a thrown
 * error (or rejected promise) becomes `ok:false` with `error.code` taken from
 * the error's string `code` property when it has one, else HANDLER_ERROR.
 */
export type CommandHandler = (data: unknown, context: CommandContext) => unknown;

export interface IncomingCommand {
  id: string;
  name: string;
  data: unknown;
  expiresAt: number | undefined;
}

/** What receive() decided for one CMD frame. */
export type CommandReceipt =
  | { kind: 'new'; done: Promise<AckMessage> }
  /** Same id as a command whose handler is still running: its ACK will go when it ends. */
  | { kind: 'running' }
  /** Same id as a finished command: answer with the same ACK, don't run again. */
  | { kind: 'repeat'; ack: AckMessage };

/**
 * The command handlers by name, and a bounded LRU of recent command ids with
 * their ACK. Delivery is at-least-once (the gateway sends an unacked command
 * again after the next LOGIN), so the same id can arrive twice; the LRU makes
 * that harmless: the handler runs once and the ACK is repeated.
 */
export class CommandDispatcher {
  private readonly handlers = new Map<string, CommandHandler>();
  /** id → its ACK, undefined while running. Map order is recency (oldest first). */
  private readonly recent = new Map<string, AckMessage | undefined>();

  constructor(private readonly maxRecent: number) {}

  /** Registers the handler of `name`; returns a function that removes it. Throws on a duplicate name. */
  register(name: string, handler: CommandHandler): () => void {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('onCommand: name must be a non-empty string');
    if (typeof handler !== 'function') throw new TypeError(`onCommand('${name}'): handler must be a function`);
    if (this.handlers.has(name)) throw new Error(`onCommand: a handler for '${name}' is already registered`);
    this.handlers.set(name, handler);
    return () => {
      if (this.handlers.get(name) === handler) this.handlers.delete(name);
    };
  }

  get names(): string[] {
    return [...this.handlers.keys()];
  }

  receive(command: IncomingCommand): CommandReceipt {
    const { id } = command;
    if (this.recent.has(id)) {
      const ack = this.recent.get(id);
      // Refresh its place: a command redelivered now is likely redelivered again soon.
      this.recent.delete(id);
      this.recent.set(id, ack);
      return ack === undefined ? { kind: 'running' } : { kind: 'repeat', ack };
    }
    this.remember(id, undefined);
    const done = this.run(command).then((ack) => {
      if (this.recent.has(id)) this.recent.set(id, ack);
      return ack;
    });
    return { kind: 'new', done };
  }

  private remember(id: string, ack: AckMessage | undefined): void {
    this.recent.set(id, ack);
    if (this.recent.size > this.maxRecent) {
      const oldest = this.recent.keys().next().value as string;
      this.recent.delete(oldest);
    }
  }

  private async run(command: IncomingCommand): Promise<AckMessage> {
    const { id, name } = command;
    const handler = this.handlers.get(name);
    if (handler === undefined) {
      const known = this.names;
      return failure(id, ErrorCode.NO_HANDLER, `no handler for command '${name}' on this client (handlers: ${known.length ? known.join(', ') : 'none'})`);
    }
    let result: unknown;
    try {
      result = await handler(command.data, { id, name, expiresAt: command.expiresAt });
    } catch (error) {
      const code = error && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : ErrorCode.HANDLER_ERROR;
      return failure(id, code, error instanceof Error ? error.message : String(error));
    }
    if (result === undefined) return { type: 'ACK', id, ok: true };
    try {
      // Checked here so that an unserialisable result is a failed command, not a crash while writing the ACK.
      JSON.stringify(result);
    } catch (error) {
      return failure(id, ErrorCode.HANDLER_ERROR, `result of command '${name}' is not JSON-serialisable: ${(error as Error).message}`);
    }
    return { type: 'ACK', id, ok: true, result };
  }
}

function failure(id: string, code: string, message: string): AckMessage {
  return { type: 'ACK', id, ok: false, error: { code, message } };
}
