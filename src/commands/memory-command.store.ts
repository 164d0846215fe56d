import { Injectable } from '@nestjs/common';
import type { Page, PageRequest } from '../presence/presence.types';
import { BadCursorError } from './command.errors';
import type { CommandPatch, CommandStore, InsertResult } from './command.store';
import { CommandQuery, CommandRecord, CommandStatus, isFinal } from './command.types';

export const DEFAULT_COMMAND_PAGE_SIZE = 100;
export const MAX_COMMAND_PAGE_SIZE = 1000;

interface Entry {
  /** Creation order: the sort key of every list and the content of cursors. */
  seq: number;
  record: CommandRecord;
}

/**
 * The default store: commands in Maps of this process, copied in and out.
 * Indexes keep every hot query proportional to what it returns: a client's
 * pending commands, the pending set for expiry, and final commands in the
 * order they finished for retention.
 */
@Injectable()
export class MemoryCommandStore implements CommandStore {
  private seq = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly byClient = new Map<string, Set<string>>();
  private readonly byBatch = new Map<string, Set<string>>();
  /** clientId → ids of its queued/sent commands; a Set keeps insertion (= delivery) order. */
  private readonly pendingByClient = new Map<string, Set<string>>();
  /** Final commands as they finished; purge pops from the head. */
  private finished: Array<{ id: string; at: number }> = [];
  private finishedHead = 0;

  async insert(command: CommandRecord, maxPending: number): Promise<InsertResult> {
    const pending = this.pendingByClient.get(command.clientId)?.size ?? 0;
    if (!isFinal(command.status) && pending >= maxPending) return { ok: false, pending };
    const record = structuredClone(command);
    this.entries.set(record.id, { seq: ++this.seq, record });
    addTo(this.byClient, record.clientId, record.id);
    if (record.batchId !== undefined) addTo(this.byBatch, record.batchId, record.id);
    if (isFinal(record.status)) this.pushFinished(record);
    else addTo(this.pendingByClient, record.clientId, record.id);
    return { ok: true };
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    const entry = this.entries.get(id);
    return entry && structuredClone(entry.record);
  }

  async update(id: string, from: readonly CommandStatus[], patch: CommandPatch): Promise<CommandRecord | undefined> {
    const entry = this.entries.get(id);
    if (!entry || !from.includes(entry.record.status)) return undefined;
    const wasFinal = isFinal(entry.record.status);
    Object.assign(entry.record, structuredClone(patch));
    if (!wasFinal && isFinal(entry.record.status)) {
      removeFrom(this.pendingByClient, entry.record.clientId, id);
      this.pushFinished(entry.record);
    }
    return structuredClone(entry.record);
  }

  async pending(clientId: string): Promise<CommandRecord[]> {
    const ids = this.pendingByClient.get(clientId);
    if (!ids) return [];
    const out: CommandRecord[] = [];
    for (const id of ids) out.push(structuredClone((this.entries.get(id) as Entry).record));
    return out;
  }

  async due(now: number): Promise<CommandRecord[]> {
    const out: CommandRecord[] = [];
    for (const ids of this.pendingByClient.values()) {
      for (const id of ids) {
        const record = (this.entries.get(id) as Entry).record;
        if (record.expiresAt <= now) out.push(structuredClone(record));
      }
    }
    return out;
  }

  async purgeFinished(before: number): Promise<number> {
    let removed = 0;
    while (this.finishedHead < this.finished.length && this.finished[this.finishedHead].at <= before) {
      const { id } = this.finished[this.finishedHead++];
      const entry = this.entries.get(id);
      if (!entry) continue;
      this.entries.delete(id);
      removeFrom(this.byClient, entry.record.clientId, id);
      if (entry.record.batchId !== undefined) removeFrom(this.byBatch, entry.record.batchId, id);
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
    if (query.batchId !== undefined) ids = this.byBatch.get(query.batchId) ?? [];
    else if (query.clientId !== undefined) ids = this.byClient.get(query.clientId) ?? [];
    else ids = this.entries.keys();
    const items: CommandRecord[] = [];
    let total = 0;
    let more = false;
    let lastSeq = 0;
    // Every index is in insertion order, so seq only grows along it.
    for (const id of ids) {
      const entry = this.entries.get(id) as Entry;
      const r = entry.record;
      if (query.clientId !== undefined && r.clientId !== query.clientId) continue;
      if (query.batchId !== undefined && r.batchId !== query.batchId) continue;
      if (query.status !== undefined && r.status !== query.status) continue;
      total++;
      if (entry.seq <= after) continue;
      if (items.length < limit) {
        items.push(structuredClone(r));
        lastSeq = entry.seq;
      } else more = true;
    }
    return { items, total, ...(more ? { nextCursor: encodeCommandCursor(lastSeq) } : {}) };
  }

  private pushFinished(record: CommandRecord): void {
    this.finished.push({ id: record.id, at: record.finishedAt ?? 0 });
  }
}

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(id);
}

function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
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
