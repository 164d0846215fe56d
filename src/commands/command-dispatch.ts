import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock';
import type { CommandDelivery } from '../common/ports';
import type { LongLinkConfig } from '../config';
import type { PresenceService } from '../presence/presence.service';
import { cmdBody, cmdFrameBytes } from '../protocol/cmd-frame';
import { CommandTooLargeError } from './command.errors';
import type { CommandStore } from './command.store';
import type { CommandRecord, SendCommandOptions } from './command.types';
import type { CommandSweeper } from './command-sweeper';
import type { CommandTransitions } from './command-transitions';
import type { DeliveryChain } from './delivery-chain';

/** What dispatch did for one client. */
export type DispatchOutcome =
  | { kind: 'created'; command: CommandRecord }
  | { kind: 'unknown' }
  | { kind: 'closed'; closeReason: string | null }
  | { kind: 'queueFull'; pending: number };

/**
 * The one way commands are created, for one client (`send`) or many
 * (`broadcast`): name and data serialised once, the records stored in one
 * call, and the CMD written straight to every connected client that has
 * nothing else in flight, in one synchronous loop. Those are stored as
 * `sent` before the write, and nothing else runs between the store's
 * answer and the write, so an ACK always finds its command `sent`.
 * The rest is stored `queued` and goes through the client's delivery
 * chain, behind what it already has (order per client holds).
 */
export class CommandDispatch {
  constructor(
    private readonly config: LongLinkConfig,
    private readonly clock: Clock,
    private readonly store: CommandStore,
    private readonly delivery: CommandDelivery,
    private readonly presence: PresenceService,
    private readonly chains: DeliveryChain,
    private readonly transitions: CommandTransitions,
    private readonly sweeper: CommandSweeper,
  ) {}

  async dispatch(clientIds: readonly string[], name: string, data: unknown, options: SendCommandOptions): Promise<DispatchOutcome[]> {
    const outcomes: Array<DispatchOutcome | undefined> = new Array(clientIds.length);
    const live: boolean[] = new Array(clientIds.length);
    let accepted = 0;
    let awaited = false;
    for (let i = 0; i < clientIds.length; i++) {
      live[i] = this.delivery.isConnected(clientIds[i]);
      if (!live[i] && !options.queue) {
        awaited = true;
        const record = await this.presence.get(clientIds[i]);
        if (!record) outcomes[i] = { kind: 'unknown' };
        else if (record.status === 'close') outcomes[i] = { kind: 'closed', closeReason: record.closeReason };
      }
      if (outcomes[i] === undefined) accepted++;
    }
    if (accepted === 0) return outcomes as DispatchOutcome[];

    const now = this.clock.now();
    const expiresAt = now + (options.ttlMs ?? this.config.commands.ttlMs);
    const body = cmdBody(name, data, expiresAt);
    const bytes = cmdFrameBytes(body);
    if (bytes > this.config.maxFrameBytes) throw new CommandTooLargeError(bytes, this.config.maxFrameBytes);

    const records: CommandRecord[] = new Array(accepted);
    const slots: number[] = new Array(accepted);
    for (let i = 0, j = 0; i < clientIds.length; i++) {
      if (outcomes[i] !== undefined) continue;
      const clientId = clientIds[i];
      // Connections may have come or gone during an await above.
      const connected = awaited ? this.delivery.isConnected(clientId) : live[i];
      const direct = connected && !this.chains.busy(clientId);
      const record: CommandRecord = { id: randomUUID(), clientId, name, status: direct ? 'sent' : 'queued', createdAt: now, expiresAt, attempts: direct ? 1 : 0 };
      if (data !== undefined) record.data = data;
      if (direct) record.sentAt = now;
      if (options.batchId !== undefined) record.batchId = options.batchId;
      records[j] = record;
      slots[j++] = i;
    }
    // A broadcast, on a store that decides the bound at once (SQLite), stores
    // its rows after the CMDs below are written; the answer still waits for
    // their commit. (Should that fail, e.g. on a full disk, the 503 comes
    // after connected clients got the CMD: at-least-once. A single command
    // is stored first, so a refused one is never sent.)
    const early = options.batchId === undefined ? undefined : this.store.insertManyNow?.(records, this.config.commands.maxQueued);
    const inserted = early ? early.results : await this.store.insertMany(records, this.config.commands.maxQueued);

    const debug = Logger.isLevelEnabled('debug');
    const queued: string[] = [];
    let created = 0;
    for (let j = 0; j < records.length; j++) {
      const result = inserted[j];
      if (!result.ok) {
        outcomes[slots[j]] = { kind: 'queueFull', pending: result.pending };
        continue;
      }
      const command = records[j];
      outcomes[slots[j]] = { kind: 'created', command };
      created++;
      this.transitions.emit(command, null, 'queued', debug);
      if (command.status === 'queued') {
        queued.push(command.clientId);
        continue;
      }
      this.transitions.emit(command, 'queued', 'sent', debug);
      // Closed since: it stays `sent`, re-sent at the next LOGIN.
      this.delivery.deliver(command.clientId, [{ id: command.id, body }]);
    }
    if (created > 0) this.sweeper.armExpiry(expiresAt);
    // A client that connected meanwhile gets its queued command now, as send() always did.
    await Promise.all(queued.filter((clientId) => this.delivery.isConnected(clientId)).map((clientId) => this.chains.deliver(clientId, false)));
    // The HTTP 201/202 names committed rows only.
    if (early) await early.committed;
    return outcomes as DispatchOutcome[];
  }
}
