// The client list: one page of GET /clients (filter, search, cursor paging),
// rows keyed by clientId. Live events patch only the rows they concern, in
// one batch per animation frame; a throttled re-read of the page (at most
// one request a second) brings the fields events do not carry (address,
// reported state) and clients that appeared. Neither rebuilds the table:
// rows are reused and only changed cells are written, so a fleet of 10,000
// clients with heavy churn costs one page of DOM, not one render per event.

import { ApiError, get, query } from './api.js';
import { brief, byId, clientHref, h, setText, time } from './dom.js';
import { perFrame, throttle } from './frame.js';
import type { ClientPage, ClientRecord, PresenceEvent } from './types.js';

const FLASH: Keyframe[] = [{ backgroundColor: '#fef3c7' }, { backgroundColor: 'transparent' }];
const FLASH_MS = 1200;
const MAX_FLASHES = 10;

interface Row {
  tr: HTMLTableRowElement;
  status: HTMLElement;
  connected: HTMLElement;
  node: HTMLElement;
  remote: HTMLElement;
  lastSeen: HTMLElement;
  reported: HTMLElement;
}

export class ClientList {
  private readonly tbody = byId('clients').querySelector('tbody') as HTMLTableSectionElement;
  private readonly rows = new Map<string, Row>();
  /** cursors[i] opens page i (page 0 has none). */
  private cursors: Array<string | undefined> = [undefined];
  private page = 0;
  private nextCursor: string | undefined;
  private total = 0;
  private loading: AbortController | null = null;
  private readonly refetch = throttle(() => void this.load(), 1000);
  private readonly applyEvents = perFrame<PresenceEvent>((batch) => this.patchFromEvents(batch));

  constructor() {
    const status = byId<HTMLSelectElement>('f-status');
    const connected = byId<HTMLSelectElement>('f-connected');
    const q = byId<HTMLInputElement>('f-q');
    const limit = byId<HTMLSelectElement>('f-limit');
    const restart = () => {
      this.cursors = [undefined];
      this.page = 0;
      void this.load();
    };
    status.addEventListener('change', restart);
    connected.addEventListener('change', restart);
    limit.addEventListener('change', restart);
    let typing: number | undefined;
    q.addEventListener('input', () => {
      window.clearTimeout(typing);
      typing = window.setTimeout(restart, 250);
    });
    byId('filters').addEventListener('submit', (e) => e.preventDefault());
    byId('prev').addEventListener('click', () => {
      if (this.page === 0) return;
      this.page -= 1;
      void this.load();
    });
    byId('next').addEventListener('click', () => {
      if (!this.nextCursor) return;
      this.cursors[this.page + 1] = this.nextCursor;
      this.page += 1;
      void this.load();
    });
  }

  private params(): Record<string, string | undefined> {
    return {
      status: byId<HTMLSelectElement>('f-status').value,
      connected: byId<HTMLSelectElement>('f-connected').value,
      q: byId<HTMLInputElement>('f-q').value.trim(),
      limit: byId<HTMLSelectElement>('f-limit').value,
      cursor: this.cursors[this.page],
    };
  }

  /** Reads the current page and reconciles the table with it. */
  async load(): Promise<void> {
    this.loading?.abort();
    const abort = new AbortController();
    this.loading = abort;
    try {
      const page = await get<ClientPage>(`clients${query(this.params())}`, abort.signal);
      if (abort.signal.aborted) return;
      this.nextCursor = page.nextCursor ?? undefined;
      this.total = page.total ?? page.items.length;
      this.reconcile(page.items);
      this.pager(page.items.length);
    } catch (error) {
      if (abort.signal.aborted) return;
      setText(byId('page-info'), error instanceof ApiError ? `could not list clients: ${error.message}` : 'could not list clients (gateway unreachable)');
    } finally {
      if (this.loading === abort) this.loading = null;
    }
  }

