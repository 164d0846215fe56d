import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import { CommandError, CommandErrorKind } from '../commands/command.errors';
import { StoreUnavailableError } from '../store/store.errors';

const STATUS_OF: Record<CommandErrorKind, number> = {
  client_not_found: HttpStatus.NOT_FOUND,
  command_not_found: HttpStatus.NOT_FOUND,
  client_closed: HttpStatus.CONFLICT,
  queue_full: HttpStatus.TOO_MANY_REQUESTS,
  too_large: HttpStatus.BAD_REQUEST,
  bad_cursor: HttpStatus.BAD_REQUEST,
};

/** The one error shape of the admin API. */
export interface AdminErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/**
 * Every error of the admin controllers as `{statusCode, error, message}`,
 * with `message` one string: HttpExceptions as they are, CommandErrors by
 * kind, store faults (a full disk) 503, anything else a logged 500 that does not leak its text.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (res.headersSent) {
      // An SSE stream already started: nothing to answer with but the end.
      res.end();
      return;
    }
    if (body.statusCode === HttpStatus.UNAUTHORIZED) res.setHeader('WWW-Authenticate', 'Bearer realm="longlink-admin"');
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): AdminErrorBody {
    if (exception instanceof CommandError) {
      const statusCode = STATUS_OF[exception.kind];
      return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: exception.message };
    }
    if (exception instanceof StoreUnavailableError) {
      // The request was fine; the store under it failed (a full disk): retry later. Logged, since an operator must act.
      this.logger.error(`store unavailable: ${exception.message}${exception.code ? ` (${exception.code})` : ''}`);
      return { statusCode: 503, error: STATUS_CODES[503] as string, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const response = exception.getResponse();
      let message = exception.message;
      if (typeof response === 'object' && response !== null && 'message' in response) {
        const m = (response as { message: unknown }).message;
        message = Array.isArray(m) ? m.join('; ') : String(m);
      } else if (typeof response === 'string') message = response;
      return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
    }
    this.logger.error(`unhandled error: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`);
    return { statusCode: 500, error: STATUS_CODES[500] as string, message: 'internal error (see the gateway log)' };
  }
}
