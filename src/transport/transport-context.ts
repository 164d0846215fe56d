import type { AdmissionControl } from '../admission/admission-control';
import type { Logger } from '@nestjs/common';
import type { Server } from '@nestjs/microservices';
import type { LimitHits } from '../admission/limit-hits';
import type { Clock } from '../common/clock';
import type { LongLinkConfig } from '../config';
import type { Connection } from './connection';
import type { Replies } from './replies';
import type { SessionRegistry } from './session-registry';
import type { TransportEventBus } from './transport-event-bus';
import type { TransportStats } from './transport-stats';

/** The Nest handler lookup MSG goes through (LongLinkServer's, from Nest's Server). */
export type PatternHandlers = Pick<Server, 'getHandlerByPattern' | 'handleEvent' | 'transformToObservable'>;

/** What the handlers share: built once by LongLinkServer, read by every handler. */
export interface TransportContext {
  readonly config: LongLinkConfig;
  readonly clock: Clock;
  readonly stats: TransportStats;
  readonly logger: Logger;
  readonly sessions: SessionRegistry;
  readonly replies: Replies;
  readonly events: TransportEventBus;
  readonly patterns: PatternHandlers;
  /** Counts of bounds a peer ran into (metrics). */
  readonly limitHits: LimitHits;
  /** Connect, login and frame rates (docs/HARDENING.md). */
  readonly admission: AdmissionControl;
  /** Ends the connection's session now (BYE), ahead of its socket: the close event goes out at once. */
  endSession(conn: Connection, reason: string): void;
}
