import request from 'supertest';
import { startTestGateway, TestGateway } from '../../support/gateway';
import { buildDashboard } from '../../browser/browser';

/** GET /dashboard and its files: what is served, with which headers, and what is not. */
describe('admin API: the dashboard route', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    [gw] = await Promise.all([startTestGateway({ ADMIN_TOKEN: 'route-token' }), buildDashboard()]);
  }, 30_000);
  afterAll(() => gw.close());

  it('serves the page without a token (it holds no data), with a same-origin-only CSP', async () => {
    const res = await request(gw.httpUrl).get('/dashboard').expect(200).expect('Content-Type', /html/);
    expect(res.text).toContain('<script type="module" src="dashboard/app.js">');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves the built scripts and styles with their types', async () => {
    await request(gw.httpUrl).get('/dashboard/app.js').expect(200).expect('Content-Type', /javascript/);
    await request(gw.httpUrl).get('/dashboard/sse.js').expect(200).expect('Content-Type', /javascript/);
    await request(gw.httpUrl).get('/dashboard/dashboard.css').expect(200).expect('Content-Type', /css/);
  });

  it('serves nothing else: no other names, no dot files, no way out of the directory', async () => {
    await request(gw.httpUrl).get('/dashboard/nope.js').expect(404);
    await request(gw.httpUrl).get('/dashboard/index.ts').expect(404);
    await request(gw.httpUrl).get('/dashboard/.hidden.js').expect(404);
    await request(gw.httpUrl).get('/dashboard/..%2Fmain.js').expect(404);
    await request(gw.httpUrl).get('/dashboard/%2E%2E%2Fpackage.json').expect(404);
  });

  it('redirects /dashboard/ to /dashboard, where the relative links resolve', async () => {
    const res = await request(gw.httpUrl).get('/dashboard/').expect(301);
    expect(res.headers.location).toBe('/dashboard');
  });

  it('keeps the admin API behind the token', async () => {
    await request(gw.httpUrl).get('/clients').expect(401);
  });
});
