import * as http from 'node:http';
import { firstValueFrom, filter, Observable, timeout } from 'rxjs';
import request from 'supertest';
import type { TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';

export const TOKEN = 'test-admin-token';

/** supertest bound to the gateway's HTTP port, with (or without) the admin token. */
export function api(gw: TestGateway, token: string | undefined = TOKEN) {
  const agent = request(gw.httpUrl);
  const withAuth = <T extends request.Test>(t: T): T => (token === undefined ? t : (t.set('Authorization', `Bearer ${token}`) as T));
  return {
    get: (path: string) => withAuth(agent.get(path)),
    post: (path: string) => withAuth(agent.post(path)),
    delete: (path: string) => withAuth(agent.delete(path)),
  };
}

/** A RawClient logged in as `clientId`. */
export async function loggedIn(gw: TestGateway, clientId: string, meta?: Record<string, unknown>): Promise<RawClient> {
  const client = await RawClient.connect(gw.tcpPort);
  const reply = await client.login(clientId, meta ? { meta } : {});
  if (reply.ok !== true) throw new Error(`LOGIN of ${clientId} refused: ${JSON.stringify(reply)}`);
  return client;
}

/** The first value of `source` that matches, or a clear failure after `ms`. */
export function first<T>(source: Observable<T>, match: (v: T) => boolean, ms = 5000): Promise<T> {
  return firstValueFrom(source.pipe(filter(match), timeout({ first: ms, with: () => { throw new Error(`no matching value within ${ms} ms`); } })));
}

export interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** A raw `GET /events` listener: parses the stream and lets a test await events. */
export class SseClient {
  readonly events: SseEvent[] = [];
  private waiters: Array<{ match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
  private buffer = '';
  private constructor(
    readonly req: http.ClientRequest,
    readonly res: http.IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.onData(chunk));
    res.on('error', () => undefined);
  }

  static open(gw: TestGateway, path = '/events', token: string | undefined = TOKEN, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${gw.httpUrl}${path}`, { headers: { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${path}: ${res.statusCode}`));
          res.resume();
          return;
        }
        resolve(new SseClient(req, res));
      });
      req.on('error', reject);
    });
  }

  /** Next event (already received and not taken, or from now on) that matches. */
  next(match: (e: SseEvent) => boolean, ms = 5000): Promise<SseEvent> {
    const i = this.events.findIndex(match);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: SseEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching SSE event within ${ms} ms; got ${JSON.stringify(this.events)}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** Next `event: <type>` whose JSON data matches. */
  async nextData<T = Record<string, unknown>>(type: string, match: (data: T) => boolean = () => true, ms?: number): Promise<T> {
    const e = await this.next((ev) => ev.event === type && ev.data !== undefined && match(JSON.parse(ev.data) as T), ms);
    return JSON.parse(e.data as string) as T;
  }

  close(): void {
    this.req.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) event.comment = line.slice(1).trim();
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('data: ')) event.data = (event.data === undefined ? '' : `${event.data}\n`) + line.slice(6);
      }
      if (event.event === undefined && event.data === undefined && event.comment === undefined) continue;
      const i = this.waiters.findIndex((w) => w.match(event));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(event);
      else this.events.push(event);
    }
  }
}
