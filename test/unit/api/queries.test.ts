/**
 * The /queries routes over the notification service (real chain, store and server on a loopback
 * port): named queries created, listed, read and deleted as the binding says; subscriptions with
 * the secret never answered in full; refusals as problems; the WebSocket stream of a query, and a
 * refused stream closing with 4000 + the status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { buildApi } from '../../../src/api/server.js';
import { injectSettled } from '../../helpers/inject-settled.js';
import type { ApiContext } from '../../../src/api/context.js';
import { addToken, TokenRegistry } from '../../../src/api/tokens.js';
import { DEFAULT_QUERY_LIMITS } from '../../../src/api/query.js';
import { NotifyService } from '../../../src/notify/service.js';
import { NotifyRecords } from '../../../src/storage/index.js';
import { buildBlock, extend, makeFixture, makeTx, testEventId, type Fixture } from '../../helpers/chain-fixture.js';

const SECRET = 'subscriber-secret-9876';

// The binding's own response schemas (as test/unit/api/rest-binding.test.ts reads them).
const binding = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../shared/vectors/gs1-epcis-rest/openapi.json', import.meta.url)), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
};
type AddFormats = (a: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
/** The binding's schedule fields carry PCRE patterns (`\g<name>` subroutines) JavaScript cannot compile: those are left out (our schedules are checked by notify/schedule.ts). */
function withoutPcre(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutPcre);
  if (typeof v !== 'object' || v === null) return v;
  const compiles = (p: unknown): boolean => {
    try {
      new RegExp(String(p), 'u');
      return true;
    } catch {
      return false;
    }
  };
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => k !== 'pattern' || compiles(x)).map(([k, x]) => [k, withoutPcre(x)]));
}
ajv.addSchema({ ...(withoutPcre(binding) as object), $id: 'binding' });
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `binding${v}` : rebase(v)]));
}
function bindingSchema(path: string, method: string, status: string): ValidateFunction {
  const schema = binding.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
  if (schema === undefined) throw new Error(`the binding has no JSON ${status} for ${method} ${path}`);
  return ajv.compile(rebase(schema) as object);
}
const V = {
  queries: bindingSchema('/queries', 'get', '200'),
  subscribed: bindingSchema('/queries/{queryName}/subscriptions', 'post', '201'),
  subscriptions: bindingSchema('/queries/{queryName}/subscriptions', 'get', '200'),
  subscription: bindingSchema('/queries/{queryName}/subscriptions/{subscriptionID}', 'get', '200'),
};
function conforms(v: ValidateFunction, body: unknown): string {
  return v(body) ? 'ok' : JSON.stringify(v.errors);
}
let fx: Fixture;
let app: FastifyInstance;
let notify: NotifyService;
let base: string;
const auth = { authorization: 'Bearer secret-sub', 'content-type': 'application/json' };

beforeAll(async () => {
  fx = await makeFixture();
  const now = fx.clock.now;
  const records = addToken(addToken([], { name: 'sub', scopes: ['subscribe', 'read'] }, 'secret-sub', now), { name: 'reader', scopes: ['read'] }, 'secret-read', now);
  const registry = new TokenRegistry(records, () => now);
  notify = new NotifyService(
    { allowHttp: false, maxQueries: 5, maxSubscriptions: 5, maxStreams: 1, maxEventsPerDelivery: 10, retryBaseMs: 10, retryMaxMs: 100, pauseAfterMs: 60_000, maxBacklogBlocks: 100, finalityDepth: 2, maxStreamBuffer: 1 << 20, limits: DEFAULT_QUERY_LIMITS },
    { chain: fx.chain, records: new NotifyRecords(fx.store), send: async () => undefined, clock: () => fx.clock.now, logger: pino({ level: 'silent' }) },
  );
  await notify.start();
  const ctx: ApiContext = {
    chain: fx.chain,
    status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
    authenticate: (t) => registry.authenticate(t),
    clock: () => fx.clock.now,
    queries: notify,
  };
  app = await buildApi({ host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: false, captureWorkers: 0, maxEventLoopDelayMs: 60_000 }, ctx, pino({ level: 'silent' }));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await notify?.stop();
  await fx?.close();
});

