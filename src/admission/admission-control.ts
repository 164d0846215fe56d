import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { CLOCK, Clock } from '../common/clock';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { FlapDetector } from './flap-detector';
import { KeyedTokenBuckets } from './keyed-buckets';
import { LimitHits } from './limit-hits';
import { LogThrottle } from './log-throttle';
import { TokenBucket } from './token-bucket';

/** Source IPs, clientIds and hosts tracked at once by each detector. */
const MAX_TRACKED_KEYS = 100_000;

/** A connection's frame and byte budgets (undefined when that rate is off). */
export interface ConnectionRates {
  frames: TokenBucket | undefined;
  bytes: TokenBucket | undefined;
  /** Frames refused in a row; reset by one that passes. */
  strikes: number;
}

/** Why a frame was refused, or undefined when it passes. */
export type FrameRefusal = 'msg_rate' | 'byte_rate' | undefined;

/**
 * Admission control (docs/HARDENING.md): connects per source IP (token
 * bucket), logins per clientId and per peer host (flapping: too many in
 * FLAP_WINDOW_MS and the key is banned for FLAP_BAN_MS), and the frame and
 * byte budgets of each connection. Decides only; the transport answers.
 * Every refusal is counted (longlink_limit_hits_total) and logged through a
 * throttle, one line per reason per LOG_THROTTLE_MS.
 */
