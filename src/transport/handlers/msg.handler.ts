import { lastValueFrom } from 'rxjs';
import { ErrorCode, MsgMessage } from '../../protocol';
import type { Connection } from '../connection';
import { LongLinkContext } from '../long-link.context';
import { errorText } from '../replies';
import type { TransportContext } from '../transport-context';

/**
 * MSG (docs/PROTOCOL.md §2): the one message that goes through Nest's
 * handler pipeline, to the app's @MessagePattern / @EventPattern handlers.
 */
export function handleMsg(ctx: TransportContext, conn: Connection, msg: MsgMessage): void {
  ctx.stats.messages++;
  const { patterns, replies, logger } = ctx;
  const handler = patterns.getHandlerByPattern(msg.pattern);
  if (!handler) {
    replies.sendError(conn, ErrorCode.NO_HANDLER, `no handler for pattern '${msg.pattern.slice(0, 128)}'`, msg.id);
    return;
  }
  const context = new LongLinkContext([conn, msg.pattern]);
  const id = msg.id;
  if (id === undefined || handler.isEventHandler) {
    patterns
      .handleEvent(msg.pattern, { pattern: msg.pattern, data: msg.data }, context)
      .then(() => {
        // An event handler reached with an id is acknowledged once it has run.
        if (id !== undefined) replyData(conn, id, undefined);
      })
      .catch((error: unknown) => {
        logger.error(`event handler for '${msg.pattern}' failed: ${errorText(error)}`);
        if (id !== undefined) replyError(conn, id, error);
      });
    return;
  }
  Promise.resolve()
    .then(async () => {
      const result = patterns.transformToObservable(await handler(msg.data, context));
      return lastValueFrom(result, { defaultValue: undefined });
    })
    .then(
      (data) => replyData(conn, id, data),
      (error: unknown) => replyError(conn, id, error),
    )
    .catch((error: unknown) => logger.error(`reply to MSG '${msg.pattern}' failed: ${errorText(error)}`));
}

function replyData(conn: Connection, id: string, data: unknown): void {
  try {
    conn.send('MSG', data === undefined ? { id, ok: true } : { id, ok: true, data });
  } catch (error) {
    // e.g. a BigInt or a cycle in what the handler returned: the client still gets an answer.
    replyError(conn, id, new Error(`handler result is not serialisable as JSON: ${errorText(error)}`));
  }
}

function replyError(conn: Connection, id: string, error: unknown): void {
  conn.send('MSG', { id, ok: false, error: { code: ErrorCode.HANDLER_ERROR, message: errorText(error) } });
}
