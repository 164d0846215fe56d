import { Socket, connect } from 'node:net';
import { RawClient } from '../../support/raw-client';

/** A RawClient that heartbeats on its own (every `everyMs`) so it stays alive under millisecond HEARTBEAT_MS. */
export class BeatingClient {
  private timer: NodeJS.Timeout | undefined;
  private constructor(readonly raw: RawClient) {}

  static async login(port: number, clientId: string, everyMs: number): Promise<BeatingClient> {
    const raw = await RawClient.connect(port, { framing: 'line' });
    const answer = await raw.login(clientId);
    if (answer.ok !== true) throw new Error(`LOGIN of ${clientId} refused: ${JSON.stringify(answer)}`);
    const c = new BeatingClient(raw);
    c.timer = setInterval(() => {
      if (!raw.closed) raw.send({ type: 'HEART' });
      // Replies are not read: drop them so a long test does not hoard them.
      for (let i = raw.frames.length - 1; i >= 0; i--) {
        const f = raw.frames[i];
        if (typeof f === 'object' && (f as Record<string, unknown>).type === 'HEART') raw.frames.splice(i, 1);
      }
    }, everyMs);
    return c;
  }

  close(): void {
    clearInterval(this.timer);
    this.raw.close();
  }
}

/**
 * Many cheap heartbeating clients on one socket each (line framing, replies
 * ignored): the load of the Redis-cost test. Counts the HEART frames sent.
 */
export class HeartbeatFleet {
  framesSent = 0;
  private readonly sockets: Socket[] = [];
  private timer: NodeJS.Timeout | undefined;

  async connect(port: number, ids: string[]): Promise<void> {
    await Promise.all(
      ids.map(
        (id) =>
          new Promise<void>((resolve, reject) => {
            const s = connect(port, '127.0.0.1', () => {
              s.write(JSON.stringify({ type: 'LOGIN', clientId: id }) + '\n');
              resolve();
            });
            s.on('data', () => undefined);
            s.once('error', reject);
            this.sockets.push(s);
          }),
      ),
    );
  }

  start(everyMs: number): void {
    const heart = JSON.stringify({ type: 'HEART' }) + '\n';
    this.timer = setInterval(() => {
      for (const s of this.sockets) {
        if (s.destroyed) continue;
        s.write(heart);
        this.framesSent++;
      }
    }, everyMs);
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.sockets) s.destroy();
  }
}
