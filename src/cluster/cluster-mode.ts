import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Provider } from '@nestjs/common';
import { filter, map, Subscription } from 'rxjs';
import { CommandService } from '../commands/command.service';
import type { EventFeed } from '../admin/event-feed';
import type { SessionControl } from '../common/ports';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';
import { PresenceService } from '../presence/presence.service';
import { LocalSessionControl } from '../transport/local-ports';
import type { ClusterEvent } from './cluster-events';
import { ClusterRuntime } from './cluster-runtime';
import { ClusterSessionControl } from './cluster-session-control';

/** The node's ClusterRuntime, or null in single-node mode (no REDIS_URL): every cluster provider is then a no-op. */
export const CLUSTER_RUNTIME = Symbol('CLUSTER_RUNTIME');

/** SessionControl: routed through the cluster with REDIS_URL, else the transport's own. */
export function sessionControlFor(local: SessionControl, runtime: ClusterRuntime | null): SessionControl {
  return runtime ? new ClusterSessionControl(local, runtime.node) : local;
}

/** GET /events: every node's events with REDIS_URL; undefined (this node's services) without. */
export function eventFeedFor(runtime: ClusterRuntime | null): EventFeed | undefined {
  if (!runtime) return undefined;
  const events$ = runtime.events.events$;
  return {
    presence$: events$.pipe(
      filter((e): e is Extract<ClusterEvent, { kind: 'presence' }> => e.kind === 'presence'),
      map((e) => e.event),
    ),
    commands$: events$.pipe(
      filter((e): e is Extract<ClusterEvent, { kind: 'command' }> => e.kind === 'command'),
      map((e) => e.event),
    ),
  };
}

/**
 * Joins this node to the cluster before it accepts sockets (onModuleInit
 * runs before the transport listens), connects this node's parts to the
 * bus, publishes its events to the cluster feed, and leaves on shutdown
 * after presence's last writes.
 */
@Injectable()
export class ClusterLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Cluster');
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(CLUSTER_RUNTIME) private readonly runtime: ClusterRuntime | null,
    private readonly presence: PresenceService,
    private readonly commands: CommandService,
    private readonly local: LocalSessionControl,
  ) {}

  async onModuleInit(): Promise<void> {
    const runtime = this.runtime;
    if (!runtime) return;
    const { presence, commands, local } = this;
    await runtime.node.start({
      localKick: (clientId, reason) => (presence.localEpoch(clientId) === undefined ? Promise.resolve(false) : presence.kick(clientId, reason)),
      localEpoch: (clientId) => presence.localEpoch(clientId),
      localReplace: (clientId) => {
        presence.forget(clientId);
        void local.kick(clientId, 'replaced');
      },
      heldEpoch: (clientId) => presence.heldEpoch(clientId),
      forget: (clientId) => presence.forget(clientId),
      deliverPending: (clientId) => commands.deliverQueued(clientId),
      outcomeElsewhere: (id) => commands.outcomeElsewhere(id),
      heldRecords: () => presence.heldRecords(),
    });
    this.subscriptions.push(
      presence.events$.subscribe((e) => runtime.events.publish('presence', e)),
      commands.events$.subscribe((e) => runtime.events.publish('command', e)),
    );
    this.logger.log(`node ${runtime.identity.nodeId} (boot ${runtime.identity.bootId}) in the cluster, lease ${runtime.config.nodeLeaseMs} ms`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.runtime) return;
    for (const s of this.subscriptions) s.unsubscribe();
    await this.presence.flushWrites().catch(() => undefined);
    await this.runtime.close();
  }
}

/** The providers of cluster mode (all no-ops without REDIS_URL). */
export function clusterProviders(): Provider[] {
  return [
    {
      provide: CLUSTER_RUNTIME,
      inject: [LONGLINK_CONFIG],
      useFactory: async (config: LongLinkConfig): Promise<ClusterRuntime | null> => {
        if (config.redisUrl === undefined) return null;
        const runtime = new ClusterRuntime(config as LongLinkConfig & { redisUrl: string });
        await runtime.connect();
        return runtime;
      },
    },
    ClusterLifecycle,
  ];
}
