// One client: its record, its transitions timeline (with reasons), its
// commands with their outcomes, a form to push a command and a kick button.
// Live events for this client re-read the record or the commands (a single
// client: re-rendering its sections is cheap and keeps the page exact).

import { ApiError, get, request } from './api.js';
import { brief, byId, dateTime, h, setText, time } from './dom.js';
import { throttle } from './frame.js';
import type { ClientRecord, CommandPage, CommandRecord, LiveEvent } from './types.js';

/** How long a push waits for the client's ACK before answering with the command as it is. */
const PUSH_WAIT_MS = 5000;
const COMMANDS_SHOWN = 50;

export class ClientPage {
  private readonly root = byId('client-view');
  private clientId: string | null = null;
  private readonly reloadRecord = throttle(() => void this.loadRecord(), 300);
  private readonly reloadCommands = throttle(() => void this.loadCommands(), 300);

  show(clientId: string): void {
    this.clientId = clientId;
    const outcome = h('p', { id: 'cmd-outcome', class: 'outcome', 'aria-live': 'polite' });
    const name = h('input', { id: 'cmd-name', required: '', maxlength: '128', placeholder: 'name, e.g. reboot', 'aria-label': 'command name' });
    const data = h('textarea', { id: 'cmd-data', rows: '3', placeholder: '{"any": "JSON", "or": "empty"}', 'aria-label': 'command data (JSON)' });
    const form = h('form', { id: 'cmd-form', class: 'cmd-form' }, name, data, h('button', { type: 'submit' }, 'Push command'), outcome);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.push(name.value.trim(), data.value.trim(), outcome);
    });
    const kick = h('button', { id: 'kick', type: 'button', class: 'danger' }, 'Kick');
    kick.addEventListener('click', () => void this.kick());
    this.root.replaceChildren(
      h('div', { class: 'client-head' }, h('a', { href: '#/' }, '← all clients'), h('h2', { id: 'client-title' }, clientId), h('span', { id: 'client-status', class: 'st' }), kick),
      h('p', { id: 'client-message', class: 'muted' }),
      h('div', { class: 'client-grid' },
        h('section', {}, h('h3', {}, 'Record'), h('dl', { id: 'client-record', class: 'record' })),
        h('section', {}, h('h3', {}, 'Transitions'), h('ol', { id: 'client-timeline', class: 'timeline' })),
      ),
      h('section', {}, h('h3', {}, 'Push a command'), form),
      h('section', {},
        h('h3', {}, 'Commands'),
        h('table', { id: 'client-commands', class: 'commands' },
          h('thead', {}, h('tr', {}, ...['created', 'name', 'status', 'attempts', 'finished', 'result / error', 'id'].map((t) => h('th', {}, t)))),
          h('tbody'),
        ),
      ),
    );
    this.root.hidden = false;
    void this.loadRecord();
    void this.loadCommands();
  }

  hide(): void {
    this.clientId = null;
    this.root.hidden = true;
  }

  onEvent(event: LiveEvent): void {
    if (!this.clientId || event.data.clientId !== this.clientId) return;
    if (event.kind === 'presence') this.reloadRecord();
    else this.reloadCommands();
  }

  private message(text: string): void {
    setText(byId('client-message'), text);
  }

  private async loadRecord(): Promise<void> {
    const id = this.clientId;
    if (!id) return;
    let record: ClientRecord;
    try {
      record = await get<ClientRecord>(`clients/${encodeURIComponent(id)}`);
    } catch (error) {
      if (id === this.clientId) this.message(error instanceof ApiError && error.status === 404 ? 'nobody knows this client (no record)' : `could not read the client: ${(error as Error).message}`);
      return;
    }
    if (id !== this.clientId) return;
    const status = byId('client-status');
    status.className = `st st-${record.status}`;
    setText(status, record.status);
    const fields: Array<[string, string]> = [
      ['status', `${record.status} since ${dateTime(record.statusSince)}`],
      ['connected', record.connected ? 'yes' : 'no'],
      ['node', record.nodeId ?? '—'],
      ['remote address', record.remoteAddress ? `${record.remoteAddress}:${record.remotePort ?? ''}` : '—'],
      ['session', record.sessionId ?? '—'],
      ['epoch', record.epoch === undefined ? '—' : String(record.epoch)],
      ['connected at', dateTime(record.connectedAt)],
      ['last seen', dateTime(record.lastSeenAt)],
      ['last heartbeat', dateTime(record.lastHeartbeatAt)],
      ['strikes', String(record.strikes ?? 0)],
      ['close reason', record.closeReason ?? '—'],
      ['meta', brief(record.meta, 400)],
      ['reported', brief(record.reported, 400)],
    ];
    byId('client-record').replaceChildren(...fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v)]));
    const transitions = [...(record.transitions ?? [])].reverse(); // newest first
    byId('client-timeline').replaceChildren(
      ...transitions.map((t) =>
        h('li', { 'data-to': t.to },
          h('time', {}, dateTime(t.at)), ' ',
          h('span', { class: `st st-${t.from ?? 'new'}` }, t.from ?? 'new'), ' → ', h('span', { class: `st st-${t.to}` }, t.to),
          h('span', { class: 'reason' }, ` ${t.reason}`),
          t.nodeId ? h('span', { class: 'muted' }, ` on ${t.nodeId}`) : null,
        ),
      ),
    );
  }

  private async loadCommands(): Promise<void> {
    const id = this.clientId;
    if (!id) return;
    let items: CommandRecord[];
    try {
      // Oldest first in the API; the newest are what an operator looks for.
      items = (await get<CommandPage>(`clients/${encodeURIComponent(id)}/commands?limit=1000`)).items;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) items = [];
      else return;
    }
    if (id !== this.clientId) return;
    const rows = items.slice(-COMMANDS_SHOWN).reverse().map((c) =>
      h('tr', { 'data-command-id': c.id, 'data-status': c.status },
        h('td', {}, time(c.createdAt)),
        h('td', {}, c.name),
        h('td', {}, h('span', { class: `cs cs-${c.status}` }, c.status)),
        h('td', {}, String(c.attempts)),
        h('td', {}, time(c.finishedAt)),
        h('td', { class: 'reported' }, c.status === 'failed' ? brief(c.error) : brief(c.result)),
        h('td', { class: 'muted mono' }, c.id.slice(0, 8)),
      ),
    );
    byId('client-commands').querySelector('tbody')?.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: '7', class: 'muted' }, 'no commands'))]));
  }

  private async push(name: string, dataText: string, outcome: HTMLElement): Promise<void> {
    const id = this.clientId;
    if (!id) return;
    let data: unknown;
    if (dataText) {
      try {
        data = JSON.parse(dataText);
      } catch (error) {
        outcome.className = 'outcome error';
        setText(outcome, `data is not JSON: ${(error as Error).message}`);
        return;
      }
    }
    outcome.className = 'outcome';
    setText(outcome, `pushing ${name}, waiting up to ${PUSH_WAIT_MS / 1000} s for the ACK…`);
    try {
      const body: Record<string, unknown> = { name, waitMs: PUSH_WAIT_MS };
      if (data !== undefined) body.data = data;
      const { body: command } = await request<CommandRecord>(`clients/${encodeURIComponent(id)}/commands`, { method: 'POST', body });
      outcome.dataset.status = command.status;
      outcome.className = `outcome cs-${command.status}`;
      const detail =
        command.status === 'acked' ? `result ${brief(command.result, 200)}`
        : command.status === 'failed' ? `error ${brief(command.error, 200)}`
        : command.status === 'expired' ? 'expired before an ACK'
        : `no outcome within ${PUSH_WAIT_MS / 1000} s; it stays ${command.status} (see the list below)`;
      setText(outcome, `${command.name}: ${command.status}, ${detail}`);
    } catch (error) {
      outcome.dataset.status = 'refused';
      outcome.className = 'outcome error';
      setText(outcome, `refused: ${(error as Error).message}`);
    }
    void this.loadCommands();
  }

  private async kick(): Promise<void> {
    const id = this.clientId;
    if (!id) return;
    if (!window.confirm(`Kick ${id}? Its socket gets KICK kicked and is closed; the record goes to close.`)) return;
    try {
      await request(`clients/${encodeURIComponent(id)}`, { method: 'DELETE' });
      this.message(`${id} was kicked`);
    } catch (error) {
      this.message(`kick failed: ${(error as Error).message}`);
    }
    void this.loadRecord();
  }
}
