import request from 'supertest';
import { RawClient } from '../support/raw-client';
import { startTestGateway, TestGateway } from '../support/gateway';

describe('gateway smoke', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('answers /health and LOGIN + HEART', async () => {
    await request(gw.httpUrl).get('/health').expect(200);
    const c = await RawClient.connect(gw.tcpPort);
    const reply = await c.login('smoke-1');
    expect(reply).toMatchObject({ type: 'LOGIN', ok: true, clientId: 'smoke-1', heartbeatMs: 10000 });
    c.send({ type: 'HEART' });
    expect(await c.nextOfType('HEART')).toMatchObject({ ok: true });
    c.close();
  });
});
