import type { MsgMessage } from '../protocol';
import { ClientClosedError, ConnectionLostError, QueueFullError, RequestTimeoutError } from './client-errors';
import type { ClientSocket } from './client-socket';

interface PendingRequest {
  pattern: string;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** The socket it was written on; undefined while queued. */
  sentOn: ClientSocket | undefined;
}

/**
 * The client's outbound MSGs: written at once on the live socket, or held in
 * a bounded queue until the next LOGIN, and the requests waiting for their
 * reply. Nothing is dropped silently: a frame beyond the bound is refused
 * with QueueFullError, and every waiting request ends in a reply, a timeout,
 * ConnectionLostError or ClientClosedError.
 */
export class Outbox {
  private readonly queue: MsgMessage[] = [];
  private readonly pending = new Map<string, PendingRequest>();
  private nextId = 1;

  constructor(
    private readonly maxQueued: number,
    private readonly requestTimeoutMs: number,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /**
   * `live` is the socket when the client is online. Returns the socket the
   * frame was written on, or undefined when it was queued; throws
   * QueueFullError when it can be neither. A socket that is already ending
   * (after a KICK) refuses the write, so the frame waits for the next
   * connection instead of vanishing.
   */
  post(message: MsgMessage, what: string, live: ClientSocket | undefined, status: string): ClientSocket | undefined {
    if (live !== undefined && live.send(message)) return live;
    if (this.queue.length >= this.maxQueued) throw new QueueFullError(what, this.queue.length, status);
    this.queue.push(message);
    return undefined;
  }

  /** post() a MSG with an id and wait for its reply, at most requestTimeoutMs from now. */
  request<T>(pattern: string, data: unknown, live: ClientSocket | undefined, status: string): Promise<T> {
    const id = `r${this.nextId++}`;
    const message: MsgMessage = { type: 'MSG', pattern, id, data };
    return new Promise<T>((resolve, reject) => {
      let sentOn: ClientSocket | undefined;
      try {
        sentOn = this.post(message, `send('${pattern}')`, live, status);
      } catch (error) {
        reject(error);
        return;
      }
      const timeoutMs = this.requestTimeoutMs;
      const timer = setTimeout(() => {
        const request = this.pending.get(id);
        if (request === undefined) return;
        this.pending.delete(id);
        // Still queued: take it out, nobody waits for it any more.
        if (request.sentOn === undefined) this.unqueue(message);
        reject(new RequestTimeoutError(pattern, timeoutMs, request.sentOn !== undefined));
      }, timeoutMs);
      this.pending.set(id, { pattern, resolve: resolve as (d: unknown) => void, reject, timer, sentOn });
    });
  }

  /** Writes everything queued on the socket of a fresh LOGIN, in order. */
  flush(socket: ClientSocket): void {
    for (const message of this.queue) {
      socket.send(message);
      const request = message.id === undefined ? undefined : this.pending.get(message.id);
      if (request !== undefined) request.sentOn = socket;
    }
    this.queue.length = 0;
  }

  /** Takes the request a reply (or an ERROR with an id) answers; undefined when nobody waits for it any more. */
  take(id: string): { pattern: string; resolve: (data: unknown) => void; reject: (error: Error) => void } | undefined {
    const request = this.pending.get(id);
    if (request === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(request.timer);
    return request;
  }

  /** The connection ended: requests written on it can't get their reply any more; queued ones wait on. */
  connectionLost(reason: string): void {
    for (const [id, request] of this.pending) {
      if (request.sentOn === undefined) continue;
      this.pending.delete(id);
      clearTimeout(request.timer);
      request.reject(new ConnectionLostError(request.pattern, reason));
    }
  }

  /** The client closed: every request fails and the queue is emptied. */
  close(reason: string): void {
    this.connectionLost(reason);
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      request.reject(new ClientClosedError(`send('${request.pattern}')`, reason));
    }
    this.pending.clear();
    this.queue.length = 0;
  }

  private unqueue(message: MsgMessage): void {
    const i = this.queue.indexOf(message);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
