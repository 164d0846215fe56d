// GET /events read with fetch instead of EventSource: EventSource cannot
// send an Authorization header, and the alternative (the token in the URL)
// would leave it in access logs and history. The stream is parsed here
// (the text/event-stream format: `event:`, `id:`, `data:`, blank line, `:`
// comment), and a reconnect resumes with Last-Event-ID like EventSource.

import { askToken, authHeaders } from './api.js';

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'signin';

export interface StreamHandlers {
  message(message: SseMessage): void;
  state(state: StreamState): void;
  /**
   * The events in between are lost: the stream could not resume (the gateway
   * answered `event: reset`, or there was no event id to resume from), so
   * re-read the state.
   */
  resync(): void;
}

/** Splits a text/event-stream into messages; fed chunk by chunk. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  /** The last `id:` seen: what a reconnect sends as Last-Event-ID. */
  lastEventId: string | undefined;

  constructor(private readonly emit: (m: SseMessage) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    // A chunk may end between the \r and \n of one line end: keep that \r for the next chunk.
    const complete = this.buffer.endsWith('\r') ? this.buffer.length - 1 : this.buffer.length;
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    let match: RegExpExecArray | null;
    while ((match = lineEnd.exec(this.buffer)) !== null && match.index < complete) {
      this.line(this.buffer.slice(start, match.index));
      start = match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.emit({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastEventId });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // keep-alive comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
  }
}

/**
 * Keeps one stream open (reconnecting with a capped backoff) until the
 * returned function is called. A reconnect sends `Last-Event-ID`, as an
 * EventSource would, so the gateway replays what was missed.
 */
export function openEvents(handlers: StreamHandlers): () => void {
  const abort = new AbortController();
  let delayMs = 500;
  let connectedOnce = false;
  let lastEventId: string | undefined;

  const run = async () => {
    while (!abort.signal.aborted) {
      handlers.state(connectedOnce ? 'reconnecting' : 'connecting');
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const res = await fetch('events', { headers, signal: abort.signal, cache: 'no-store' });
        if (res.status === 401) {
          handlers.state('signin');
          await askToken('wrong admin token');
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`GET /events answered ${res.status}`);
        handlers.state('live');
        if (connectedOnce && lastEventId === undefined) handlers.resync();
        connectedOnce = true;
        delayMs = 500;
        const parser = new SseParser((message) => {
          lastEventId = message.id;
          if (message.event === 'reset') handlers.resync();
          else handlers.message(message);
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      handlers.state('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 10_000);
    }
  };
  void run();
  return () => abort.abort();
}
