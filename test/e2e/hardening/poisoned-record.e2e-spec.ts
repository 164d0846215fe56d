import { PRESENCE_STORE, PresenceStore } from '../../../src/presence/presence.store';
import type { ClientRecord } from '../../../src/presence/presence.types';
import { encodeJson } from '../../../src/transport/codec';
import { startTestGateway, TestGateway } from '../../support/gateway';
import type { RawClient } from '../../support/raw-client';
import { api, loggedIn, TOKEN } from '../admin/admin-helpers';

/**
 * Issue 12, item 1: one HEART with a 30,000-deep array field (5,000 levels
 * were enough) was stored as the client's reported state; from then on every
 * admin read that touched the record (GET /clients, /clients/:id, ?q=, bulk
 * kick by filter) answered 500 for the 24 h the record was kept, because
 * structuredClone and JSON.stringify recurse. Item 6: a 15,000-deep HTTP body
 * answered 500 (class-transformer recursing), not 400.
 */
const DEEP = 5000;
const deepArrayJson = (n: number) => `${'['.repeat(n)}0${']'.repeat(n)}`;
const deepObjectJson = (n: number) => `${'{"a":'.repeat(n)}0${'}'.repeat(n)}`;

function sendJson(client: RawClient, json: string): void {
  client.writeRaw(encodeJson(client.framing, json));
}

async function heartOk(client: RawClient): Promise<void> {
  client.send({ type: 'HEART' });
  expect(await client.nextOfType('HEART')).toMatchObject({ ok: true });
}

async function limitHits(gw: TestGateway, limit: string): Promise<number> {
  const text = (await api(gw).get('/metrics')).text;
  const m = new RegExp(`^longlink_limit_hits_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('hardening: a poisoned frame or record cannot break the admin API', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_TOKEN: TOKEN, MAX_REPORTED_BYTES: 512 });
  });
  afterAll(() => gw.close());

  it('refuses a HEART with a 5,000-deep field with an ERROR; the session lives and every admin read and kick still works', async () => {
    const client = await loggedIn(gw, 'poison-1', { region: 'eu' });
    client.send({ type: 'HEART', status: 'fine' });
    await client.nextOfType('HEART');
    const before = await limitHits(gw, 'json_depth');
    sendJson(client, `{"type":"HEART","deep":${deepArrayJson(DEEP)}}`);
    expect(await client.nextOfType('ERROR')).toEqual({ type: 'ERROR', code: 'BAD_MESSAGE', message: 'HEART fields nest deeper than MAX_JSON_DEPTH (32)' });
    await heartOk(client);
    expect(await limitHits(gw, 'json_depth')).toBe(before + 1);

    const one = await api(gw).get('/clients/poison-1');
    expect(one.status).toBe(200);
    expect(one.body.reported).toEqual({ status: 'fine' });
    const page = await api(gw).get('/clients');
    expect(page.status).toBe(200);
    expect(page.body.items.map((r: ClientRecord) => r.clientId)).toContain('poison-1');
    const found = await api(gw).get('/clients?q=poison-1');
    expect(found.status).toBe(200);
    expect(found.body.total).toBe(1);
    const bulk = await api(gw).post('/clients/kick').send({ filter: { q: 'poison-1' } });
    expect(bulk.status).toBe(200);
    expect(bulk.body).toEqual({ kicked: 1, notFound: [] });
    await client.waitClosed();
    const del = await api(gw).delete('/clients/poison-1');
    expect(del.status).toBe(200);
    expect((await api(gw).get('/clients/poison-1')).body).toMatchObject({ status: 'close', closeReason: 'kicked', connected: false });
  });

  it('refuses HEART fields over MAX_REPORTED_BYTES and keeps the previous reported state', async () => {
    const client = await loggedIn(gw, 'poison-2');
    client.send({ type: 'HEART', status: 'first' });
    await client.nextOfType('HEART');
    const before = await limitHits(gw, 'reported_bytes');
    client.send({ type: 'HEART', blob: 'x'.repeat(600) });
    const error = await client.nextOfType('ERROR');
    expect(error).toMatchObject({ code: 'BAD_MESSAGE' });
    expect(error.message).toMatch(/^HEART fields of \d+ bytes exceed MAX_REPORTED_BYTES \(512\)$/);
    await heartOk(client);
    expect((await api(gw).get('/clients/poison-2')).body.reported).toEqual({ status: 'first' });
    expect(await limitHits(gw, 'reported_bytes')).toBe(before + 1);
    client.close();
  });

  it.each([
    ['MSG data', (d: string) => `{"type":"MSG","pattern":"p","id":"m1","data":${d}}`],
    ['ACK result', (d: string) => `{"type":"ACK","id":"c1","ok":true,"result":${d}}`],
    ['LOGIN meta', (d: string) => `{"type":"LOGIN","meta":{"x":${d}}}`],
  ])('refuses a frame with a deep %s with an ERROR, and the session lives', async (_what, frame) => {
    const client = await loggedIn(gw, `poison-frame-${_what.replace(' ', '-')}`);
    sendJson(client, frame(deepObjectJson(DEEP)));
    expect(await client.nextOfType('ERROR')).toEqual({ type: 'ERROR', code: 'BAD_MESSAGE', message: 'frame nests deeper than MAX_JSON_DEPTH (32)' });
    await heartOk(client);
    client.close();
  });

  it('still serves a record that reached the store poisoned (an older node, another store): the deep field becomes a placeholder', async () => {
    const client = await loggedIn(gw, 'poison-3');
    client.close();
    await client.waitClosed();
    const store = gw.app.get<PresenceStore>(PRESENCE_STORE);
    const record = (await store.get('poison-3')) as ClientRecord;
    // A record this node holds no entry for: what the store has is what is served.
    await store.save({ ...record, clientId: 'ghost-3', reported: { deep: JSON.parse(deepArrayJson(30_000)) as unknown } });
    const one = await api(gw).get('/clients/ghost-3');
    expect(one.status).toBe(200);
    expect(one.body.reported).toEqual({ $omitted: 'nested deeper than 1000 levels' });
    const page = await api(gw).get('/clients?q=ghost-3');
    expect(page.status).toBe(200);
    expect(page.body.items[0]).toMatchObject({ clientId: 'ghost-3', reported: { $omitted: 'nested deeper than 1000 levels' } });
  });

  it.each([
    ['POST /clients/:id/commands', '/clients/poison-4/commands', (d: string) => `{"name":"x","data":${d},"queue":true}`],
    ['POST /clients/kick', '/clients/kick', (d: string) => `{"filter":{"meta":${d}}}`],
  ])('answers a 15,000-deep body with 400 naming MAX_JSON_DEPTH (%s)', async (_name, path, body) => {
    const before = await limitHits(gw, 'http_body_depth');
    const res = await api(gw).post(path).set('Content-Type', 'application/json').send(body(deepObjectJson(15_000)));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'request body nests deeper than MAX_JSON_DEPTH (32)' });
    expect(await limitHits(gw, 'http_body_depth')).toBe(before + 1);
  });
});
