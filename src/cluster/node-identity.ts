import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who this process is in the cluster. `nodeId` is stable across restarts
 * when NODE_ID is set (so records keep naming the same machine); `bootId`
 * changes at every start, which is how a node that comes back with the same
 * NODE_ID tells its previous life's records from its own.
 */
export interface NodeIdentity {
  nodeId: string;
  bootId: string;
}

export function defaultNodeId(): string {
  return `${hostname()}-${process.pid}`;
}

export function newNodeIdentity(nodeId: string): NodeIdentity {
  return { nodeId, bootId: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}` };
}
