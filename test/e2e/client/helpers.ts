import type { AckMessage } from '../../../src/protocol';
import type { LongLinkClient, LongLinkClientEvents, StatusChange, ClientStatus } from '../../../src/client';
import type { Connection } from '../../../src/transport/connection';
import type { LongLinkServer } from '../../../src/transport/long-link.server';
import type { AckEvent } from '../../../src/transport/transport.events';

/** Settings that make a test client react in milliseconds. */
export const FAST = {
  reconnect: { minDelayMs: 5, maxDelayMs: 40 },
  connectTimeoutMs: 2000,
  requestTimeoutMs: 2000,
  closeTimeoutMs: 500,
} as const;

/** Resolves with the first `event` (from now on) whose argument matches. */
export function nextEvent<K extends keyof LongLinkClientEvents>(
  client: LongLinkClient,
  event: K,
  match: (arg: LongLinkClientEvents[K][0]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<LongLinkClientEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const listener = ((arg: LongLinkClientEvents[K][0]) => {
      if (!match(arg)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(arg);
    }) as (...args: LongLinkClientEvents[K]) => void;
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no matching '${event}' event within ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    client.on(event, listener);
  });
}

export function nextStatus(client: LongLinkClient, to: ClientStatus, timeoutMs = 5000): Promise<StatusChange> {
  return nextEvent(client, 'status', (s) => s.to === to, timeoutMs);
}

/** Every status change of the client, in order. */
export function recordStatuses(client: LongLinkClient): StatusChange[] {
  const seen: StatusChange[] = [];
  client.on('status', (s) => seen.push(s));
  return seen;
}

/** Polls a condition every few ms (for facts that have no event, like server counters). */
export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Pushes a CMD straight from the transport (no CommandService needed). */
export function pushCommand(server: LongLinkServer, clientId: string, cmd: { id: string; name: string; data?: unknown }): Connection {
  const conn = server.getConnection(clientId);
  if (!conn) throw new Error(`'${clientId}' has no live connection on this gateway`);
  conn.send('CMD', cmd);
  return conn;
}

/** Collects the ACKs the gateway receives, and lets a test wait for the next one of an id. */
export class AckRecorder {
  readonly acks: AckMessage[] = [];
  private waiters: Array<{ id: string; resolve: (a: AckMessage) => void }> = [];
  private readonly listener = ({ ack }: AckEvent) => {
    this.acks.push(ack);
    const i = this.waiters.findIndex((w) => w.id === ack.id);
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(ack);
  };

  constructor(private readonly server: LongLinkServer) {
    server.on('ack', this.listener);
  }

  /** The next ACK with this id that arrives from now on. */
  next(id: string, timeoutMs = 5000): Promise<AckMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ACK for '${id}' within ${timeoutMs} ms; acks so far: ${JSON.stringify(this.acks)}`)), timeoutMs);
      this.waiters.push({
        id,
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
      });
    });
  }

  count(id: string): number {
    return this.acks.filter((a) => a.id === id).length;
  }

  stop(): void {
    this.server.off('ack', this.listener);
  }
}
