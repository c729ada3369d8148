/** The server in-process (fastify inject) on a test chain: auth modes, role errors, media types, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { SCOPES } from '../../../src/api/scopes.js';
import { buildApi } from '../../../src/api/server.js';
import { keyIdHex } from '../../../src/chain/keys.js';
import { extend, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';
import type { StorageHealth } from '../../../src/storage/write-guard.js';

let fx: Fixture;
let app: FastifyInstance;
const auth = { authorization: 'Bearer secret-token' };
let storage: StorageHealth = { writable: true, minFreeBytes: 64 * 1024 * 1024, freeBytes: 10 * 1024 ** 3 };

function doc(events: Record<string, unknown>[]): string {
  return JSON.stringify({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: events } });
}

beforeAll(async () => {
  fx = await makeFixture();
  const pharmacy = fx.chain.registry.get(keyIdHex(fx.nonSealer.publicKey));
  if (!pharmacy) throw new Error('fixture lacks its pharmacy member');
  app = await buildApi(
    // Inline capture compiles the EPCIS schema on the first request, and a test mines a block
    // (both block the loop for a while on a busy machine; a sample window without a loop turn
    // reads as pressure): the event-loop check is off (0), no under-pressure 503s in this test.
    { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: true, captureWorkers: 0, maxEventLoopDelayMs: 0 },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false, storage: () => storage },
      authenticate: (t) => (t === 'secret-token' ? { ok: true, name: 'test', scopes: [...SCOPES] } : { ok: false, reason: 'unknown' }),
      signer: { member: pharmacy, secretKey: fx.nonSealer.secretKey },
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

describe('GS1 EPCIS 2.0 REST binding: discovery headers and exception types', () => {
  it('OPTIONS on every resource: 204 with Allow and the capability headers', async () => {
    for (const [url, methods] of [
      ['/capture', 'GET, HEAD, OPTIONS, POST'],
      ['/events', 'GET, HEAD, OPTIONS'],
      ['/events/x', 'GET, HEAD, OPTIONS'],
      ['/trace/x', 'GET, HEAD, OPTIONS'],
    ] as const) {
      const res = await app.inject({ method: 'OPTIONS', url, headers: auth });
      expect(res.statusCode, url).toBe(204);
      expect(String(res.headers['allow']).split(', ').sort().join(', '), url).toBe(methods);
      expect(res.headers['gs1-epcis-version']).toBe('2.0.0');
      expect(res.headers['gs1-epcis-min']).toBe('2.0.0');
      expect(res.headers['gs1-epcis-max']).toBe('2.0.0');
      expect(res.headers['gs1-cbv-version']).toBe('2.0.0');
      expect(res.headers['gs1-cbv-min']).toBe('2.0.0');
      expect(res.headers['gs1-cbv-max']).toBe('2.0.0');
      expect(res.headers['gs1-extensions']).toBe('');
      expect(res.headers['gs1-epcis-capture-limit']).toBe(String(fx.chain.params.maxEventsPerTx));
      expect(res.headers['gs1-epcis-capture-file-size-limit']).toBe(String(64 * 1024));
      expect(res.headers['gs1-capture-error-behaviour']).toBe('all');
      expect(res.headers['gs1-vendor-version']).toMatch(/^tracechain-api-/);
    }
  });

  it('GET /: the top-level resource collection for JSON clients, the explorer page for browsers', async () => {
    const json = await app.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({ '@context': 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', type: 'Collection', member: ['capture', 'events', 'eventTypes'] });
    const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,application/xhtml+xml,application/json;q=0.9' } });
    expect(String(page.headers['content-type'])).not.toMatch(/json/);
  });

  it('GS1-Capture-Error-Behaviour: proceed captures the valid events and lists the refused; an unknown value is 400', async () => {
    const good = { type: 'ObjectEvent', eventTime: '2024-01-01T10:00:00Z', eventTimeZoneOffset: '+00:00', epcList: ['urn:epc:id:sgtin:0614141.107346.77'], action: 'OBSERVE', bizStep: 'receiving' };
    const bad = { ...good, epcList: ['urn:epc:id:sgtin:0614141.107346.78'], action: 'NOPE' };
    const headers = { ...auth, 'content-type': 'application/json', 'gs1-capture-error-behaviour': 'proceed' };
    const res = await app.inject({ method: 'POST', url: '/capture', headers, payload: doc([good, bad]) });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.headers['gs1-capture-error-behaviour']).toBe('proceed');
    const body = res.json<{ eventIds: string[]; refused: { index: number }[] }>();
    expect(body.eventIds.length).toBe(1);
    expect(body.refused.map((r) => r.index)).toEqual([1]);
    // The same document again: the accepted event is now a duplicate, so nothing is left (400), and rollback is 409.
    const again = await app.inject({ method: 'POST', url: '/capture', headers, payload: doc([good, bad]) });
    expect(again.statusCode).toBe(400);
    const rollback = await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': 'application/json' }, payload: doc([good]) });
    expect(rollback.statusCode).toBe(409);
    const unknown = await app.inject({ method: 'POST', url: '/capture', headers: { ...headers, 'gs1-capture-error-behaviour': 'greedy' }, payload: doc([good]) });
    expect(unknown.json()).toMatchObject({ status: 400, code: 'BAD_CAPTURE_BEHAVIOUR', type: 'epcisException:ValidationException' });
  });

  it('/eventTypes, /{resource}/{value} and /{resource}/{value}/events answer as /events with that parameter', async () => {
    const types = await app.inject({ method: 'GET', url: '/eventTypes', headers: auth });
    expect(types.json<{ member: string[] }>().member).toEqual(['AggregationEvent', 'AssociationEvent', 'ObjectEvent', 'TransactionEvent', 'TransformationEvent']);
    expect((await app.inject({ method: 'GET', url: '/eventTypes/ObjectEvent', headers: auth })).json()).toMatchObject({ type: 'Collection', member: ['events'] });
    expect((await app.inject({ method: 'GET', url: '/eventTypes/NoSuchEvent', headers: auth })).statusCode).toBe(404);
    // Two confirmed events: one every resource below names, one none does.
    const epc = 'urn:epc:id:sgtin:0614141.107346.77';
    const place = { id: 'urn:epc:id:sgln:0614141.07346.0' };
    const named = { type: 'ObjectEvent', eventTime: '2024-01-01T10:00:00Z', eventTimeZoneOffset: '+00:00', epcList: [epc], action: 'OBSERVE', bizStep: 'receiving', disposition: 'active', readPoint: place, bizLocation: place };
    const other = { ...named, epcList: ['urn:epc:id:sgtin:0614141.107346.79'], bizStep: 'shipping', disposition: 'in_transit', readPoint: { id: 'urn:epc:id:sgln:0614141.07346.9' }, bizLocation: { id: 'urn:epc:id:sgln:0614141.07346.9' } };
    await extend(fx, 1, { txs: [makeTx(fx, [named, other])] });
    for (const [url, direct] of [
      [`/epcs/${encodeURIComponent(epc)}/events`, `/events?MATCH_anyEPC=${encodeURIComponent(epc)}`],
      ['/bizSteps/receiving/events?perPage=5', '/events?EQ_bizStep=receiving&perPage=5'],
      ['/eventTypes/ObjectEvent/events?EQ_bizStep=receiving', '/events?eventType=ObjectEvent&EQ_bizStep=receiving'],
      ['/dispositions/active/events', '/events?EQ_disposition=active'],
      [`/readPoints/${encodeURIComponent('urn:epc:id:sgln:0614141.07346.0')}/events`, `/events?EQ_readPoint=${encodeURIComponent('urn:epc:id:sgln:0614141.07346.0')}`],
      [`/bizLocations/${encodeURIComponent('urn:epc:id:sgln:0614141.07346.0')}/events`, `/events?EQ_bizLocation=${encodeURIComponent('urn:epc:id:sgln:0614141.07346.0')}`],
    ] as const) {
      const a = await app.inject({ method: 'GET', url, headers: auth });
      const b = await app.inject({ method: 'GET', url: direct, headers: auth });
      expect(a.statusCode, url).toBe(200);
      const list = (r: typeof a): unknown => r.json<{ epcisBody: { queryResults: { resultsBody: { eventList: unknown[] } } } }>().epcisBody.queryResults.resultsBody.eventList;
      expect(list(a), url).toEqual(list(b));
      // (The fixture's stand-in rules index items by a bare `epc` member, so /epcs finds none here;
      // test/integration/api.test.ts checks MATCH_anyEPC on the real rules.)
      if (!url.startsWith('/epcs/')) expect((list(a) as { epcList: string[] }[]).map((e) => e.epcList[0]), url).toEqual([epc]);
    }
    const twice = await app.inject({ method: 'GET', url: '/bizSteps/receiving/events?EQ_bizStep=shipping', headers: auth });
    expect(twice.json()).toMatchObject({ status: 400, type: 'epcisException:QueryParameterException' });
  });

  it('every answer, problems included, carries the EPCIS and CBV versions', async () => {
    for (const r of [
      await app.inject({ method: 'GET', url: '/health' }),
      await app.inject({ method: 'GET', url: '/events?NOT_A_PARAM=1', headers: auth }),
      await app.inject({ method: 'GET', url: '/no-such-route', headers: auth }),
    ]) {
      expect(r.headers['gs1-epcis-version']).toBe('2.0.0');
      expect(r.headers['gs1-cbv-version']).toBe('2.0.0');
    }
  });

  it("problems carry the binding's exception type (code keeps the node's reason)", async () => {
    const q = await app.inject({ method: 'GET', url: '/events?EQ_bizStep=shipping&perPage=0', headers: auth });
    expect(q.statusCode).toBe(400);
    expect(q.json()).toMatchObject({ type: 'epcisException:QueryParameterException', status: 400 });
    const missing = await app.inject({ method: 'GET', url: `/events/${'ab'.repeat(32)}`, headers: auth });
    expect(missing.json()).toMatchObject({ type: 'epcisException:NoSuchNameException', status: 404, code: 'EVENT_NOT_FOUND' });
    const noAuth = await app.inject({ method: 'GET', url: '/events' });
    expect(noAuth.json()).toMatchObject({ type: 'epcisException:SecurityException', status: 401 });
    const xml = await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2">' });
    expect(xml.json()).toMatchObject({ type: 'epcisException:ValidationException', status: 400, code: 'BAD_XML' });
    const media = await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' });
    expect(media.json()).toMatchObject({ type: 'epcisException:UnsupportedMediaTypeException', status: 415 });
  });
});

describe('API server', () => {
  it('a capture outside the member role is 403 naming the rule, and nothing is admitted', async () => {
    const before = fx.chain.mempool.size;
    const res = await app.inject({
      method: 'POST',
      url: '/capture',
      headers: { ...auth, 'content-type': 'application/ld+json' },
      payload: doc([{ type: 'ObjectEvent', eventTime: '2024-01-01T10:00:00Z', eventTimeZoneOffset: '+00:00', epcList: ['urn:epc:id:sgtin:0614141.107346.1'], action: 'ADD', bizStep: 'commissioning' }]),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const p = res.json<{ rule?: string; errors: unknown[] }>();
    expect(p.rule).toBeTruthy();
    expect(p.errors.length).toBeGreaterThan(0);
    expect(fx.chain.mempool.size).toBe(before);
  });

  it('reads need the token when configured so; /health stays open', async () => {
    expect((await app.inject({ method: 'GET', url: '/trace/urn%3Aepc%3Aid%3Asgtin%3A0614141.107346.1' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/verify?id=x', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    const ok = await app.inject({ method: 'GET', url: '/trace/urn%3Aepc%3Aid%3Asgtin%3A0614141.107346.1', headers: auth });
    expect(ok.statusCode).toBe(200);
    expect(ok.json<{ status: string; events: unknown[] }>()).toMatchObject({ status: 'unknown', events: [] });
    expect((await app.inject({ method: 'GET', url: '/verify?id=not-an-epc', headers: auth })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/blocks/tip' })).statusCode).toBe(401);
  });

  it('while the store refuses writes: captures and txs are 503 STORE_UNWRITABLE with the reason, /health is 503, reads work', async () => {
    const reason = 'disk space low: 3.0 MiB free on the file system of /data/chain, below the minimum of 64.0 MiB';
    storage = { writable: false, reason, since: 1_700_000_000_000, freeBytes: 3 * 1024 * 1024, minFreeBytes: 64 * 1024 * 1024 };
    try {
      const before = fx.chain.mempool.size;
      const cap = await app.inject({
        method: 'POST',
        url: '/capture',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: doc([{ type: 'ObjectEvent', eventTime: '2024-01-01T10:00:00Z', eventTimeZoneOffset: '+00:00', epcList: ['urn:epc:id:sgtin:0614141.107346.2'], action: 'OBSERVE', bizStep: 'receiving' }]),
      });
      expect(cap.statusCode).toBe(503);
      expect(cap.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(cap.headers['retry-after']).toBe('30');
      expect(cap.json<{ code: string; detail: string }>()).toMatchObject({ code: 'STORE_UNWRITABLE' });
      expect(cap.json<{ detail: string }>().detail).toContain(reason);
      const txs = await app.inject({ method: 'POST', url: '/txs', headers: { ...auth, 'content-type': 'application/json' }, payload: '{}' });
      expect(txs.statusCode).toBe(503);
      expect(fx.chain.mempool.size).toBe(before);
      const health = await app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json<{ status: string; storage: StorageHealth }>()).toMatchObject({ status: 'unavailable', storage: { writable: false, reason, freeBytes: 3 * 1024 * 1024 } });
      expect((await app.inject({ method: 'GET', url: '/blocks/tip', headers: auth })).statusCode).toBe(200);
      const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
      expect(metrics.body).toMatch(/^tracechain_store_writable 0$/m);
    } finally {
      storage = { writable: true, minFreeBytes: 64 * 1024 * 1024, freeBytes: 10 * 1024 ** 3 };
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json<{ storage: StorageHealth }>().storage.writable).toBe(true);
  });

  it('media types, body limit, malformed authorization', async () => {
    expect((await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' })).statusCode).toBe(415);
    expect((await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': 'application/json' }, payload: ' '.repeat(70 * 1024) })).statusCode).toBe(413);
    expect((await app.inject({ method: 'POST', url: '/capture', headers: { authorization: 'Basic abc', 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(401);
  });

  it('OpenAPI: every route has request and response schemas', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json', headers: auth })).json<{ paths: Record<string, Record<string, { responses?: Record<string, unknown>; parameters?: unknown[]; requestBody?: unknown }>> }>();
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
        if (method === 'post') expect(op.requestBody, `${method} ${path}`).toBeDefined();
      }
    }
    expect(spec.paths['/capture']?.post?.requestBody).toBeDefined();
  });
});
