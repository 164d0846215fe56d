import { Injectable } from '@nestjs/common';
import type { Page, PageRequest } from '../presence/presence.types';
import { BadCursorError } from './command.errors';
import type { CommandChange, CommandPatch, CommandStore, InsertResult } from './command.store';
import { CommandQuery, CommandRecord, CommandStatus, isFinal } from './command.types';
import { BatchIndex } from './batch-index';
import { IdIndex } from './id-index';

export const DEFAULT_COMMAND_PAGE_SIZE = 100;
export const MAX_COMMAND_PAGE_SIZE = 1000;

/** A record as the store holds it (see `stored`); `seq` never leaves the store (see `detach`). */
interface Stored extends CommandRecord {
  /** Creation order: the sort key of every list and the content of cursors. */
  seq: number;
}

/** One answer for every accepted insert: a broadcast makes 10,000 of them. */
const INSERTED: InsertResult = Object.freeze({ ok: true });

/**
 * The default store: commands in Maps of this process, copied in and out
 * (the object-valued fields deep, the rest shallow: see `detach`).
 * Indexes keep every hot query proportional to what it returns: a client's
 * pending commands, the pending set for expiry, and final commands in the
 * order they finished for retention.
 */
@Injectable()
export class MemoryCommandStore implements CommandStore {
  private seq = 0;
  private readonly entries = new Map<string, Stored>();
  private readonly byClient = new IdIndex();
  private readonly byBatch = new BatchIndex();
  /** clientId → ids of its queued/sent commands, in insertion (= delivery) order. */
  private readonly pendingByClient = new IdIndex();
  /** Final commands as they finished; purge pops from the head. */
  private finished: Array<{ id: string; at: number }> = [];
  private finishedHead = 0;

  async insert(command: CommandRecord, maxPending: number): Promise<InsertResult> {
    return this.add(command, detachValue, maxPending);
  }

  async insertMany(commands: readonly CommandRecord[], maxPending: number): Promise<InsertResult[]> {
    // A broadcast gives every record the same data: cloned once for the
    // batch, not once per record. Sharing it between stored records is safe
    // because no patch writes `data` and every read detaches.
    const clones = new Map<object, unknown>();
    const copy = (value: unknown): unknown => {
      if (typeof value !== 'object' || value === null) return value;
      let clone = clones.get(value);
      if (clone === undefined) clones.set(value, (clone = structuredClone(value)));
      return clone;
    };
    const results: InsertResult[] = new Array(commands.length);
    for (let i = 0; i < commands.length; i++) results[i] = this.add(commands[i], copy, maxPending);
    return results;
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    const record = this.entries.get(id);
    return record && detach(record);
  }

  async update(id: string, from: readonly CommandStatus[], patch: CommandPatch): Promise<CommandRecord | undefined> {
    return (await this.transition(id, from, patch))?.record;
  }

  async transition(id: string, from: readonly CommandStatus[], patch: CommandPatch, clientId?: string): Promise<CommandChange | undefined> {
    const record = this.entries.get(id);
    if (!record) return undefined;
    if (clientId !== undefined && record.clientId !== clientId) return undefined;
    const before = record.status;
    if (!from.includes(before)) return undefined;
    applyPatch(record, patch);
    if (!isFinal(before) && isFinal(record.status)) {
      this.pendingByClient.delete(record.clientId, id);
      this.pushFinished(record);
    }
    return { record: detach(record), from: before };
  }

  async pendingCount(clientId: string): Promise<number> {
    return this.pendingByClient.count(clientId);
  }

  async pending(clientId: string): Promise<CommandRecord[]> {
    const out: CommandRecord[] = [];
    for (const id of this.pendingByClient.ids(clientId)) out.push(detach(this.entries.get(id) as Stored));
    return out;
  }

  async due(now: number): Promise<CommandRecord[]> {
    const out: CommandRecord[] = [];
    for (const id of this.pendingByClient.all()) {
      const record = this.entries.get(id) as Stored;
      if (record.expiresAt <= now) out.push(detach(record));
    }
    return out;
  }

  async purgeFinished(before: number): Promise<number> {
    let removed = 0;
    while (this.finishedHead < this.finished.length && this.finished[this.finishedHead].at <= before) {
      const { id } = this.finished[this.finishedHead++];
      const record = this.entries.get(id);
      if (!record) continue;
      this.entries.delete(id);
      this.byClient.delete(record.clientId, id);
      if (record.batchId !== undefined) this.byBatch.removed(record.batchId);
      removed++;
    }
    // Compact now and then, so the array does not keep every id ever finished.
    if (this.finishedHead > 1024 && this.finishedHead * 2 > this.finished.length) {
      this.finished = this.finished.slice(this.finishedHead);
      this.finishedHead = 0;
    }
    return removed;
  }

