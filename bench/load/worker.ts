import { Fleet } from './fleet';
import type { WorkerReply, WorkerRequest } from './messages';

/**
 * A load-generator process (forked by WorkerPool): holds a Fleet of client
 * sockets and does what the parent asks over IPC. Separate processes because
 * one process may hold at most 20,000 open files here, and so the clients'
 * CPU is spread like real devices' would be.
 */
const fleet = new Fleet();

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'connect':
      return fleet.connect(req.spec);
    case 'steady':
      fleet.steady(req.hz);
      return null;
    case 'throughput':
      fleet.throughput(req.inflight);
      return null;
    case 'heart-round':
      return fleet.heartRound();
    case 'arm-commands':
      fleet.armCommands();
      return null;
    case 'command-count':
      return fleet.cmdTimes.length;
    case 'command-times':
      return fleet.cmdTimes;
    case 'disconnect':
      return fleet.disconnect(req.count);
    case 'reset':
      fleet.resetStats();
      return null;
    case 'collect':
      return fleet.collect(req.drainMs);
    case 'close':
      fleet.close();
      return null;
  }
}

process.on('message', (msg: { seq: number; req: WorkerRequest }) => {
  handle(msg.req).then(
    (result) => process.send?.({ seq: msg.seq, ok: true, result } satisfies WorkerReply),
    (error: unknown) => process.send?.({ seq: msg.seq, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply),
  );
});
// The parent went away (finished or crashed): no orphaned load.
process.on('disconnect', () => {
  fleet.close();
  process.exit(0);
});
