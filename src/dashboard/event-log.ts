// The live event log: presence and command events, newest on top, at most
// KEEP entries. Appended at most every RENDER_MS, not every frame: in a burst
// of thousands of events a second, inserting and trimming entries 60 times a
// second was most of the page's work (measured with 10,000 clients), and
// nobody reads a log scrolling that fast. While paused, events are held (the
// newest KEEP of them) and shown on resume.

import { byId, clientHref, h, setText, time } from './dom.js';
import { throttle } from './frame.js';
import type { LiveEvent } from './types.js';

const KEEP = 500;
const RENDER_MS = 250;

export class EventLog {
  private readonly list = byId<HTMLOListElement>('log-list');
  private readonly button = byId<HTMLButtonElement>('log-pause');
  private paused = false;
  private held: LiveEvent[] = [];
  private dropped = 0;
  private pending: LiveEvent[] = [];
  private readonly flush = throttle(() => {
    const batch = this.pending;
    this.pending = [];
    this.render(batch);
  }, RENDER_MS);

  constructor() {
    this.button.addEventListener('click', () => this.setPaused(!this.paused));
  }

  push(event: LiveEvent): void {
    if (!this.paused) {
      this.pending.push(event);
      if (this.pending.length > KEEP) this.pending.shift();
      return this.flush();
    }
    this.held.push(event);
    if (this.held.length > KEEP) {
      this.held.shift();
      this.dropped += 1;
    }
    this.info();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.button.textContent = paused ? 'Resume' : 'Pause';
    this.button.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      const held = this.held;
      this.held = [];
      this.dropped = 0;
      if (held.length > 0) this.render(held);
    }
    this.info();
  }

  private info(): void {
    const text = this.paused ? `paused: ${this.held.length} new event(s) held${this.dropped ? `, ${this.dropped} older dropped` : ''}` : '';
    setText(byId('log-info'), text);
  }

  private render(batch: LiveEvent[]): void {
    // Only the newest KEEP of a big batch can stay anyway.
    const fragment = document.createDocumentFragment();
    for (const event of batch.slice(-KEEP).reverse()) fragment.append(this.entry(event));
    this.list.prepend(fragment);
    while (this.list.childElementCount > KEEP) this.list.lastElementChild?.remove();
  }

  private entry(event: LiveEvent): HTMLLIElement {
    const d = event.data;
    const who = h('a', { href: clientHref(d.clientId), class: 'who' }, d.clientId);
    if (event.kind === 'presence') {
      const p = event.data;
      return h(
        'li',
        { 'data-kind': 'presence', 'data-client-id': p.clientId, 'data-to': p.to },
        h('time', {}, time(p.at)),
        who,
        ' ',
        h('span', { class: `st st-${p.from ?? 'new'}` }, p.from ?? 'new'),
        ' → ',
        h('span', { class: `st st-${p.to}` }, p.to),
        h('span', { class: 'reason' }, ` (${p.reason})`),
      );
    }
    const c = event.data;
    return h(
      'li',
      { 'data-kind': 'command', 'data-client-id': c.clientId, 'data-to': c.to, 'data-command-id': c.id },
      h('time', {}, time(c.at)),
      who,
      ' ',
      h('span', { class: 'cmd' }, c.name),
      ' ',
      h('span', { class: `cs cs-${c.from ?? 'new'}` }, c.from ?? 'new'),
      ' → ',
      h('span', { class: `cs cs-${c.to}` }, c.to),
    );
  }
}