  async list(query: CommandQuery, page: PageRequest): Promise<Page<CommandRecord>> {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_COMMAND_PAGE_SIZE, 1), MAX_COMMAND_PAGE_SIZE);
    const after = decodeCommandCursor(page.cursor);
    let ids: Iterable<string>;
    if (query.batchId !== undefined) ids = this.byBatch.ids(query.batchId);
    else if (query.clientId !== undefined) ids = this.byClient.ids(query.clientId);
    else ids = this.entries.keys();
    const items: CommandRecord[] = [];
    let total = 0;
    let more = false;
    let lastSeq = 0;
    // Every index is in insertion order, so seq only grows along it.
    for (const id of ids) {
      const r = this.entries.get(id);
      if (r === undefined) continue; // purged (a batch keeps its ids until it is gone)
      if (query.clientId !== undefined && r.clientId !== query.clientId) continue;
      if (query.batchId !== undefined && r.batchId !== query.batchId) continue;
      if (query.status !== undefined && r.status !== query.status) continue;
      total++;
      if (r.seq <= after) continue;
      if (items.length < limit) {
        items.push(detach(r));
        lastSeq = r.seq;
      } else more = true;
    }
    return { items, total, ...(more ? { nextCursor: encodeCommandCursor(lastSeq) } : {}) };
  }

  /** Copies the command in (`copy` for its object-valued fields) and indexes it, unless its client is full. */
  private add(command: CommandRecord, copy: (value: unknown) => unknown, maxPending: number): InsertResult {
    const final = isFinal(command.status);
    const pending = this.pendingByClient.count(command.clientId);
    if (!final && pending >= maxPending) return { ok: false, pending };
    const record = stored(command, copy, ++this.seq);
    this.entries.set(record.id, record);
    this.byClient.add(record.clientId, record.id);
    if (record.batchId !== undefined) this.byBatch.add(record.batchId, record.id);
    if (final) this.pushFinished(record);
    else this.pendingByClient.add(record.clientId, record.id);
    return INSERTED;
  }

  private pushFinished(record: CommandRecord): void {
    this.finished.push({ id: record.id, at: record.finishedAt ?? 0 });
  }
}

/**
 * The store's own copy, with every field present (undefined when unset) and
 * always in the same order: a status change then writes fields in place.
 * Adding fields to a record instead (or to one made by `{...spread}`) takes
 * V8's slow path, microseconds per ACK in a burst of 10,000.
 */
function stored(r: CommandRecord, copy: (value: unknown) => unknown, seq: number): Stored {
  return {
    id: r.id,
    clientId: r.clientId,
    name: r.name,
    data: r.data === undefined ? undefined : copy(r.data),
    status: r.status,
    createdAt: r.createdAt,
    sentAt: r.sentAt,
    ackedAt: r.ackedAt,
    result: r.result === undefined ? undefined : copy(r.result),
    error: r.error === undefined ? undefined : (copy(r.error) as CommandRecord['error']),
    expiresAt: r.expiresAt,
    finishedAt: r.finishedAt,
    attempts: r.attempts,
    batchId: r.batchId,
    seq,
  };
}

/**
 * A copy for a caller, sharing nothing mutable with the stored record, and
 * without the unset fields. Only data, result and error can hold objects
 * (the rest are strings and numbers), so only they are cloned: far cheaper
 * than structuredClone of the whole record.
 */
function detach(r: CommandRecord): CommandRecord {
  // Fields in the order of CommandRecord, as the API has always shown them.
  const out = { id: r.id, clientId: r.clientId, name: r.name } as CommandRecord;
  if (r.data !== undefined) out.data = detachValue(r.data);
  out.status = r.status;
  out.createdAt = r.createdAt;
  if (r.sentAt !== undefined) out.sentAt = r.sentAt;
  if (r.ackedAt !== undefined) out.ackedAt = r.ackedAt;
  if (r.result !== undefined) out.result = detachValue(r.result);
  if (r.error !== undefined) out.error = detachValue(r.error);
  out.expiresAt = r.expiresAt;
  if (r.finishedAt !== undefined) out.finishedAt = r.finishedAt;
  out.attempts = r.attempts;
  if (r.batchId !== undefined) out.batchId = r.batchId;
  return out;
}

/** Object.assign, field by field (the fields exist: see `stored`); object-valued ones are stored as copies. */
function applyPatch(record: CommandRecord, patch: CommandPatch): void {
  if ('status' in patch) record.status = patch.status as CommandStatus;
  if ('sentAt' in patch) record.sentAt = patch.sentAt;
  if ('attempts' in patch) record.attempts = patch.attempts as number;
  if ('ackedAt' in patch) record.ackedAt = patch.ackedAt;
  if ('finishedAt' in patch) record.finishedAt = patch.finishedAt;
  if ('result' in patch) record.result = detachValue(patch.result);
  if ('error' in patch) record.error = detachValue(patch.error);
}

function detachValue<T>(value: T): T {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

export function encodeCommandCursor(seq: number): string {
  return Buffer.from(`c${seq}`).toString('base64url');
}

/** 0 (from the start) without a cursor. */
export function decodeCommandCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^c(\d{1,15})$/.exec(text);
  if (!match) throw new BadCursorError(cursor);
  return Number(match[1]);
}
