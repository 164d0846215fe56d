import type { CommandChange, CommandPatch, CommandStore, InsertResult } from '../../commands/command.store';
import type { CommandQuery, CommandRecord, CommandStatus } from '../../commands/command.types';
import { decodeCommandCursor, encodeCommandCursor } from '../../commands/memory-command.store';
import type { Page, PageRequest } from '../../presence/presence.types';
import { KEY_PREFIX, keys } from '../keys';
import type { RedisClient } from '../redis-connection';
import { FETCH, INSERT, LIST, PURGE, TRANSITION } from './command-scripts';

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
/** Commands per INSERT script call: a 10,000-client broadcast is 10 calls, none blocking Redis for long. */
const INSERT_CHUNK = 1000;
const PURGE_CHUNK = 500;
const INSERTED: InsertResult = Object.freeze({ ok: true });

/**
 * Commands in Redis (docs/CLUSTER.md, "Data model"): one HASH per command and
 * ZSET indexes, every racing write (the per-client bound, compare-and-set
 * transitions) one Lua script, so two nodes acking and expiring the same
 * command cannot both win.
 */
export class RedisCommandStore implements CommandStore {
  /**
   * Called after every transition this store made, with the node the command
   * was posted on: the cluster tells that node when the command became final
   * on another (waitMs).
   */
  onTransition: ((change: CommandChange, origin: string) => void) | undefined;
  /** Called after an insert with the clients (by node) whose socket is on another node: those nodes deliver. */
  onRemoteOwners: ((byNode: Map<string, string[]>) => void) | undefined;

  constructor(
    private readonly redis: RedisClient,
    /** Written into every command as `origin`. */
    private readonly nodeId: string,
  ) {}

  async insert(command: CommandRecord, maxPending: number): Promise<InsertResult> {
    return (await this.insertMany([command], maxPending))[0];
  }

  async insertMany(commands: readonly CommandRecord[], maxPending: number): Promise<InsertResult[]> {
    const results: InsertResult[] = [];
    const byNode = new Map<string, string[]>();
    for (let i = 0; i < commands.length; i += INSERT_CHUNK) {
      const chunk = commands.slice(i, i + INSERT_CHUNK);
      const replies = await INSERT.run<Array<number | string>>(this.redis, [], [KEY_PREFIX, maxPending, this.nodeId, ...chunk.map((c) => JSON.stringify(toFields(c)))]);
      for (let j = 0; j < replies.length; j++) {
        const r = replies[j];
        if (typeof r === 'string') {
          const list = byNode.get(r);
          if (list) list.push(chunk[j].clientId);
          else byNode.set(r, [chunk[j].clientId]);
          results.push(INSERTED);
        } else results.push(r === -1 ? INSERTED : { ok: false, pending: r });
      }
    }
    if (byNode.size > 0) this.onRemoteOwners?.(byNode);
    return results;
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    // RESP3 (node-redis 6's default) answers HGETALL with a map; script replies stay flat arrays.
    const reply = (await this.redis.sendCommand(['HGETALL', keys.command(id)])) as Record<string, string> | string[];
    return fromFields(Array.isArray(reply) ? reply : Object.entries(reply).flat());
  }

  async update(id: string, from: readonly CommandStatus[], patch: CommandPatch): Promise<CommandRecord | undefined> {
    return (await this.transition(id, from, patch))?.record;
  }

