import request from 'supertest';
import { AdminTokenRequiredError } from '../../../src/admin/admin-auth';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { api, loggedIn, TOKEN } from './admin-helpers';

/** Admin auth, the error shape, OpenAPI, and 503 while shutting down. */
describe('admin API: auth, docs, shutdown', () => {
  describe('with ADMIN_TOKEN', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      gw = await startTestGateway({ ADMIN_TOKEN: TOKEN });
    });
    afterAll(() => gw.close());

    const routes: Array<[method: 'get' | 'post' | 'delete', path: string]> = [
      ['get', '/clients'],
      ['get', '/clients/stats'],
      ['get', '/clients/dev-1'],
      ['delete', '/clients/dev-1'],
      ['post', '/clients/kick'],
      ['post', '/clients/dev-1/commands'],
      ['get', '/clients/dev-1/commands'],
      ['post', '/commands/broadcast'],
      ['get', '/commands'],
      ['get', '/commands/some-id'],
      ['get', '/events'],
      ['get', '/metrics'],
    ];

    it.each(routes)('%s %s: 401 without a token and with a wrong one', async (method, path) => {
      const missing = await request(gw.httpUrl)[method](path).expect(401);
      expect(missing.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('missing Authorization header') });
      expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrong = await api(gw, 'not-the-token')[method](path).expect(401);
      expect(wrong.body.message).toBe('wrong admin token');
      const basic = await request(gw.httpUrl)[method](path).set('Authorization', `Basic ${TOKEN}`).expect(401);
      expect(basic.body.message).toMatch(/not of the form Bearer/);
    });

    it('lets the right token in, and /health without one', async () => {
      await api(gw).get('/clients').expect(200);
      await request(gw.httpUrl).get('/health').expect(200);
    });

    it('serves OpenAPI at /docs describing every route and DTO, with bearer auth', async () => {
      await request(gw.httpUrl).get('/docs').expect(200).expect('Content-Type', /html/);
      const doc = (await request(gw.httpUrl).get('/docs/json').expect(200)).body;
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          '/clients',
          '/clients/kick',
          '/clients/stats',
          '/clients/{clientId}',
          '/clients/{clientId}/commands',
          '/commands',
          '/commands/broadcast',
          '/commands/{id}',
          '/events',
          '/health',
          '/health/live',
          '/health/ready',
          '/metrics',
        ].sort(),
      );
      expect(doc.components.securitySchemes['admin-token']).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.paths['/clients'].get.security).toEqual([{ 'admin-token': [] }]);
      const schemas = doc.components.schemas;
      for (const dto of ['SendCommandDto', 'BroadcastDto', 'ClientFilterDto', 'BulkKickDto', 'CommandRecordDto', 'ClientRecordDto', 'ErrorResponseDto', 'BroadcastResultDto']) {
        expect(schemas[dto]).toBeDefined();
        for (const [field, schema] of Object.entries(schemas[dto].properties as Record<string, { description?: string; $ref?: string; allOf?: unknown }>)) {
          // Every field is described (a $ref points at a described schema).
          if (!schema.$ref && !schema.allOf) expect({ dto, field, description: schema.description ?? schema }).toEqual({ dto, field, description: expect.anything() });
        }
      }
      expect(schemas.SendCommandDto.required).toEqual(['name']);
      expect(schemas.SendCommandDto.properties.waitMs).toMatchObject({ type: 'integer', maximum: 60000 });
      // Every $ref points at a schema that exists.
      const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
      for (const ref of new Set(refs)) expect(schemas).toHaveProperty(ref.split('/').pop() as string);
      expect(doc.paths['/clients/{clientId}/commands'].post.responses).toHaveProperty('429');
    });
  });

  it('is open without ADMIN_TOKEN outside production', async () => {
    const gw = await startTestGateway({ NODE_ENV: 'development' });
    try {
      await request(gw.httpUrl).get('/clients').expect(200);
    } finally {
      await gw.close();
    }
  });

  it('refuses to start in production without ADMIN_TOKEN, with a message', async () => {
    await expect(startTestGateway({ NODE_ENV: 'production' })).rejects.toThrow(AdminTokenRequiredError);
    await expect(startTestGateway({ NODE_ENV: 'production' })).rejects.toThrow(/ADMIN_TOKEN is not set and NODE_ENV is production/);
    // With a token, production starts.
    const gw = await startTestGateway({ NODE_ENV: 'production', ADMIN_TOKEN: TOKEN });
    await gw.close();
  });

  it('answers 503 on admin routes once shutdown began', async () => {
    const gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, SHUTDOWN_GRACE_MS: 200 });
    const c = await loggedIn(gw, 'shut-1');
    try {
      const shutdown = gw.server.close(); // what app.close() does to the transport first
      const res = await api(gw).get('/clients').expect(503);
      expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'the gateway is shutting down' });
      await api(gw).post('/clients/shut-1/commands').send({ name: 'x' }).expect(503);
      await request(gw.httpUrl).get('/health').expect(503);
      await shutdown;
    } finally {
      c.close();
      await gw.close();
    }
  });
});
