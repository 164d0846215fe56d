import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import { QueueFullError, CommandTooLargeError } from '../../../src/commands/command.errors';
import { CommandService } from '../../../src/commands/command.service';
import type { CommandEvent } from '../../../src/commands/command.types';
import { MemoryCommandStore } from '../../../src/commands/memory-command.store';
import { FakeClock } from '../../../src/common/clock';
import type { CmdFrame, CommandDelivery } from '../../../src/common/ports';
import { configFrom } from '../../../src/config';
import type { PresenceService } from '../../../src/presence/presence.service';
import type { ClientFilter, ClientRecord, PresenceStatus, SessionEvent } from '../../../src/presence/presence.types';
import { cmdJson } from '../../../src/protocol/cmd-frame';
import type { SessionView, TransportSessions } from '../../../src/transport/session-view';
import type { LongLinkEvents } from '../../../src/transport/transport.events';

/** A client's session that keeps what was written to it (one JSON text per frame). */
class FakeConnection {
  closed = false;
  typeKey: 'type' | 'code' = 'type';
  readonly raw: string[] = [];
  constructor(readonly clientId: string) {}
  close(): void {
    this.closed = true;
  }
  get frames(): Array<Record<string, unknown>> {
    return this.raw.map((json) => JSON.parse(json));
  }
}

/** The transport as commands see it: CommandDelivery to the live sessions, and the ACK events. */
class FakeGateway implements CommandDelivery, TransportSessions {
  framesOut = 0;
  private readonly events = new EventEmitter();
  private readonly conns = new Map<string, FakeConnection>();
  readonly sessionEvents = new Subject<SessionEvent>();
  connect(clientId: string): FakeConnection {
    const conn = new FakeConnection(clientId);
    this.conns.get(clientId)?.close();
    this.conns.set(clientId, conn);
    return conn;
  }
  drop(clientId: string): void {
    this.conns.get(clientId)?.close();
    this.conns.delete(clientId);
  }
  /** What presence reports after a LOGIN. */
  login(conn: FakeConnection): void {
    this.sessionEvents.next({ clientId: conn.clientId, sessionId: 's', epoch: 1, at: 0 });
  }
  ack(conn: FakeConnection, id: string, ok = true): void {
    this.events.emit('ack', { clientId: conn.clientId, sessionId: 's', ack: { type: 'ACK', id, ok } });
  }
  // CommandDelivery
  isConnected(clientId: string): boolean {
    const conn = this.conns.get(clientId);
    return conn !== undefined && !conn.closed;
  }
  deliver(clientId: string, frames: readonly CmdFrame[]): boolean {
    const conn = this.conns.get(clientId);
    if (!conn || conn.closed) return false;
    for (const frame of frames) {
      conn.raw.push(cmdJson(conn.typeKey, frame.id, frame.body));
      this.framesOut++;
    }
    return true;
  }
  // TransportSessions
  on<K extends keyof LongLinkEvents>(event: K, listener: LongLinkEvents[K]): void {
    this.events.on(event, listener);
  }
  off<K extends keyof LongLinkEvents>(event: K, listener: LongLinkEvents[K]): void {
    this.events.off(event, listener);
  }
  session(): SessionView | undefined {
    return undefined;
  }
  sessionViews(): IterableIterator<SessionView> {
    return new Map<string, SessionView>().values();
  }
}
/** Presence as far as commands ask it: which clients match (all, or the named ones), and one client's status. */
class FakePresence {
  readonly statuses = new Map<string, PresenceStatus>();
  constructor(readonly sessions$: Subject<SessionEvent>) {}
  async matchingIds(filter: ClientFilter = {}): Promise<string[]> {
    return [...this.statuses.keys()].filter((id) => !filter.clientIds || filter.clientIds.includes(id)).sort();
  }
  async get(clientId: string): Promise<ClientRecord | undefined> {
    const status = this.statuses.get(clientId);
    return status && ({ clientId, status, closeReason: status === 'close' ? 'logout' : null } as ClientRecord);
  }
}

