import type { ConnectSpec, FleetStats } from './fleet';

/** Parent → load-generator worker (one request at a time per worker, answered in order). */
export type WorkerRequest =
  | { op: 'connect'; spec: ConnectSpec }
  | { op: 'steady'; hz: number }
  | { op: 'throughput'; inflight: number }
  | { op: 'heart-round' }
  | { op: 'arm-commands' }
  | { op: 'command-count' }
  | { op: 'command-times' }
  | { op: 'disconnect'; count: number }
  | { op: 'reset' }
  | { op: 'collect'; drainMs?: number }
  | { op: 'close' };

export interface WorkerResults {
  connect: { loggedIn: number; failed: number };
  steady: null;
  throughput: null;
  'heart-round': number;
  'arm-commands': null;
  'command-count': number;
  'command-times': number[];
  disconnect: number;
  reset: null;
  collect: FleetStats;
  close: null;
}

export type WorkerReply = { seq: number; ok: true; result: unknown } | { seq: number; ok: false; error: string };
