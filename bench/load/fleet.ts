import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeJson } from '../../src/transport/codec';
import { LogHistogram, type HistogramJson } from '../histogram';
import { nowNs } from '../proc-stats';
import { ReplyReader, type ReplySink } from './reply-reader';

/** Everything that went wrong, by kind (all are "errors" in the report). */
export interface FleetErrors {
  /** Socket failed before its LOGIN was answered. */
  connect: number;
  /** LOGIN answered ok:false, or not within the login timeout. */
  login: number;
  /** ERROR frames received. */
  errorFrames: number;
  kicked: number;
  /** A logged-in socket closed by the server or the network. */
  closed: number;
  /** Socket errors after login. */
  socket: number;
  badFrames: number;
  /** HEART replies nobody asked for. */
  unexpected: number;
  /** Heartbeats still unanswered when collected after the drain wait. */
  lost: number;
  /** A client had more heartbeats in flight than it can track. */
  overflow: number;
}

export interface FleetStats {
  connections: number;
  sent: number;
  received: number;
  rtt: HistogramJson;
  errors: FleetErrors;
  /** The first few error messages, to say what went wrong. */
  errorSamples: string[];
}

export interface ConnectSpec {
  host: string;
  port: number;
  /** Source address (any 127.x.y.z works on Linux), so each worker has its own ephemeral ports. */
  localAddress?: string;
  clientIds: string[];
  /** Connects in flight at once (the server's accept backlog is 511). @default 128 */
  concurrency?: number;
  /** @default 30000 */
  loginTimeoutMs?: number;
}

const HEART = encodeJson('length', '{"type":"HEART"}');
const HEART_ANSWER = encodeJson('length', '{"type":"HEART","ok":true}');
/** Most heartbeats one client keeps in flight (S3 uses 32). */
const RING = 256;
const HEART_BATCH = Buffer.concat(Array.from({ length: RING }, () => HEART));
const MAX_ERROR_SAMPLES = 10;
/**
 * Steady-mode scheduler tick. Short on purpose: at 10 ms, 10,000 clients × 1/s
 * arrived as bursts of 100 heartbeats, and the last of each burst waited for
 * the server to get through the other 99 (p50 RTT of ~2.5 ms for the baseline
 * itself); a real fleet's heartbeats are spread out.
 */
const TICK_MS = 1;

function noErrors(): FleetErrors {
  return { connect: 0, login: 0, errorFrames: 0, kicked: 0, closed: 0, socket: 0, badFrames: 0, unexpected: 0, lost: 0, overflow: 0 };
}

/** One client connection: its socket and the send times of its heartbeats in flight (FIFO: replies come in order). */
class Client implements ReplySink {
  readonly reader = new ReplyReader();
  readonly sentAt = new Float64Array(RING);
  head = 0;
  inFlight = 0;
  loggedIn = false;
  closing = false;
  repliesInChunk = 0;
  onLogin: ((ok: boolean) => void) | undefined;

  constructor(
    private readonly fleet: Fleet,
    readonly clientId: string,
    readonly socket: Socket,
  ) {}

  sendHearts(k: number, now: number): void {
    if (this.inFlight + k > RING) {
      this.fleet.errors.overflow++;
      k = RING - this.inFlight;
      if (k <= 0) return;
    }
    this.socket.write(k === 1 ? HEART : HEART_BATCH.subarray(0, k * HEART.length));
    for (let i = 0; i < k; i++) this.sentAt[(this.head + this.inFlight + i) % RING] = now;
    this.inFlight += k;
    this.fleet.sent += k;
  }

  onData(chunk: Buffer): void {
    const fleet = this.fleet;
    fleet.chunkAt = nowNs();
    this.repliesInChunk = 0;
    this.reader.push(chunk, this);
    if (fleet.inflightTarget > 0 && this.repliesInChunk > 0) this.sendHearts(this.repliesInChunk, fleet.chunkAt);
  }