/** Everything queued as microtasks (the memory store answers in those) has run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('CommandService (fakes around a real MemoryCommandStore)', () => {
  let clock: FakeClock;
  let store: MemoryCommandStore;
  let server: FakeGateway;
  let presence: FakePresence;
  let service: CommandService;

  const start = (env: Record<string, string | number> = {}) => {
    clock = new FakeClock();
    store = new MemoryCommandStore();
    server = new FakeGateway();
    presence = new FakePresence(server.sessionEvents);
    service = new CommandService(configFrom(env), clock, store, server, server, presence as unknown as PresenceService);
    service.onModuleInit();
  };
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => service.onModuleDestroy());

  /** A known client with a live connection. */
  const online = (clientId: string) => {
    presence.statuses.set(clientId, 'alive');
    return server.connect(clientId);
  };

  it('writes each live client its CMD before broadcast resolves, with one store call for the batch', async () => {
    start({ COMMAND_TTL_MS: 60_000 });
    const [a, b, c] = ['a', 'b', 'c'].map(online);
    c.typeKey = 'code';
    presence.statuses.set('d', 'leave');
    presence.statuses.set('e', 'close');
    const methods = ['insert', 'insertMany', 'update', 'transition', 'get', 'pending'] as const;
    const spies = methods.map((m) => jest.spyOn(store, m));

    const result = await service.broadcast({}, 'cfg', { v: 1, text: 'é\n' });

    expect(result).toEqual({ batchId: expect.any(String), count: 4, skipped: { closed: 1, unknown: 0, queueFull: 0 } });
    expect(methods.map((m, i) => [m, spies[i].mock.calls.length])).toEqual([
      ['insert', 0],
      ['insertMany', 1],
      ['update', 0],
      ['transition', 0],
      ['get', 0],
      ['pending', 0],
    ]);
    const listed = (await store.list({ batchId: result.batchId }, {})).items;
    expect(listed.map((r) => [r.clientId, r.status, r.attempts])).toEqual([
      ['a', 'sent', 1],
      ['b', 'sent', 1],
      ['c', 'sent', 1],
      ['d', 'queued', 0],
    ]);
    // Byte for byte the frame JSON.stringify writes, under each connection's type key.
    for (const [conn, key] of [[a, 'type'], [b, 'type'], [c, 'code']] as const) {
      const command = listed.find((r) => r.clientId === conn.clientId);
      expect(conn.raw).toEqual([JSON.stringify({ [key]: 'CMD', id: command?.id, name: 'cfg', data: { v: 1, text: 'é\n' }, expiresAt: clock.now() + 60_000 })]);
    }
    expect(server.framesOut).toBe(3);
  });

  it('records an ACK in one store round trip; a stray ACK is counted and changes nothing', async () => {
    start();
    const a = online('a');
    const b = online('b');
    const command = await service.send('a', 'reboot');
    const [id] = a.frames.map((f) => f.id as string);
    expect(id).toBe(command.id);
    const transition = jest.spyOn(store, 'transition');
    const get = jest.spyOn(store, 'get');

    server.ack(b, id);
    await settled();
    expect(service.strayAcks).toBe(1);
    expect((await store.get(id))?.status).toBe('sent');

    transition.mockClear();
    get.mockClear();
    server.ack(a, id);
    await settled();
    expect(transition).toHaveBeenCalledTimes(1);
    expect(get).not.toHaveBeenCalled();
    expect(await store.get(id)).toMatchObject({ status: 'acked', ackedAt: clock.now() });
  });

  it('emits one event per status change, in order, and counts them when nobody listens', async () => {
    start();
    const a = online('a');
    online('b');
    await service.broadcast({}, 'unheard');
    expect(service.transitionCounts).toMatchObject({ queued: 2, sent: 2 });

    const events: CommandEvent[] = [];
    const subscription = service.events$.subscribe((e) => events.push(e));
    const { batchId } = await service.broadcast({ clientIds: ['a'] }, 'heard');
    const id = a.frames[1].id as string;
    server.ack(a, id);
    await settled();
    subscription.unsubscribe();
    expect(events.map((e) => [e.id, e.from, e.to, e.batchId])).toEqual([
      [id, null, 'queued', batchId],
      [id, 'queued', 'sent', batchId],
      [id, 'sent', 'acked', batchId],
    ]);
    expect(service.transitionCounts).toMatchObject({ queued: 3, sent: 3, acked: 1 });
  });

  it('gives a client whose LOGIN flush is still running the broadcast behind its queued commands', async () => {
    start();
    presence.statuses.set('z', 'leave');
    await service.send('z', 'old-1');
    await service.send('z', 'old-2');
    // Hold the flush inside the store until the broadcast has been stored.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pending = store.pending.bind(store);
    jest.spyOn(store, 'pending').mockImplementation(async (clientId) => {
      await gate;
      return pending(clientId);
    });
    const z = server.connect('z');
    server.login(z);
    const broadcast = service.broadcast({ clientIds: ['z'] }, 'new');
    await settled();
    // Not written past the flush: that would put 'new' before 'old-1'.
    expect(z.frames).toEqual([]);
    release();
    expect((await broadcast).count).toBe(1);
    expect(z.frames.map((f) => f.name)).toEqual(['old-1', 'old-2', 'new']);
  });

  it('keeps a command sent whose client dropped before the write, and sends it again at the next LOGIN', async () => {
    start();
    online('a');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const insertMany = store.insertMany.bind(store);
    jest.spyOn(store, 'insertMany').mockImplementation(async (commands, max) => {
      const results = await insertMany(commands, max);
      await gate;
      return results;
    });
    const sending = service.send('a', 'sync');
    await settled();
    server.drop('a');
    release();
    const command = await sending;
    expect(command).toMatchObject({ status: 'sent', attempts: 1 });

    const back = server.connect('a');
    server.login(back);
    await settled();
    expect(back.frames).toEqual([expect.objectContaining({ id: command.id, name: 'sync' })]);
    expect(await store.get(command.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('skips a live client at MAX_QUEUED_COMMANDS without writing to it; send() refuses with 429 details', async () => {
    start({ MAX_QUEUED_COMMANDS: 1 });
    const a = online('a');
    online('b');
    await service.send('a', 'unacked');
    const result = await service.broadcast({}, 'more');
    expect(result).toMatchObject({ count: 1, skipped: { queueFull: 1 } });
    expect(a.frames.map((f) => f.name)).toEqual(['unacked']);
    await expect(service.send('a', 'again')).rejects.toThrow(new QueueFullError('a', 1, 1));
  });

  it('refuses data too large for a frame before storing or writing anything', async () => {
    start({ MAX_FRAME_BYTES: 256 });
    const a = online('a');
    await expect(service.broadcast({}, 'big', 'x'.repeat(300))).rejects.toBeInstanceOf(CommandTooLargeError);
    expect((await store.list({}, {})).total).toBe(0);
    expect(a.raw).toEqual([]);
  });
});
