/** What nodes send each other through their inboxes (one JSON array per XADD: every message of one turn for that node). */
export type BusMessage =
  /** These clients have new commands in their queue: deliver them (the queue is the truth; this is only the nudge). */
  | { t: 'cmds'; clientIds: string[] }
  /** Kick these clients' sessions here; answer `reply` with the ones found when `req` is set. */
  | { t: 'kick'; clientIds: string[]; reason: string; from: string; req?: string }
  /** A login on another node took this client over: drop the session (or the record) held here if it is still the one of `epoch` or older. */
  | { t: 'takeover'; clientId: string; epoch: number; by: string }
  /** These commands, posted on this node, became final elsewhere (waitMs). */
  | { t: 'final'; ids: string[] }
  | { t: 'reply'; req: string; found: string[] };
