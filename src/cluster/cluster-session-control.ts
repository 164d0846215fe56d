import type { SessionControl } from '../common/ports';
import type { ClusterNode } from './cluster-node';

/**
 * SessionControl in a cluster: the socket on this node when it is here,
 * else the node that holds it (through its inbox; that node kicks as its
 * own admin API would: status close with the reason, KICK, close).
 */
export class ClusterSessionControl implements SessionControl {
  constructor(
    private readonly local: SessionControl,
    private readonly node: ClusterNode,
  ) {}

  async kick(clientId: string, reason: string): Promise<boolean> {
    if (await this.local.kick(clientId, reason)) return true;
    return (await this.node.kickRemote([clientId], reason)).includes(clientId);
  }
}