  onHeartOk(): void {
    const fleet = this.fleet;
    if (this.inFlight === 0) {
      fleet.errors.unexpected++;
      return;
    }
    fleet.rtt.record(fleet.chunkAt - this.sentAt[this.head]);
    this.head = (this.head + 1) % RING;
    this.inFlight--;
    this.repliesInChunk++;
    fleet.received++;
    if (fleet.roundPending > 0 && --fleet.roundPending === 0) fleet.roundDone?.();
  }

  onEmptyFrame(): void {
    this.fleet.errors.unexpected++;
  }

  onBadFrame(detail: string): void {
    this.fleet.error('badFrames', `${this.clientId}: ${detail}`);
  }

  onMessage(message: Record<string, unknown>): void {
    const fleet = this.fleet;
    switch (message.type) {
      case 'LOGIN':
        if (message.ok === true) {
          this.loggedIn = true;
          this.onLogin?.(true);
        } else {
          fleet.error('login', `${this.clientId}: LOGIN refused: ${JSON.stringify(message.error)}`);
          this.onLogin?.(false);
        }
        this.onLogin = undefined;
        return;
      case 'HEART':
        // The server's own probe (it had sent us nothing for SERVER_PING_MS): answer it.
        if (message.ok === undefined) this.socket.write(HEART_ANSWER);
        return;
      case 'CMD':
        if (fleet.cmdArmed) fleet.cmdTimes.push(fleet.chunkAt);
        this.socket.write(encodeJson('length', JSON.stringify({ type: 'ACK', id: message.id, ok: true })));
        return;
      case 'ERROR':
        fleet.error('errorFrames', `${this.clientId}: ERROR ${String(message.code)}: ${String(message.message)}`);
        return;
      case 'KICK':
        fleet.error('kicked', `${this.clientId}: KICK ${String(message.reason)}`);
        return;
    }
  }
}

/**
 * The clients one load-generator process holds, and what they do: log in,
 * heartbeat at a steady rate or keep N heartbeats in flight, answer CMDs,
 * and record every heartbeat's round trip (monotonic clock) in a histogram.
 */
export class Fleet {
  readonly clients: Client[] = [];
  readonly rtt = new LogHistogram();
  errors = noErrors();
  readonly errorSamples: string[] = [];
  sent = 0;
  received = 0;
  /** hrtime of the chunk being handled (one clock read per read, not per frame). */
  chunkAt = 0;
  /** Throughput mode: heartbeats each client keeps in flight (0: off). */
  inflightTarget = 0;
  cmdArmed = false;
  cmdTimes: number[] = [];
  roundPending = 0;
  roundDone: (() => void) | undefined;
  private steadyTimer: NodeJS.Timeout | undefined;

  error(kind: keyof FleetErrors, detail: string): void {
    this.errors[kind]++;
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push(`${kind}: ${detail}`);
  }