@Injectable()
export class AdmissionControl implements OnModuleDestroy {
  private readonly logger = new Logger('Admission');
  readonly log: LogThrottle;
  private readonly connects: KeyedTokenBuckets | undefined;
  private readonly clients: FlapDetector | undefined;
  private readonly hosts: FlapDetector | undefined;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  private newClients: ((clientId: string) => string | undefined) | undefined;

  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly hits: LimitHits,
  ) {
    const a = config.admission;
    this.log = new LogThrottle((line) => this.logger.warn(line), a.logThrottleMs);
    if (a.connectRatePerIp > 0) this.connects = new KeyedTokenBuckets(a.connectRatePerIp, a.connectBurstPerIp, MAX_TRACKED_KEYS);
    const flap = { windowMs: a.flapWindowMs, banMs: a.flapBanMs, maxKeys: MAX_TRACKED_KEYS };
    if (a.flapMaxLogins > 0) this.clients = new FlapDetector({ ...flap, max: a.flapMaxLogins });
    if (a.flapHostMaxLogins > 0) this.hosts = new FlapDetector({ ...flap, max: a.flapHostMaxLogins });
    if (this.connects || this.clients || this.hosts) {
      // Forgets idle keys, so what the detectors hold follows the live peers, not every peer ever seen.
      this.sweepTimer = setInterval(() => this.sweep(), Math.min(a.flapWindowMs, 60_000));
      this.sweepTimer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
    this.log.close();
  }

  /** A new socket from `ip`: undefined to accept it, else the message of its ERROR RATE_LIMITED. */
  admitSocket(ip: string): string | undefined {
    if (!this.connects || this.connects.take(ip, this.clock.now())) return undefined;
    this.hits.hit('connect_rate');
    const { connectRatePerIp, connectBurstPerIp } = this.config.admission;
    const message = `more than CONNECT_RATE_PER_IP (${connectRatePerIp}/s, burst ${connectBurstPerIp}) connects from ${ip}`;
    this.log.note('connect rate', () => `refused a socket: ${message}`);
    return message;
  }

  /**
   * A login of `clientId` from `host` that passed authentication (so a peer
   * with a wrong token cannot get somebody else's clientId banned):
   * undefined to let it complete, else the message of its RATE_LIMITED
   * refusal. A host counts re-logins only (a clientId logging in again
   * within the window): a NAT whose thousand devices all come back once
   * after a restart is no flapping host; one whose devices keep reconnecting is.
   */
  admitLogin(clientId: string, host: string): string | undefined {
    const now = this.clock.now();
    const a = this.config.admission;
    let hostBan = this.hosts?.bannedUntil(host, now) ?? 0;
    if (hostBan) return this.banned('flap_host', `peer host ${host}`, a.flapHostMaxLogins, hostBan, now, 're-logins');
    const clientBan = this.clients?.hit(clientId, now) ?? 0;
    const relogin = this.clients === undefined || clientBan !== 0 || this.clients.count(clientId, now) > 1;
    if (relogin) hostBan = this.hosts?.hit(host, now) ?? 0;
    if (clientBan) return this.banned('flap_client', `clientId '${clientId}'`, a.flapMaxLogins, clientBan, now, 'logins');
    if (hostBan) return this.banned('flap_host', `peer host ${host}`, a.flapHostMaxLogins, hostBan, now, 're-logins');
    return undefined;
  }

  /** Presence registers its MAX_CLIENT_RECORDS check here (the transport does not know presence). */
  checkNewClientsWith(check: (clientId: string) => string | undefined): void {
    this.newClients = check;
  }

  /** MAX_CLIENT_RECORDS: undefined when `clientId` may log in, else the message of its SERVER_FULL refusal. */
  admitRecord(clientId: string): string | undefined {
    return this.newClients?.(clientId);
  }

  /** Budgets for a new connection. */
  connectionRates(): ConnectionRates {
    const a = this.config.admission;
    const now = this.clock.now();
    return {
      frames: a.msgRate > 0 ? new TokenBucket(a.msgRate, a.msgBurst, now) : undefined,
      bytes: a.byteRate > 0 ? new TokenBucket(a.byteRate, a.byteBurst, now) : undefined,
      strikes: 0,
    };
  }

  /** Bytes of one read against the connection's byte budget (the read's time, no clock call). */
  takeBytes(rates: ConnectionRates, bytes: number, now: number): boolean {
    return rates.bytes === undefined || rates.bytes.take(now, bytes);
  }

  /** One frame against the frame budget; `overBytes` when its read went over the byte budget. */
  takeFrame(rates: ConnectionRates, now: number, overBytes: boolean): FrameRefusal {
    let refusal: FrameRefusal;
    if (overBytes) refusal = 'byte_rate';
    else if (rates.frames !== undefined && !rates.frames.take(now)) refusal = 'msg_rate';
    if (refusal === undefined) {
      if (rates.strikes !== 0) rates.strikes = 0;
      return undefined;
    }
    rates.strikes++;
    this.hits.hit(refusal);
    return refusal;
  }

  /** Has the connection been refused more frames in a row than RATE_LIMIT_STRIKES? */
  persists(rates: ConnectionRates): boolean {
    return rates.strikes > this.config.admission.rateLimitStrikes;
  }

  refusalMessage(refusal: 'msg_rate' | 'byte_rate'): string {
    const a = this.config.admission;
    return refusal === 'msg_rate'
      ? `more than CONN_MSG_RATE (${a.msgRate} frames/s, burst ${a.msgBurst}) on this connection`
      : `more than CONN_BYTE_RATE (${a.byteRate} bytes/s, burst ${a.byteBurst}) on this connection`;
  }

  private banned(limit: 'flap_client' | 'flap_host', who: string, max: number, until: number, now: number, what: string): string {
    this.hits.hit(limit);
    const { flapWindowMs, flapBanMs } = this.config.admission;
    const message = `${who} had more than ${max} ${what} within FLAP_WINDOW_MS (${flapWindowMs} ms): banned for FLAP_BAN_MS (${flapBanMs} ms), ${Math.ceil((until - now) / 1000)} s left`;
    this.log.note(limit, () => `refused a login: ${message}`);
    return message;
  }

  private sweep(): void {
    const now = this.clock.now();
    this.connects?.sweep(now);
    this.clients?.sweep(now);
    this.hosts?.sweep(now);
  }
}
