import { performance } from 'node:perf_hooks';
import { AckMessage, ErrorCode } from '../protocol';
import { LongLinkClientError } from './client-errors';
import type { LongLinkClientEvents } from './client-events';
import type { ClientSocket } from './client-socket';
import type { CommandDispatcher } from './command-dispatcher';

/** What the receiver tells the client (its events). */
export interface CommandReceiverHost {
  fireCommand(event: LongLinkClientEvents['command'][0]): void;
  fireAck(event: LongLinkClientEvents['ack'][0]): void;
  fireError(error: LongLinkClientError): void;
  /** Writes the ACK on the live connection, whichever it is now; false while offline. */
  sendAck(ack: AckMessage): boolean;
}

/**
 * A CMD frame from the gateway: checked, handed to the dispatcher (which runs
 * the handler once per id), and its outcome ACKed.
 */
export function receiveCommand(socket: ClientSocket, m: Record<string, unknown>, commands: CommandDispatcher, host: CommandReceiverHost): void {
  const { id, name } = m;
  if (typeof id !== 'string' || id.length === 0 || typeof name !== 'string') {
    if (typeof id === 'string' && id.length > 0) {
      socket.send({ type: 'ACK', id, ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: 'CMD needs a "name" string' } });
    }
    host.fireError(new LongLinkClientError(ErrorCode.BAD_MESSAGE, `CMD without a valid id and name: ${JSON.stringify(m).slice(0, 200)}`));
    return;
  }
  const expiresAt = typeof m.expiresAt === 'number' ? m.expiresAt : undefined;
  const receipt = commands.receive({ id, name, data: m.data, expiresAt });
  host.fireCommand({ id, name, data: m.data, duplicate: receipt.kind !== 'new' });
  if (receipt.kind === 'repeat') {
    socket.send(receipt.ack);
    return;
  }
  if (receipt.kind === 'running') return;
  const started = performance.now();
  void receipt.done.then((ack) => {
    const sent = host.sendAck(ack);
    host.fireAck({
      id,
      name,
      ok: ack.ok,
      result: ack.result,
      error: ack.error,
      durationMs: Math.round(performance.now() - started),
      sent,
    });
  });
}
