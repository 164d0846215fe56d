import type * as net from 'node:net';
import type { LongLinkConfig } from '../config';
import { ErrorCode } from '../protocol';
import { detectFraming, encodeJson, Framing } from './codec';
import type { AdmissionControl } from '../admission/admission-control';
import type { TransportStats } from './transport-stats';

/** Sockets refused because the server is full wait at most this long for a first byte (it tells their framing). */
const FULL_REJECT_WAIT_MS = 1000;
/** At most this many refused sockets wait for it; beyond, SERVER_FULL goes at once in the default framing. */
const FULL_REJECT_MAX_PENDING = 64;
/** A refused socket is destroyed this long after its SERVER_FULL was written (a peer that never reads). */
const FULL_REJECT_FLUSH_MS = 500;

/**
 * Who gets in: nobody while shutting down, nobody past MAX_CONNECTIONS (they
 * get SERVER_FULL in the framing they speak). It also tracks the sockets
 * that are not (or not yet) a Connection, so shutdown can end them.
 */
export class AdmissionGate {
  /**
   * Sockets that are not (or not yet) a Connection: TLS handshakes under way,
   * refused ones still flushing SERVER_FULL. Plain accepted sockets are not
   * tracked here: they are Connections from the first tick.
   */
  private readonly loose = new Set<net.Socket>();
  private pendingRejects = 0;

  constructor(
    private readonly config: LongLinkConfig,
    private readonly stats: TransportStats,
    private readonly control: AdmissionControl,
  ) {}

  /** True when the socket may become a Connection; otherwise the gate has dealt with it. */
  admit(socket: net.Socket, open: number, shuttingDown: boolean, tlsTracked: boolean): boolean {
    if (shuttingDown) {
      socket.destroy();
      return false;
    }
    if (open >= this.config.maxConnections) {
      this.stats.rejectedFull++;
      this.refuse(socket, tlsTracked, ErrorCode.SERVER_FULL, `server holds MAX_CONNECTIONS (${this.config.maxConnections}) connections`);
      return false;
    }
    // CONNECT_RATE_PER_IP: refused before it costs a Connection, answered like SERVER_FULL.
    const rateLimited = this.control.admitSocket(normaliseAddress(socket.remoteAddress));
    if (rateLimited !== undefined) {
      this.refuse(socket, tlsTracked, ErrorCode.RATE_LIMITED, rateLimited);
      return false;
    }
    return true;
  }

  /** A socket that is no Connection yet (a TLS handshake): tracked so shutdown can end it. */
  trackLoose(socket: net.Socket): void {
    this.loose.add(socket);
    socket.once('close', () => this.loose.delete(socket));
  }

  /** Ends every loose socket (they would hold server.close() open). */
  destroyLoose(): void {
    for (const socket of this.loose) socket.destroy();
  }

  /**
   * One socket refused (over MAX_CONNECTIONS, or CONNECT_RATE_PER_IP):
   * answer `ERROR code` in the framing the client speaks (its first byte
   * tells), then close. Bounded, so a flood of connects cannot hold file
   * descriptors here.
   */
  private refuse(socket: net.Socket, tlsTracked: boolean, code: string, message: string): void {
    if (!tlsTracked) this.trackLoose(socket); // TLS ones are tracked since 'connection'
    socket.on('error', () => undefined);
    const answer = (framing: Framing) => {
      if (socket.destroyed) return;
      socket.end(encodeJson(framing, JSON.stringify({ type: 'ERROR', code, message })));
      // Whatever else the client sends is read and dropped: unread bytes at close would mean an RST,
      // which can reach the client before our answer does.
      socket.resume();
      setTimeout(() => socket.destroy(), FULL_REJECT_FLUSH_MS).unref();
    };
    if (this.pendingRejects >= FULL_REJECT_MAX_PENDING) {
      // Too many refused sockets waiting already: answer at once, in the default framing.
      answer('length');
      return;
    }
    this.pendingRejects++;
    let done = false;
    const finish = (framing: Framing) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.pendingRejects--;
      socket.removeListener('data', onFirstData);
      answer(framing);
    };
    const onFirstData = (chunk: Buffer) => finish(detectFraming(chunk[0]));
    const timer = setTimeout(() => finish('length'), FULL_REJECT_WAIT_MS);
    timer.unref();
    // Same rule as the decoder: a length header starts with 0x00, which is not whitespace.
    socket.once('data', onFirstData);
    socket.on('close', () => finish('length'));
  }
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
