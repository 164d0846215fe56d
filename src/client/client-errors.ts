/** Base of every error the SDK raises; `code` is stable, the message is for humans. */
export class LongLinkClientError extends Error {
  override name = 'LongLinkClientError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** send() got no reply in time. */
export class RequestTimeoutError extends LongLinkClientError {
  override name = 'RequestTimeoutError';
  constructor(pattern: string, timeoutMs: number, sent: boolean) {
    super(
      'REQUEST_TIMEOUT',
      `no reply to MSG '${pattern}' within requestTimeoutMs (${timeoutMs} ms)${sent ? '' : '; it was still queued, waiting for the connection'}`,
    );
  }
}

/** The frame could not be queued: the client is offline and maxQueuedFrames frames are already waiting. */
export class QueueFullError extends LongLinkClientError {
  override name = 'QueueFullError';
  constructor(what: string, queued: number, status: string) {
    super('QUEUE_FULL', `${what} refused: client is ${status} and ${queued} frames are already queued (maxQueuedFrames ${queued})`);
  }
}

/** The client was closed (by close(), a KICK, a refused LOGIN or reconnect_failed) before the operation could finish. */
export class ClientClosedError extends LongLinkClientError {
  override name = 'ClientClosedError';
  constructor(what: string, reason: string) {
    super('CLIENT_CLOSED', `${what}: client is closed (${reason})`);
  }
}

/** A request was written, then its connection dropped before the reply came: it may or may not have been handled. */
export class ConnectionLostError extends LongLinkClientError {
  override name = 'ConnectionLostError';
  constructor(pattern: string, reason: string) {
    super('CONNECTION_LOST', `connection lost before the reply to MSG '${pattern}' (${reason}); it may or may not have been handled`);
  }
}

/** The gateway answered an error (a MSG reply with ok:false, an ERROR frame, or a refused LOGIN). */
export class ServerError extends LongLinkClientError {
  override name = 'ServerError';
}