  async transition(id: string, from: readonly CommandStatus[], patch: CommandPatch, clientId?: string): Promise<CommandChange | undefined> {
    const set: Record<string, string> = {};
    const del: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) del.push(field);
      else set[field] = field === 'result' || field === 'error' ? JSON.stringify(value) : String(value);
    }
    const reply = await TRANSITION.run<[CommandStatus, string[]] | null>(this.redis, [], [KEY_PREFIX, id, clientId ?? '', from.join(','), JSON.stringify(set), del.join(',')]);
    if (!reply) return undefined;
    const record = fromFields(reply[1]) as CommandRecord;
    const change: CommandChange = { record, from: reply[0] };
    if (this.onTransition) this.onTransition(change, fieldOf(reply[1], 'origin') ?? '');
    return change;
  }

  async pendingCount(clientId: string): Promise<number> {
    return Number(await this.redis.sendCommand(['ZCARD', keys.queue(clientId)]));
  }

  async pending(clientId: string): Promise<CommandRecord[]> {
    const ids = (await this.redis.sendCommand(['ZRANGE', keys.queue(clientId), '0', '-1'])) as string[];
    return this.fetch(ids);
  }

  async due(now: number): Promise<CommandRecord[]> {
    const ids = (await this.redis.sendCommand(['ZRANGE', keys.due, '-inf', String(now), 'BYSCORE'])) as string[];
    return this.fetch(ids);
  }

  async purgeFinished(before: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await PURGE.run<number>(this.redis, [], [KEY_PREFIX, before, PURGE_CHUNK]);
      removed += n;
      if (n < PURGE_CHUNK) return removed;
    }
  }

  async list(query: CommandQuery, page: PageRequest): Promise<Page<CommandRecord>> {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const after = decodeCommandCursor(page.cursor);
    // The narrowest index; the other fields of the query filter within it.
    const index = query.batchId !== undefined ? keys.batch(query.batchId) : query.clientId !== undefined ? keys.clientCommands(query.clientId) : keys.commands;
    const needsFilter = query.status !== undefined || (query.batchId !== undefined && query.clientId !== undefined);
    const [total, more, flat] = await LIST.run<[number, number, string[][]]>(this.redis, [], [
      KEY_PREFIX,
      index,
      after,
      limit,
      query.status ?? '',
      needsFilter ? (query.clientId ?? '') : '',
      needsFilter ? (query.batchId ?? '') : '',
    ]);
    const items = flat.map((f) => fromFields(f)).filter((r): r is CommandRecord => r !== undefined);
    const last = flat.length > 0 ? Number(fieldOf(flat[flat.length - 1], 'seq')) : 0;
    return { items, total: Number(total), ...(more ? { nextCursor: encodeCommandCursor(last) } : {}) };
  }

  private async fetch(ids: string[]): Promise<CommandRecord[]> {
    if (ids.length === 0) return [];
    const out: CommandRecord[] = [];
    for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
      const replies = await FETCH.run<string[][]>(this.redis, [], [KEY_PREFIX, ...ids.slice(i, i + INSERT_CHUNK)]);
      for (const f of replies) {
        const r = fromFields(f);
        if (r) out.push(r);
      }
    }
    return out;
  }
}

/** The command as string fields for the script (undefined fields left out). */
function toFields(c: CommandRecord): Record<string, string> {
  const f: Record<string, string> = { id: c.id, clientId: c.clientId, name: c.name, status: c.status, createdAt: String(c.createdAt), expiresAt: String(c.expiresAt), attempts: String(c.attempts) };
  if (c.data !== undefined) f.data = JSON.stringify(c.data);
  if (c.sentAt !== undefined) f.sentAt = String(c.sentAt);
  if (c.ackedAt !== undefined) f.ackedAt = String(c.ackedAt);
  if (c.result !== undefined) f.result = JSON.stringify(c.result);
  if (c.error !== undefined) f.error = JSON.stringify(c.error);
  if (c.finishedAt !== undefined) f.finishedAt = String(c.finishedAt);
  if (c.batchId !== undefined) f.batchId = c.batchId;
  return f;
}

function fieldOf(flat: string[], name: string): string | undefined {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/** A HGETALL reply as a CommandRecord, fields in the order the API has always shown them. */
function fromFields(flat: string[] | null | undefined): CommandRecord | undefined {
  if (!flat || flat.length === 0) return undefined;
  const f: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
  if (f.id === undefined) return undefined;
  const out = { id: f.id, clientId: f.clientId, name: f.name } as CommandRecord;
  if (f.data !== undefined) out.data = JSON.parse(f.data);
  out.status = f.status as CommandStatus;
  out.createdAt = Number(f.createdAt);
  if (f.sentAt !== undefined) out.sentAt = Number(f.sentAt);
  if (f.ackedAt !== undefined) out.ackedAt = Number(f.ackedAt);
  if (f.result !== undefined) out.result = JSON.parse(f.result);
  if (f.error !== undefined) out.error = JSON.parse(f.error);
  out.expiresAt = Number(f.expiresAt);
  if (f.finishedAt !== undefined) out.finishedAt = Number(f.finishedAt);
  out.attempts = Number(f.attempts);
  if (f.batchId !== undefined) out.batchId = f.batchId;
  return out;
}
