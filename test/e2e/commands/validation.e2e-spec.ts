import { startTestGateway, TestGateway } from '../../support/gateway';
import { RawClient } from '../../support/raw-client';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

/** Bad bodies are refused with 400 and a message that names the field. */
describe('commands e2e: validation', () => {
  let gw: TestGateway;
  let client: RawClient;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_FRAME_BYTES: 1024 });
    client = await loggedIn(gw, 'val-1');
  });
  afterAll(async () => {
    client.close();
    await gw.close();
  });

  const cases: Array<[what: string, body: unknown, message: RegExp]> = [
    ['no name', { data: 1 }, /^name must be a string/],
    ['empty name', { name: '' }, /^name should not be empty/],
    ['name too long', { name: 'x'.repeat(129) }, /^name must be shorter than or equal to 128 characters/],
    ['ttlMs not a number', { name: 'a', ttlMs: 'soon' }, /^ttlMs must be an integer/],
    ['ttlMs zero', { name: 'a', ttlMs: 0 }, /^ttlMs must not be less than 1/],
    ['waitMs too long', { name: 'a', waitMs: 600000 }, /^waitMs must not be greater than 60000/],
    ['queue not boolean', { name: 'a', queue: 'yes' }, /^queue must be a boolean/],
    ['unknown field (typo)', { name: 'a', ttl: 5 }, /^property ttl should not exist/],
    ['data too large for a frame', { name: 'a', data: 'x'.repeat(2000) }, /^data: the CMD frame would be \d+ bytes, above MAX_FRAME_BYTES \(1024\)/],
  ];

  it.each(cases)('POST /clients/:id/commands with %s → 400', async (_what, body, message) => {
    const res = await api(gw).post('/clients/val-1/commands').send(body as object).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(typeof res.body.message).toBe('string');
    expect(res.body.message).toMatch(message);
  });

  it('names every bad field at once, nested ones by path', async () => {
    const res = await api(gw)
      .post('/commands/broadcast')
      .send({ ttlMs: -5, filter: { status: 'zombie', clientIds: 'dev-1', meta: 3 } })
      .expect(400);
    const message: string = res.body.message;
    for (const part of ['name must be a string', 'ttlMs must not be less than 1', 'filter.status must be one of', 'filter.clientIds must be an array', 'filter.meta must be an object']) {
      expect(message).toContain(part);
    }
  });

  it('answers invalid JSON with 400 in the same shape', async () => {
    const res = await api(gw).post('/clients/val-1/commands').set('Content-Type', 'application/json').send('{"name": ').expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('keeps any JSON value of data as given (arrays, nested objects, strings)', async () => {
    for (const data of [[1, { a: [2] }], { deep: { list: [true, null] } }, 'text', 0]) {
      const res = await api(gw).post('/clients/val-1/commands').send({ name: 'echo', data }).expect(202);
      expect(res.body.data).toEqual(data);
      expect((await client.nextOfType('CMD')).data).toEqual(data);
    }
  });

  it('refuses a malformed clientId in the path', async () => {
    const res = await api(gw).post('/clients/has%20space/commands').send({ name: 'a' }).expect(400);
    expect(res.body.message).toMatch(/^clientId must be/);
  });
});
