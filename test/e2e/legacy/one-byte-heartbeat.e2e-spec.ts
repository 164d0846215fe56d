import { once } from 'node:events';
import * as net from 'node:net';
import { Controller, Module } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { oneByteHeartbeatCodec } from '../../../examples/codecs/one-byte-heartbeat.codec';
import { LongLinkContext } from '../../../src/transport/long-link.context';
import { PresenceService } from '../../../src/presence/presence.service';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { api, first, TOKEN } from '../admin/admin-helpers';

/**
 * Issue 9 §2: a fleet's own binary protocol (one byte 0x01 as heartbeat,
 * uint32 length + JSON body for data) served unmodified through an app's
 * codec (examples/codecs/one-byte-heartbeat.codec.ts), over a real socket.
 */

const seen: Array<{ data: unknown; clientId: string }> = [];

@Controller()
class BinaryDeviceController {
  @MessagePattern('reading')
  reading(@Payload() data: unknown, @Ctx() ctx: LongLinkContext) {
    seen.push({ data, clientId: ctx.clientId });
    return { stored: true };
  }
}

@Module({ controllers: [BinaryDeviceController] })
class BinaryDeviceModule {}

/** The client's data frame: uint32 BE length + JSON body. */
function frame(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Reads the gateway's answers in the codec's framing: 0x01 heartbeats and length frames. */
class BinaryPeer {
  private buffered = Buffer.alloc(0);
  heartbeats = 0;
  readonly messages: Array<Record<string, unknown>> = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  private onData(d: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, d]);
    for (;;) {
      if (this.buffered.length > 0 && this.buffered[0] === 0x01) {
        this.heartbeats++;
        this.buffered = this.buffered.subarray(1);
      } else if (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readUInt32BE(0)) {
        const n = this.buffered.readUInt32BE(0);
        this.messages.push(JSON.parse(this.buffered.subarray(4, 4 + n).toString()));
        this.buffered = this.buffered.subarray(4 + n);
      } else return;
    }
  }

  async next(type: string): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.messages.findIndex((m) => m.type === type);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

describe('the one-byte-heartbeat example codec, over a real socket', () => {
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
  });

  it('0x01 heartbeats keep the client alive; a data frame reaches a @MessagePattern handler', async () => {
    // One silent 200 ms window would mean leave (heartbeats every 20 ms leave ample slack on a loaded machine).
    gw = await startTestGateway(
      { ADMIN_TOKEN: TOKEN, HEARTBEAT_MS: 200, CURSOR_START: 0, CURSOR_LIMIT: 1, LEAVE_STRIKES: 1, RECOVER_WINDOWS: 1 },
      { codec: oneByteHeartbeatCodec, extraModules: [BinaryDeviceModule] },
    );
    const socket = net.connect(gw.tcpPort, '127.0.0.1');
    await once(socket, 'connect');
    const peer = new BinaryPeer(socket);
    const presence = gw.app.get(PresenceService);
    const leaves: string[] = [];
    const sub = presence.events$.subscribe((e) => {
      if (e.clientId === 'bin-1' && e.to === 'leave') leaves.push(e.to);
    });

    socket.write(frame({ type: 'LOGIN', clientId: 'bin-1' }));
    expect(await peer.next('LOGIN')).toMatchObject({ type: 'LOGIN', ok: true });

    // Heartbeats as the fleet sends them: single 0x01 bytes, for 3 windows.
    const heartsBefore = gw.server.stats.heartbeats;
    for (let i = 0; i < 30; i++) {
      socket.write(Buffer.from([0x01]));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(gw.server.stats.heartbeats - heartsBefore).toBe(30);
    expect(peer.heartbeats).toBe(30); // each answered with one 0x01
    expect(leaves).toEqual([]);
    const record = await api(gw).get('/clients/bin-1').expect(200);
    expect(record.body).toMatchObject({ status: 'alive', connected: true });

    // A data frame (split across writes, after a heartbeat in the same write) to the app's handler.
    const data = frame({ type: 'MSG', pattern: 'reading', id: 'r1', data: { t: 21.5 } });
    socket.write(Buffer.concat([Buffer.from([0x01]), data.subarray(0, 3)]));
    await new Promise((r) => setTimeout(r, 5));
    socket.write(data.subarray(3));
    expect(await peer.next('MSG')).toEqual({ type: 'MSG', id: 'r1', ok: true, data: { stored: true } });
    expect(seen).toEqual([{ data: { t: 21.5 }, clientId: 'bin-1' }]);

    // The control: once the heartbeats stop, the same settings make it leave.
    const left = first(presence.events$, (e) => e.clientId === 'bin-1' && e.to === 'leave');
    expect(await left).toMatchObject({ from: 'alive', to: 'leave' });
    sub.unsubscribe();
    socket.destroy();
  });

  it('four 0x01 bytes are four heartbeats, not a 16 MiB header; a bad data frame gets ERROR and the socket stays', async () => {
    gw = await startTestGateway({}, { codec: oneByteHeartbeatCodec });
    const socket = net.connect(gw.tcpPort, '127.0.0.1');
    await once(socket, 'connect');
    const peer = new BinaryPeer(socket);
    socket.write(frame({ type: 'LOGIN', clientId: 'bin-2' }));
    await peer.next('LOGIN');
    socket.write(Buffer.from([1, 1, 1, 1]));
    while (peer.heartbeats < 4) await new Promise((r) => setTimeout(r, 5));
    const body = Buffer.from('{not json');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    socket.write(Buffer.concat([header, body]));
    expect(await peer.next('ERROR')).toMatchObject({ type: 'ERROR', code: 'BAD_JSON' });
    socket.write(Buffer.from([1]));
    while (peer.heartbeats < 5) await new Promise((r) => setTimeout(r, 5));
    expect(gw.server.getConnection('bin-2')?.closed).toBe(false);
    socket.destroy();
  });
});
