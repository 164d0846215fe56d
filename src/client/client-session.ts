import { LoginMessage } from '../protocol';
import { LongLinkClientError, ServerError } from './client-errors';
import type { KickEvent, SessionInfo } from './client-events';
import type { ClientHeartbeat } from './client-heartbeat';
import type { ResolvedClientOptions } from './client-options';
import type { ClientSocket, ClientSocketHandler } from './client-socket';
import type { CommandDispatcher } from './command-dispatcher';
import { CommandReceiverHost, receiveCommand } from './command-receiver';
import type { Outbox } from './outbox';
import { errorBody, settleError, settleReply } from './server-replies';

const HEART_ANSWER = { type: 'HEART', ok: true } as const;

/** What a session tells its client: the decisions that change the client's status, and its events. */
export interface SessionHost {
  /** The client's socket now; frames of any other one (superseded, or let go by close()) are ignored. */
  current(): ClientSocket | undefined;
  /** Online already: a second LOGIN reply is ignored. */
  isOnline(): boolean;
  /** The gateway accepted the LOGIN. */
  loggedIn(socket: ClientSocket, session: SessionInfo): void;
  /** The connection ending now must not be followed by a reconnect (a refused LOGIN, a KICK in stopOnKick). */
  stopAfter(reason: string): void;
  /** The socket closed, whatever closed it. */
  closed(socket: ClientSocket, reason: string): void;
  fireError(error: LongLinkClientError): void;
  fireKicked(event: KickEvent): void;
}

/**
 * The client's side of the conversation on a connection: LOGIN when it
 * opens, the LOGIN reply (online, or refused for good), HEART probes
 * answered, CMD run and ACKed once per id, MSG and ERROR replies settled,
 * KICK obeyed; any bytes count as life. It holds no state of its own: the
 * status is the client's, the attempts are the ReconnectLoop's.
 */
export class ClientSession implements ClientSocketHandler {
  constructor(
    private readonly options: ResolvedClientOptions,
    private readonly commands: CommandDispatcher,
    private readonly outbox: Outbox,
    private readonly heartbeat: ClientHeartbeat,
    private readonly receiver: CommandReceiverHost,
    private readonly host: SessionHost,
  ) {}

  onOpen(socket: ClientSocket): void {
    if (socket !== this.host.current()) return;
    const { clientId, token, meta } = this.options;
    const login: LoginMessage = { type: 'LOGIN', clientId };
    if (token !== undefined) login.token = token;
    if (meta !== undefined) login.meta = meta;
    socket.send(login);
  }

  onClosed(socket: ClientSocket, reason: string): void {
    this.host.closed(socket, reason);
  }

  onBytes(socket: ClientSocket): void {
    if (socket === this.host.current()) this.heartbeat.heard();
  }

  onEmptyFrame(): void {
    // The answer to a zero-length heartbeat; its bytes already counted as life.
  }

  onBadFrame(socket: ClientSocket, code: string, detail: string): void {
    if (socket === this.host.current()) this.host.fireError(new LongLinkClientError(code, `bad frame from the server: ${detail}`));
  }

  onMessage(socket: ClientSocket, m: Record<string, unknown>): void {
    if (socket !== this.host.current()) return;
    const type = m.type ?? m.code;
    switch (type) {
      case 'HEART':
        // A reply has `ok`; a probe of the server's own is answered.
        if (m.ok === undefined) socket.send(HEART_ANSWER);
        return;
      case 'CMD':
        receiveCommand(socket, m, this.commands, this.receiver);
        return;
      case 'MSG':
        settleReply(this.outbox, m);
        return;
      case 'LOGIN':
        if (this.host.isOnline()) return;
        if (m.ok === true) this.host.loggedIn(socket, this.sessionFrom(m));
        else this.onLoginRefused(socket, m);
        return;
      case 'KICK':
        this.onKick(socket, m);
        return;
      case 'ERROR':
        settleError(this.outbox, m, (error) => this.host.fireError(error));
        return;
      default:
        // Unknown types are ignored: a newer gateway may send more than this SDK knows.
        return;
    }
  }

  /** The LOGIN reply as the session it opens; the heartbeat interval is the gateway's, when it names one. */
  private sessionFrom(reply: Record<string, unknown>): SessionInfo {
    const heartbeatMs = typeof reply.heartbeatMs === 'number' && reply.heartbeatMs > 0 ? reply.heartbeatMs : this.options.heartbeatMs;
    return {
      clientId: typeof reply.clientId === 'string' ? reply.clientId : this.options.clientId,
      sessionId: String(reply.sessionId ?? ''),
      heartbeatMs,
      serverTime: Number(reply.serverTime ?? 0),
    };
  }

  private onLoginRefused(socket: ClientSocket, m: Record<string, unknown>): void {
    const error = errorBody(m.error);
    const message = `LOGIN refused for '${this.options.clientId}': ${error.code}: ${error.message}`;
    this.host.stopAfter(message);
    this.host.fireError(new ServerError(error.code, message));
    socket.end(message);
  }

  private onKick(socket: ClientSocket, m: Record<string, unknown>): void {
    const reason = typeof m.reason === 'string' ? m.reason : 'unknown';
    const stop = this.options.stopOnKick.includes(reason);
    if (stop) this.host.stopAfter(`kicked: ${reason}`);
    this.host.fireKicked({ reason, willReconnect: !stop });
    // The gateway closes right after a KICK; end our side too.
    socket.end(`kicked: ${reason}`);
  }
}
