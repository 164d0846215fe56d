// Counts by status and connected (GET /clients/stats), per node when the
// gateway is clustered, and a chart of the last minutes drawn as inline SVG
// polylines: the samples are the page's own reads of the stats, every
// SAMPLE_MS and soon after presence events, kept for WINDOW_MS.

import { get } from './api.js';
import { byId, h, setText } from './dom.js';
import { throttle } from './frame.js';
import type { Stats } from './types.js';

const SAMPLE_MS = 2000;
const WINDOW_MS = 5 * 60_000;
const MIN_SPAN_MS = 20_000;
const SERIES = ['alive', 'leave', 'close', 'connected'] as const;
type Series = (typeof SERIES)[number];
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;

interface Sample {
  at: number;
  values: Record<Series, number>;
}

export class Overview {
  private samples: Sample[] = [];
  private readonly lines = new Map<Series, SVGPolylineElement>();
  private timer: number | undefined;
  /** Presence events move the counts: read them again, but not more than twice a second. */
  readonly bump = throttle(() => void this.refresh(), 500);

  constructor() {
    const svg = byId('chart') as unknown as SVGSVGElement;
    for (const series of SERIES) {
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('class', `line ${series === 'connected' ? 'connected' : `st-${series}`}`);
      line.setAttribute('fill', 'none');
      line.setAttribute('vector-effect', 'non-scaling-stroke');
      svg.append(line);
      this.lines.set(series, line);
    }
  }

  start(): void {
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), SAMPLE_MS);
  }

  stop(): void {
    window.clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    let stats: Stats;
    try {
      stats = await get<Stats>('clients/stats');
    } catch {
      return; // the list shows the error; the next sample tries again
    }
    this.counts(stats);
    this.nodes(stats);
    this.sample(stats);
  }

  private counts(stats: Stats): void {
    const values: Record<string, number> = { total: stats.total, connected: stats.connected, ...stats.byStatus };
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('#overview [data-count]'))) {
      setText(el.querySelector('.n') as HTMLElement, String(values[el.dataset.count ?? ''] ?? 0));
    }
  }

  private nodes(stats: Stats): void {
    const table = byId<HTMLTableElement>('nodes');
    const nodes = Object.entries(stats.nodes ?? {}).sort(([a], [b]) => a.localeCompare(b));
    table.hidden = nodes.length === 0;
    const body = table.tBodies[0];
    // A handful of nodes: rebuilding these rows is cheaper than keying them.
    body.replaceChildren(
      ...nodes.map(([node, c]) => h('tr', { 'data-node-id': node }, h('td', {}, node), h('td', {}, String(c.connected)), h('td', {}, String(c.total)))),
    );
  }

  private sample(stats: Stats): void {
    const now = Date.now();
    this.samples.push({ at: now, values: { ...stats.byStatus, connected: stats.connected } });
    while (this.samples.length > 0 && this.samples[0].at < now - WINDOW_MS) this.samples.shift();
    const max = Math.max(1, ...this.samples.flatMap((s) => SERIES.map((k) => s.values[k])));
    // Until the page has been open WINDOW_MS, the chart spans what it has (at least MIN_SPAN_MS).
    const span = Math.max(MIN_SPAN_MS, now - this.samples[0].at);
    const x = (at: number) => (((at - (now - span)) / span) * WIDTH).toFixed(1);
    const y = (v: number) => (HEIGHT - 4 - (v / max) * (HEIGHT - 20)).toFixed(1);
    for (const series of SERIES) {
      const points = this.samples.map((s) => `${x(s.at)},${y(s.values[series])}`).join(' ');
      (this.lines.get(series) as SVGPolylineElement).setAttribute('points', points);
    }
    // The SVG stretches to its box (preserveAspectRatio none), so the scale is told in the caption, not drawn.
    const last = span < 90_000 ? `${Math.round(span / 1000)} s` : `${Math.round(span / 60_000)} min`;
    setText(byId('chart-range'), `last ${last}; top of the chart = ${max}`);
  }
}
