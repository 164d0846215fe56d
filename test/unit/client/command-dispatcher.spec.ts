import { CommandDispatcher, CommandReceipt } from '../../../src/client/command-dispatcher';

const cmd = (id: string, name = 'echo', data: unknown = { n: 1 }) => ({ id, name, data, expiresAt: undefined });

async function ackOf(receipt: CommandReceipt) {
  if (receipt.kind !== 'new') throw new Error(`expected a new command, got ${receipt.kind}`);
  return receipt.done;
}

describe('CommandDispatcher', () => {
  it('turns a return value into ok:true and a thrown error into ok:false with its code', async () => {
    const d = new CommandDispatcher(10);
    d.register('echo', (data) => data);
    d.register('boom', () => {
      throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    });
    d.register('plain', async () => {
      throw new Error('nope');
    });
    expect(await ackOf(d.receive(cmd('1', 'echo', { a: 1 })))).toEqual({ type: 'ACK', id: '1', ok: true, result: { a: 1 } });
    expect(await ackOf(d.receive(cmd('2', 'boom')))).toEqual({ type: 'ACK', id: '2', ok: false, error: { code: 'ENOSPC', message: 'disk full' } });
    expect(await ackOf(d.receive(cmd('3', 'plain')))).toEqual({ type: 'ACK', id: '3', ok: false, error: { code: 'HANDLER_ERROR', message: 'nope' } });
  });

  it('answers an unknown name ok:false NO_HANDLER, naming the handlers it has', async () => {
    const d = new CommandDispatcher(10);
    d.register('echo', (x) => x);
    const ack = await ackOf(d.receive(cmd('1', 'reboot')));
    expect(ack).toEqual({ type: 'ACK', id: '1', ok: false, error: { code: 'NO_HANDLER', message: "no handler for command 'reboot' on this client (handlers: echo)" } });
  });

  it('an unserialisable result is a failed command, not a crash', async () => {
    const d = new CommandDispatcher(10);
    d.register('loop', () => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    });
    const ack = await ackOf(d.receive(cmd('1', 'loop')));
    expect(ack.ok).toBe(false);
    expect(ack.error?.message).toMatch(/^result of command 'loop' is not JSON-serialisable/);
  });

  it('runs a repeated id once: running while in progress, then the same ACK', async () => {
    const d = new CommandDispatcher(10);
    let runs = 0;
    let release!: () => void;
    d.register('slow', () => {
      runs++;
      return new Promise((r) => (release = () => r('done')));
    });
    const first = d.receive(cmd('x', 'slow'));
    expect(d.receive(cmd('x', 'slow'))).toEqual({ kind: 'running' });
    release();
    const ack = await ackOf(first);
    expect(d.receive(cmd('x', 'slow'))).toEqual({ kind: 'repeat', ack });
    expect(runs).toBe(1);
  });

  it('forgets the least recently seen ids beyond its bound', async () => {
    const d = new CommandDispatcher(3);
    let runs = 0;
    d.register('c', () => ++runs);
    for (const id of ['a', 'b', 'c']) await ackOf(d.receive(cmd(id, 'c')));
    expect(d.receive(cmd('a', 'c')).kind).toBe('repeat'); // 'a' is now the most recent
    await ackOf(d.receive(cmd('d', 'c'))); // evicts 'b'
    expect(d.receive(cmd('a', 'c')).kind).toBe('repeat');
    expect(d.receive(cmd('b', 'c')).kind).toBe('new');
    expect(runs).toBe(5);
  });

  it('refuses a second handler for the same name; the returned function unregisters', async () => {
    const d = new CommandDispatcher(10);
    const off = d.register('echo', (x) => x);
    expect(() => d.register('echo', (x) => x)).toThrow("a handler for 'echo' is already registered");
    off();
    expect(d.names).toEqual([]);
    expect(() => d.register('echo', (x) => x)).not.toThrow();
  });
});
