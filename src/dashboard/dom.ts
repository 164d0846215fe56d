// A few DOM helpers, so that views build elements without innerHTML (no
// markup from data ever reaches the parser).

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'class') el.className = value;
    else el.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** Sets text only when it changed: a write to textContent costs a layout even when equal. */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

const two = (n: number) => String(n).padStart(2, '0');

/** HH:MM:SS local. By hand: toLocaleTimeString was the page's top JS cost in a burst of events. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function dateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time(ms)}`;
}

/** JSON in one line, cut to `max` characters. */
export function brief(value: unknown, max = 80): string {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === '{}') return '—';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function clientHref(clientId: string): string {
  return `#/client/${encodeURIComponent(clientId)}`;
}