describe('/queries', () => {
  it('creates, lists, reads and deletes a named query; refuses bad ones with a problem', async () => {
    const made = await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'shipments', query: { eventType: ['ObjectEvent'], EQ_bizStep: ['shipping', 'receiving'] } }) });
    expect(made.statusCode).toBe(201);
    expect(made.headers.location).toBe('/queries/shipments');
    expect((await injectSettled(app, { method: 'GET', url: '/queries' })).json()).toEqual([expect.objectContaining({ name: 'shipments' })]);
    expect(conforms(V.queries, (await injectSettled(app, { method: 'GET', url: '/queries' })).json())).toBe('ok');
    expect((await injectSettled(app, { method: 'GET', url: '/queries/shipments' })).json()).toMatchObject({ query: { EQ_bizStep: ['shipping', 'receiving'] } });
    const again = await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'shipments', query: {} }) });
    expect([again.statusCode, again.json().code]).toEqual([409, 'QUERY_EXISTS']);
    const bad = await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'bad', query: { orderBy: 'eventTime' } }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/chain order/);
    // Field, sensor and per-unit filters are a named query's as they are GET /events's; master data is not served.
    const fields = await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'cold', query: { 'EQ_ILMD_cbvmda:lotNumber': 'L1', EQ_type: 'Temperature', LT_value_CEL: '8' } }) });
    expect(fields.statusCode, fields.body).toBe(201);
    const master = await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'attr', query: { 'HASATTR_example:grade': 'a' } }) });
    expect([master.statusCode, master.json().code]).toEqual([400, 'QUERY_PARAMETER']);
    const paged = await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'paged', query: { perPage: '5' } }) });
    expect(paged.statusCode).toBe(400);
    const reader = await injectSettled(app, { method: 'POST', url: '/queries', headers: { ...auth, authorization: 'Bearer secret-read' }, payload: JSON.stringify({ name: 'x', query: {} }) });
    expect([reader.statusCode, reader.json().code]).toEqual([403, 'MISSING_SCOPE']);
    expect((await injectSettled(app, { method: 'GET', url: '/queries/nope' })).json().code).toBe('QUERY_NOT_FOUND');
    expect((await injectSettled(app, { method: 'GET', url: '/', headers: { accept: 'application/json' } })).json().member).toContain('queries');
    expect((await injectSettled(app, { method: 'DELETE', url: '/queries/shipments', headers: { authorization: auth.authorization } })).statusCode).toBe(204);
    expect((await injectSettled(app, { method: 'GET', url: '/queries/shipments' })).statusCode).toBe(404);
  });

  it('subscribes a webhook, never answering its secret in full, and unsubscribes it', async () => {
    await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'all', query: { EXISTS_epc: '' } }) });
    const sub = await injectSettled(app, { method: 'POST', url: '/queries/all/subscriptions', headers: auth, payload: JSON.stringify({ dest: 'https://receiver.example/hook', signatureToken: SECRET, schedule: { hour: '1', minute: '5' }, reportIfEmpty: true }) });
    expect(sub.statusCode).toBe(201);
    expect(sub.body).not.toContain(SECRET);
    const view = sub.json<{ subscriptionID: string; signatureToken: string; status: string; schedule: unknown }>();
    expect(view).toMatchObject({ signatureToken: '…9876', status: 'active', schedule: { hour: '1', minute: '5' } });
    expect(sub.headers.location).toBe(`/queries/all/subscriptions/${view.subscriptionID}`);
    expect(conforms(V.subscribed, view)).toBe('ok');
    expect(conforms(V.subscribed, { stream: true })).not.toBe('ok');
    expect(conforms(V.subscription, (await injectSettled(app, { method: 'GET', url: `/queries/all/subscriptions/${view.subscriptionID}`, headers: auth })).json())).toBe('ok');
    const stream = await injectSettled(app, { method: 'POST', url: '/queries/all/subscriptions', headers: auth, payload: JSON.stringify({ dest: 'https://receiver.example/stream', signatureToken: SECRET, stream: true }) });
    expect(conforms(V.subscribed, stream.json())).toBe('ok');
    expect(conforms(V.subscriptions, (await injectSettled(app, { method: 'GET', url: '/queries/all/subscriptions', headers: auth })).json())).toBe('ok');
    await injectSettled(app, { method: 'DELETE', url: `/queries/all/subscriptions/${stream.json<{ subscriptionID: string }>().subscriptionID}`, headers: { authorization: auth.authorization } });
    const listed = await injectSettled(app, { method: 'GET', url: '/queries/all/subscriptions', headers: auth });
    expect(listed.body).not.toContain(SECRET);
    expect(listed.json()).toHaveLength(1);
    const plain = await injectSettled(app, { method: 'POST', url: '/queries/all/subscriptions', headers: auth, payload: JSON.stringify({ dest: 'http://receiver.example/hook', signatureToken: SECRET, stream: true }) });
    expect([plain.statusCode, plain.json().code]).toEqual([400, 'BAD_DESTINATION']);
    expect((await injectSettled(app, { method: 'DELETE', url: `/queries/all/subscriptions/${view.subscriptionID}`, headers: { authorization: auth.authorization } })).statusCode).toBe(204);
    expect((await injectSettled(app, { method: 'GET', url: `/queries/all/subscriptions/${view.subscriptionID}`, headers: auth })).json().code).toBe('SUBSCRIPTION_NOT_FOUND');
  });

  it('streams a query over a WebSocket after the confirmations; an unknown query closes with 4404', async () => {
    await injectSettled(app, { method: 'POST', url: '/queries', headers: auth, payload: JSON.stringify({ name: 'stream', query: { EXISTS_epc: '' } }) });
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/queries/stream/events?confirmations=2&initialRecordTime=2000-01-01T00:00:00Z`);
    const got: string[] = [];
    ws.on('message', (m: Buffer) => {
      const doc = JSON.parse(m.toString('utf8')) as { epcisBody: { queryResults: { queryName: string; resultsBody: { eventList: { eventID: string }[] } } } };
      expect(doc.epcisBody.queryResults.queryName).toBe('stream');
      got.push(...doc.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const a = { epc: 'urn:x:ws-a', action: 'commission' };
    const b = { epc: 'urn:x:ws-b', action: 'commission' };
    await fx.chain.importBlock(buildBlock(fx, { txs: [makeTx(fx, [a, b])] }));
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([]);
    await extend(fx, 1);
    await expect.poll(() => got, { timeout: 5_000 }).toEqual([testEventId(a), testEventId(b)]);
    // One stream is the bound (notify.maxStreams 1): a second is refused after the upgrade.
    const second = new WebSocket(`${base.replace(/^http/, 'ws')}/queries/stream/events`);
    const code2 = await new Promise<number>((resolve) => second.once('close', (c: number) => resolve(c)));
    expect(code2).toBe(4409);
    // Deleting the query ends its stream.
    const closed = new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    expect((await injectSettled(app, { method: 'DELETE', url: '/queries/stream', headers: { authorization: auth.authorization } })).statusCode).toBe(204);
    expect(await closed).toBe(4404);
    const unknown = new WebSocket(`${base.replace(/^http/, 'ws')}/queries/nope/events`);
    const code = await new Promise<number>((resolve) => unknown.once('close', (c: number) => resolve(c)));
    expect(code).toBe(4404);
  });
});

describe('/alerts/subscriptions and /alerts/events', () => {
  it('subscribes a webhook to alerts (secret masked), lists, reads, resumes and deletes it; refusals are problems with their code', async () => {
    const made = await injectSettled(app, { method: 'POST', url: '/alerts/subscriptions', headers: auth, payload: JSON.stringify({ dest: 'https://maker.example/alerts', secret: SECRET, owner: 'observer', codes: ['RECALL', 'DISPENSED_TWICE'], events: ['raised'] }) });
    expect(made.statusCode).toBe(201);
    expect(made.body).not.toContain(SECRET);
    const view = made.json<{ subscriptionID: string; filter: { owner: string; codes: string[]; events: string[] }; signatureToken: string; confirmations: number; status: string }>();
    expect(view).toMatchObject({ signatureToken: '…9876', confirmations: 2, status: 'active', filter: { codes: ['DISPENSED_TWICE', 'RECALL'], events: ['raised'] } });
    expect(view.filter.owner).toMatch(/^[0-9a-f]{40}$/);
    expect(made.headers.location).toBe(`/alerts/subscriptions/${view.subscriptionID}`);
    expect((await injectSettled(app, { method: 'GET', url: '/alerts/subscriptions', headers: auth })).json()).toEqual([expect.objectContaining({ subscriptionID: view.subscriptionID })]);
    expect((await injectSettled(app, { method: 'GET', url: `/alerts/subscriptions/${view.subscriptionID}`, headers: auth })).json()).toMatchObject({ subscriptionID: view.subscriptionID, cursor: { height: expect.any(Number) } });
    expect((await injectSettled(app, { method: 'POST', url: `/alerts/subscriptions/${view.subscriptionID}/resume`, headers: { authorization: auth.authorization } })).statusCode).toBe(200);
    const reader = await injectSettled(app, { method: 'GET', url: '/alerts/subscriptions', headers: { authorization: 'Bearer secret-read' } });
    expect([reader.statusCode, reader.json().code]).toEqual([403, 'MISSING_SCOPE']);
    const refusal = async (body: Record<string, unknown>): Promise<[number, string]> => {
      const r = await injectSettled(app, { method: 'POST', url: '/alerts/subscriptions', headers: auth, payload: JSON.stringify({ dest: 'https://maker.example/alerts', signatureToken: SECRET, ...body }) });
      expect(r.headers['content-type']).toContain('application/problem+json');
      return [r.statusCode, r.json().code as string];
    };
    expect(await refusal({ dest: 'http://maker.example/alerts' })).toEqual([400, 'BAD_DESTINATION']);
    expect(await refusal({ lot: 'L1' })).toEqual([400, 'BAD_SUBSCRIPTION']);
    expect(await refusal({ party: 'Nobody' })).toEqual([400, 'NOT_A_MEMBER']);
    expect(await refusal({ events: ['closed'] })).toEqual([400, 'BAD_SUBSCRIPTION']);
    expect((await injectSettled(app, { method: 'DELETE', url: `/alerts/subscriptions/${view.subscriptionID}`, headers: { authorization: auth.authorization } })).statusCode).toBe(204);
    const gone = await injectSettled(app, { method: 'GET', url: `/alerts/subscriptions/${view.subscriptionID}`, headers: auth });
    expect([gone.statusCode, gone.json().code]).toEqual([404, 'SUBSCRIPTION_NOT_FOUND']);
    expect((await injectSettled(app, { method: 'DELETE', url: `/alerts/subscriptions/${view.subscriptionID}`, headers: { authorization: auth.authorization } })).json().code).toBe('SUBSCRIPTION_NOT_FOUND');
  });

  it('GET /alerts/events needs a WebSocket (426 WEBSOCKET_REQUIRED); a stream with a bad filter closes with 4400, a good one stays open', async () => {
    const plain = await injectSettled(app, { method: 'GET', url: '/alerts/events' });
    expect([plain.statusCode, plain.json().code]).toEqual([426, 'WEBSOCKET_REQUIRED']);
    const bad = new WebSocket(`${base.replace(/^http/, 'ws')}/alerts/events?owner=Nobody`);
    expect(await new Promise<number>((resolve) => bad.once('close', (c: number) => resolve(c)))).toBe(4400);
    const good = new WebSocket(`${base.replace(/^http/, 'ws')}/alerts/events?party=observer&codes=RECALL&events=raised,status&confirmations=1`);
    let closedWith: number | undefined;
    good.once('close', (c: number) => (closedWith = c));
    await new Promise<void>((resolve, reject) => {
      good.once('open', () => resolve());
      good.once('error', reject);
    });
    await extend(fx, 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(closedWith).toBeUndefined();
    good.close();
  });
});
