import type { LivenessState } from '../heartbeat/heartbeat-counter';
import type { SessionView } from '../transport/session-view';
import type { ClientRecord, PresenceEvent, PresenceStatus } from './presence.types';

/** Durable part of a record; the rest is computed from the liveness counter and the session. */
export type RecordBase = Omit<
  ClientRecord,
  'status' | 'statusSince' | 'livenessCursor' | 'strikes' | 'connected' | 'lastSeenAt' | 'lastHeartbeatAt' | 'reported' | 'transitions'
>;

/** A client this node knows: its record, its liveness counter, and whether its session is here. */
export class PresenceEntry {
  /** Its session (base.sessionId) is open on this node. */
  connected = false;
  /**
   * That session's view while it is open, kept so the heartbeat sweep and
   * the records read its facts without a lookup by clientId each time (a
   * Map lookup per record was two thirds of a 20,000-record sweep).
   */
  session: SessionView | undefined = undefined;
  reported: Record<string, unknown> = {};
  lastSeenAt: number | null = null;
  lastHeartbeatAt: number | null = null;
  readonly transitions: PresenceEvent[] = [];
  constructor(
    public base: RecordBase,
    public liveness: LivenessState,
  ) {}

  /**
   * A record of the last run (loaded by a durable store at start), held now
   * by this process; not connected, its liveness as it was written. Its
   * `nodeId` stays the node of the client's last session (as the store, its
   * per-node stats and a cluster's reaper have it) until the client logs in
   * again; the transitions this process adds carry this process's nodeId.
   */
  static fromRecord(r: ClientRecord): PresenceEntry {
    const base: RecordBase = {
      clientId: r.clientId,
      sessionId: r.sessionId,
      remoteAddress: r.remoteAddress,
      remotePort: r.remotePort,
      meta: r.meta,
      connectedAt: r.connectedAt,
      closeReason: r.closeReason,
      closedAt: r.closedAt,
      nodeId: r.nodeId,
      epoch: r.epoch,
    };
    const entry = new PresenceEntry(base, { status: r.status, cursor: r.livenessCursor, strikes: r.strikes, recoverRun: 0, statusSince: r.statusSince });
    entry.reported = r.reported;
    entry.lastSeenAt = r.lastSeenAt;
    entry.lastHeartbeatAt = r.lastHeartbeatAt;
    entry.transitions.push(...r.transitions);
    return entry;
  }

  get clientId(): string {
    return this.base.clientId;
  }
  get status(): PresenceStatus {
    return this.liveness.status;
  }

  /** Takes the per-frame facts of the client's session (they never go to a store on their own). */
  capture(facts: { lastReadAt: number; lastHeartbeatAt: number; reported: Record<string, unknown> | undefined }): void {
    this.lastSeenAt = facts.lastReadAt;
    if (facts.lastHeartbeatAt) this.lastHeartbeatAt = facts.lastHeartbeatAt;
    if (facts.reported) this.reported = stripType(facts.reported);
  }

  /**
   * The record as handed to the store, which takes ownership of it. Cheap on
   * purpose (it runs at every login, close and transition): `meta`,
   * `reported` and the transition events are shared, which is safe because
   * nothing mutates them in place (they are replaced), and the store copies
   * whatever it hands out. `session` is the live session's view, if it is
   * this entry's, for the freshest per-frame facts.
   */
  record(session: SessionView | undefined): ClientRecord {
    if (session !== undefined) this.capture(session);
    const l = this.liveness;
    const b = this.base;
    // Field by field, not `...entry.base`: a spread plus extra keys gives a
    // dictionary-mode object, which measured ~20 us here instead of ~0.3 us.
    return {
      clientId: b.clientId,
      sessionId: b.sessionId,
      remoteAddress: b.remoteAddress,
      remotePort: b.remotePort,
      meta: b.meta,
      connectedAt: b.connectedAt,
      closeReason: b.closeReason,
      closedAt: b.closedAt,
      nodeId: b.nodeId,
      epoch: b.epoch,
      status: l.status,
      statusSince: l.statusSince,
      livenessCursor: l.cursor,
      strikes: l.strikes,
      connected: this.connected && session !== undefined && !session.closed,
      lastSeenAt: this.lastSeenAt,
      lastHeartbeatAt: this.lastHeartbeatAt,
      reported: this.reported,
      transitions: this.transitions.slice(),
    };
  }
}

function stripType(heart: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in heart) if (key !== 'type' && key !== 'code') out[key] = heart[key];
  return out;
}
