import { ArgumentsHost, BadRequestException, ExecutionContext, Logger, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AdminAuthGuard, AdminTokenRequiredError, assertAdminAuthConfig } from '../../../src/admin/admin-auth';
import { AdminExceptionFilter } from '../../../src/admin/admin-exception.filter';
import { flattenValidationErrors } from '../../../src/admin/admin-validation.pipe';
import { BroadcastDto } from '../../../src/admin/dto';
import { ClientClosedError, CommandNotFoundError, QueueFullError } from '../../../src/commands/command.errors';
import { configFrom } from '../../../src/config';
import { StoreFullError } from '../../../src/store/store.errors';

/** A response double that records what the filter sent. */
function fakeHost() {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const res = {
    headersSent: false,
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
      return this;
    },
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
    },
    end() {},
  };
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('AdminExceptionFilter', () => {
  const filter = new AdminExceptionFilter();
  it.each([
    [new QueueFullError('d', 3, 3), 429, 'Too Many Requests'],
    [new ClientClosedError('d', 'logout'), 409, 'Conflict'],
    [new CommandNotFoundError('x'), 404, 'Not Found'],
    [new NotFoundException('no such'), 404, 'Not Found'],
    [new BadRequestException(['a must be x', 'b must be y']), 400, 'Bad Request'],
    [new StoreFullError('the database is full', 'SQLITE_FULL'), 503, 'Service Unavailable'],
  ])('maps %p to %d', (error, status, text) => {
    const { host, sent } = fakeHost();
    filter.catch(error, host);
    expect(sent.status).toBe(status);
    expect(sent.body).toEqual({ statusCode: status, error: text, message: expect.any(String) });
  });

  it('joins a list of messages into one string', () => {
    const { host, sent } = fakeHost();
    filter.catch(new BadRequestException(['a must be x', 'b must be y']), host);
    expect(sent.body).toMatchObject({ message: 'a must be x; b must be y' });
  });

  it('answers an unknown error with a 500 that does not leak its text', () => {
    const { host, sent } = fakeHost();
    // The filter logs it; keep the test output clean.
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    filter.catch(new Error('secret db password in here'), host);
    expect(sent.status).toBe(500);
    expect(JSON.stringify(sent.body)).not.toContain('secret');
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('secret db password'));
    logged.mockRestore();
  });

  it('adds WWW-Authenticate to a 401', () => {
    const { host, sent } = fakeHost();
    filter.catch(new UnauthorizedException('nope'), host);
    expect(sent.headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });
});

describe('flattenValidationErrors', () => {
  it('names nested fields by their path', async () => {
    const dto = plainToInstance(BroadcastDto, { name: 'x', filter: { status: 'nope', connected: 'yes' } });
    const messages = flattenValidationErrors(await validate(dto, { stopAtFirstError: true }));
    expect(messages).toEqual([expect.stringMatching(/^filter\.status must be one of/), 'filter.connected must be a boolean value']);
  });
});

describe('admin auth', () => {
  const context = (authorization?: string) =>
    ({ switchToHttp: () => ({ getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }) }) }) as unknown as ExecutionContext;

  it('accepts exactly the configured bearer token', () => {
    const guard = new AdminAuthGuard(configFrom({ ADMIN_TOKEN: 's3cret' }));
    expect(guard.canActivate(context('Bearer s3cret'))).toBe(true);
    expect(guard.canActivate(context('bearer s3cret'))).toBe(true);
    expect(() => guard.canActivate(context('Bearer s3cret2'))).toThrow('wrong admin token');
    expect(() => guard.canActivate(context('Bearer s3cre'))).toThrow('wrong admin token');
    expect(() => guard.canActivate(context())).toThrow(/missing Authorization/);
    expect(() => guard.canActivate(context('s3cret'))).toThrow(/not of the form Bearer/);
  });

  it('is open without a token, which production refuses', () => {
    expect(new AdminAuthGuard(configFrom({})).canActivate(context())).toBe(true);
    expect(() => assertAdminAuthConfig(configFrom({ NODE_ENV: 'production' }))).toThrow(AdminTokenRequiredError);
    expect(() => assertAdminAuthConfig(configFrom({ NODE_ENV: 'production', ADMIN_TOKEN: 't' }))).not.toThrow();
    expect(() => assertAdminAuthConfig(configFrom({ NODE_ENV: 'staging' }))).not.toThrow();
  });
});