  /** A presence event: the row, if shown, changes in the next frame; the page is re-read soon. */
  onPresence(event: PresenceEvent): void {
    this.applyEvents(event);
    this.refetch();
  }

  private patchFromEvents(batch: PresenceEvent[]): void {
    // In a burst that changes most of the page a highlight says nothing, and repainting it costs.
    let flashes = MAX_FLASHES;
    for (const event of batch) {
      const row = this.rows.get(event.clientId);
      if (!row) continue;
      this.setStatus(row, event.to);
      // What the transition implies about the socket; the next page read has the exact value.
      if (event.to === 'close' || event.reason === 'peer_closed') this.setConnected(row, false);
      else if (event.reason === 'login' || event.reason === 'relogin') this.setConnected(row, true);
      if (event.to === 'alive') setText(row.lastSeen, time(event.at));
      // A short highlight. The Web Animations API restarts it without the forced layout that
      // re-adding a CSS animation class needs (one layout per changed row, measured: it froze a burst).
      if (flashes-- > 0) row.tr.animate(FLASH, FLASH_MS);
    }
  }

  private reconcile(items: ClientRecord[]): void {
    const keep = new Set(items.map((r) => r.clientId));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    let cursor: ChildNode | null = this.tbody.firstChild;
    for (const record of items) {
      let row = this.rows.get(record.clientId);
      if (!row) {
        row = this.createRow(record.clientId);
        this.rows.set(record.clientId, row);
      }
      this.patch(row, record);
      if (row.tr !== cursor) this.tbody.insertBefore(row.tr, cursor);
      else cursor = cursor.nextSibling;
    }
    if (items.length === 0 && this.tbody.childElementCount === 0) {
      this.tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '7' }, 'no clients match')));
    } else {
      for (const el of Array.from(this.tbody.querySelectorAll('tr.empty'))) if (items.length > 0) el.remove();
    }
  }

  private createRow(clientId: string): Row {
    const cell = (cls: string) => h('td', { class: cls });
    const row: Row = {
      tr: h('tr', { 'data-client-id': clientId }),
      status: h('span', { class: 'st' }),
      connected: cell('connected'),
      node: cell('node'),
      remote: cell('remote'),
      lastSeen: cell('last-seen'),
      reported: cell('reported'),
    };
    row.tr.append(
      h('td', { class: 'id' }, h('a', { href: clientHref(clientId) }, clientId)),
      h('td', { class: 'status' }, row.status),
      row.connected,
      row.node,
      row.remote,
      row.lastSeen,
      row.reported,
    );
    return row;
  }

  private patch(row: Row, r: ClientRecord): void {
    this.setStatus(row, r.status);
    this.setConnected(row, r.connected);
    setText(row.node, r.nodeId ?? '—');
    setText(row.remote, r.remoteAddress ? `${r.remoteAddress}${r.remotePort ? `:${r.remotePort}` : ''}` : '—');
    setText(row.lastSeen, time(r.lastSeenAt));
    const reported = brief(r.reported);
    setText(row.reported, reported);
    if (row.reported.title !== reported) row.reported.title = reported;
  }

  private setStatus(row: Row, status: string): void {
    if (row.tr.dataset.status === status) return;
    row.tr.dataset.status = status;
    row.status.className = `st st-${status}`;
    setText(row.status, status);
  }

  private setConnected(row: Row, connected: boolean): void {
    const text = connected ? 'yes' : 'no';
    if (row.tr.dataset.connected === String(connected)) return;
    row.tr.dataset.connected = String(connected);
    setText(row.connected, text);
  }

  private pager(shown: number): void {
    const limit = Number(byId<HTMLSelectElement>('f-limit').value);
    const first = this.page * limit;
    setText(byId('page-info'), shown === 0 ? `0 of ${this.total}` : `${first + 1}–${first + shown} of ${this.total}`);
    byId<HTMLButtonElement>('prev').disabled = this.page === 0;
    byId<HTMLButtonElement>('next').disabled = !this.nextCursor;
  }
}