  /** Connects and logs in every id; resolves with how many made it. */
  async connect(spec: ConnectSpec): Promise<{ loggedIn: number; failed: number }> {
    const ids = spec.clientIds;
    let next = 0;
    let loggedIn = 0;
    const runner = async () => {
      while (next < ids.length) {
        if (await this.connectOne(spec, ids[next++])) loggedIn++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(ids.length, spec.concurrency ?? 128) }, runner));
    return { loggedIn, failed: ids.length - loggedIn };
  }

  private connectOne(spec: ConnectSpec, clientId: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: spec.host, port: spec.port, localAddress: spec.localAddress });
      socket.setNoDelay(true);
      const client = new Client(this, clientId, socket);
      let settled = false;
      const finish = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) {
          this.clients.push(client);
        } else {
          client.closing = true;
          socket.destroy();
        }
        resolve(ok);
      };
      const timer = setTimeout(() => {
        this.error('login', `${clientId}: no LOGIN answer within ${spec.loginTimeoutMs ?? 30000} ms`);
        finish(false);
      }, spec.loginTimeoutMs ?? 30000);
      client.onLogin = finish;
      socket.on('connect', () => socket.write(encodeJson('length', JSON.stringify({ type: 'LOGIN', clientId }))));
      socket.on('data', (chunk: Buffer) => client.onData(chunk));
      socket.on('error', (error) => {
        if (client.closing) return;
        if (!client.loggedIn) this.error('connect', `${clientId}: ${error.message}`);
        else this.error('socket', `${clientId}: ${error.message}`);
        finish(false);
      });
      socket.on('close', () => {
        if (!client.closing && client.loggedIn) this.error('closed', `${clientId}: closed by the server`);
        client.closing = true;
        finish(false);
      });
    });
  }

  /** Every client sends `hz` heartbeats per second, spread evenly over the period; 0 stops. */
  steady(hz: number): void {
    if (this.steadyTimer) clearInterval(this.steadyTimer);
    this.steadyTimer = undefined;
    if (hz <= 0) return;
    const slots = Math.max(1, Math.round(1000 / hz / TICK_MS));
    const started = performance.now();
    let tick = 0;
    this.steadyTimer = setInterval(() => {
      // Catch up on ticks a late timer missed, so the rate holds.
      const due = Math.floor((performance.now() - started) / TICK_MS);
      const clients = this.clients;
      for (; tick <= due; tick++) {
        for (let i = tick % slots; i < clients.length; i += slots) {
          if (!clients[i].closing) clients[i].sendHearts(1, nowNs());
        }
      }
    }, TICK_MS);
  }

  /** Every client keeps `inflight` heartbeats outstanding (a reply is answered with a new heartbeat); 0 stops. */
  throughput(inflight: number): void {
    this.inflightTarget = inflight;
    const now = nowNs();
    for (const c of this.clients) if (!c.closing && c.inFlight < inflight) c.sendHearts(inflight - c.inFlight, now);
  }

  /** One heartbeat from every client; resolves once all are answered. */
  heartRound(timeoutMs = 60000): Promise<number> {
    const live = this.clients.filter((c) => !c.closing);
    if (live.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`heart round: ${this.roundPending} of ${live.length} replies missing after ${timeoutMs} ms`)), timeoutMs);
      this.roundPending = live.length;
      this.roundDone = () => {
        clearTimeout(timer);
        this.roundDone = undefined;
        resolve(live.length);
      };
      const now = nowNs();
      for (const c of live) c.sendHearts(1, now);
    });
  }

  armCommands(): void {
    this.cmdArmed = true;
    this.cmdTimes = [];
  }

  /** Closes the first `count` clients without BYE (their records go to `leave`). */
  disconnect(count: number): number {
    const gone = this.clients.splice(0, count);
    for (const c of gone) {
      c.closing = true;
      c.socket.destroy();
    }
    return gone.length;
  }

  resetStats(): void {
    this.rtt.reset();
    this.sent = 0;
    this.received = 0;
  }

  /** Stats so far; with drainMs, first waits up to that long for the heartbeats in flight to be answered. */
  async collect(drainMs = 0): Promise<FleetStats> {
    const deadline = performance.now() + drainMs;
    while (drainMs > 0 && performance.now() < deadline && this.clients.some((c) => c.inFlight > 0 && !c.closing)) await sleep(10);
    if (drainMs > 0) {
      let lost = 0;
      for (const c of this.clients) if (!c.closing) lost += c.inFlight;
      this.errors.lost = lost;
    }
    return {
      connections: this.clients.filter((c) => !c.closing).length,
      sent: this.sent,
      received: this.received,
      rtt: this.rtt.toJSON(),
      errors: { ...this.errors },
      errorSamples: [...this.errorSamples],
    };
  }

  close(): void {
    this.steady(0);
    this.inflightTarget = 0;
    for (const c of this.clients) {
      c.closing = true;
      c.socket.destroy();
    }
    this.clients.length = 0;
  }
}
