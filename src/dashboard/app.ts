// The dashboard's entry: wires the views to the live stream and routes
// between the list (#/) and one client (#/client/<id>).

import { forgetToken, onTokenChange } from './api.js';
import { ClientList } from './client-list.js';
import { ClientPage } from './client-page.js';
import { byId, setText } from './dom.js';
import { EventLog } from './event-log.js';
import { Overview } from './overview.js';
import { openEvents, type StreamState } from './sse.js';
import type { LiveEvent } from './types.js';

const STATE_TEXT: Record<StreamState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  signin: 'sign-in needed',
};

function main(): void {
  const overview = new Overview();
  const list = new ClientList();
  const client = new ClientPage();
  const log = new EventLog();

  const route = () => {
    const match = /^#\/client\/(.+)$/.exec(location.hash);
    byId('list-view').hidden = match !== null;
    if (match) client.show(decodeURIComponent(match[1]));
    else {
      client.hide();
      void list.load();
    }
  };
  window.addEventListener('hashchange', route);

  const dispatch = (event: LiveEvent) => {
    log.push(event);
    client.onEvent(event);
    if (event.kind === 'presence') {
      list.onPresence(event.data);
      overview.bump();
    }
  };

  openEvents({
    message(m) {
      if (m.event !== 'presence' && m.event !== 'command') return;
      let data: unknown;
      try {
        data = JSON.parse(m.data);
      } catch {
        return; // not ours to show; the stream goes on
      }
      dispatch({ kind: m.event, data } as LiveEvent);
    },
    state(state) {
      const pill = byId('stream-state');
      pill.dataset.state = state;
      setText(pill, STATE_TEXT[state]);
    },
    resync() {
      void list.load();
      void overview.refresh();
    },
  });

  const signOut = byId<HTMLButtonElement>('sign-out');
  onTokenChange((has) => (signOut.hidden = !has));
  signOut.addEventListener('click', () => {
    forgetToken();
    location.reload();
  });

  overview.start();
  route();
}

main();
