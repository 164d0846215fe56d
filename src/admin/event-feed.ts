import type { Observable } from 'rxjs';
import type { CommandEvent } from '../commands/command.types';
import type { PresenceEvent } from '../presence/presence.types';

/**
 * Where `GET /events` takes its events from. Unset: this node's services.
 * In a cluster: every node's events (src/cluster/cluster-events.ts).
 */
export interface EventFeed {
  presence$: Observable<PresenceEvent>;
  commands$: Observable<CommandEvent>;
}

export const EVENT_FEED = Symbol('EVENT_FEED');
