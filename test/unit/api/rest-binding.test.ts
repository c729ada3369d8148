/**
 * The GS1 EPCIS 2.0 REST binding (shared/vectors/gs1-epcis-rest/openapi.json) against the node's
 * answers, in-process: for every path the node serves, each answer's status, headers and body are
 * checked against the binding's own response schemas (ajv over the binding document).
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/api/server.js';
import { SCOPES } from '../../../src/api/scopes.js';
import { keyIdHex } from '../../../src/chain/keys.js';
import { extend, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';
import { CAPTURE_JOB_ONE_OF, check, response, validator } from '../../helpers/rest-binding.js';

/**
 * Every validator the tests use, compiled before the server starts: compiling blocks the event
 * loop for a while, and a sample window with no loop turn reads as pressure (503) to
 * @fastify/under-pressure.
 */
const V = {
  root: validator('/', 'get', '200', 'application/json'),
  events: validator('/events', 'get', '200', 'application/json'),
  event: validator('/events/{eventID}', 'get', '200', 'application/json'),
  eventTypes: validator('/eventTypes', 'get', '200', 'application/json'),
  eventType: validator('/eventTypes/{eventType}', 'get', '200', 'application/json'),
  eventTypeEvents: validator('/eventTypes/{eventType}/events', 'get', '200', 'application/json'),
  // (The binding lists the query 400 under the resources' /events, not under /events itself.)
  query400: validator('/eventTypes/{eventType}/events', 'get', '400', 'application/problem+json'),
  event404: validator('/events/{eventID}', 'get', '404', 'application/problem+json'),
  capture401: validator('/capture', 'post', '401', 'application/problem+json'),
  capture400: validator('/capture', 'post', '400', 'application/problem+json'),
  captureJob: validator('/capture/{captureID}', 'get', '200', 'application/json'),
  captureJobs: validator('/capture', 'get', '200', 'application/json'),
};

let fx: Fixture;
let app: FastifyInstance;
const auth = { authorization: 'Bearer t' };
const eventId = { value: '' };

beforeAll(async () => {
  fx = await makeFixture();
  const member = fx.chain.registry.get(keyIdHex(fx.nonSealer.publicKey));
  if (!member) throw new Error('fixture lacks its pharmacy member');
  app = await buildApi(
    // The event-loop check off (0): the test's own work (mining a block, compiling schemas) blocks
    // the loop, and a sample window without a loop turn reads as pressure (503).
    { host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, requestTimeoutMs: 5_000, captureWorkers: 0, maxEventLoopDelayMs: 0 },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
      authenticate: (t) => (t === 't' ? { ok: true, name: 'test', scopes: [...SCOPES] } : { ok: false, reason: 'unknown' }),
      signer: { member, secretKey: fx.nonSealer.secretKey },
    },
    pino({ level: 'silent' }),
  );
  const event = { type: 'ObjectEvent', eventTime: '2024-01-01T10:00:00Z', eventTimeZoneOffset: '+00:00', epcList: ['urn:epc:id:sgtin:0614141.107346.5'], action: 'OBSERVE', bizStep: 'receiving' };
  const tx = makeTx(fx, [event]);
  eventId.value = tx.eventIds[0] as string;
  await extend(fx, 1, { txs: [tx] });
});

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

describe("the node's answers against the REST binding's schemas", () => {
  it('GET / (JSON): 200 with the binding top-level collection shape (but for its minimum of nine members)', async () => {
    const res = await app.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(200);
    const v = V.root;
    v(res.json());
    // The only difference allowed: fewer members than the binding's nine (unserved resources are not listed).
    expect((v.errors ?? []).map((e) => e.keyword)).toEqual(['minItems']);
  });

  it('GET /events and GET /events/{eventID}: 200 EPCISQueryDocument as the binding describes it, with its headers', async () => {
    for (const [v, url] of [
      [V.events, '/events?EQ_bizStep=receiving'],
      [V.event, `/events/${encodeURIComponent(eventId.value)}`],
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, url).toBe(200);
      const body = res.json<{ epcisBody: { queryResults: { resultsBody: { eventList: unknown[] } } } }>();
      expect(body.epcisBody.queryResults.resultsBody.eventList.length, url).toBe(1);
      check(v, body, url);
      expect(res.headers['gs1-epcis-version']).toBe('2.0.0');
    }
  });

  it('GET /eventTypes and /eventTypes/{eventType}: the binding collections', async () => {
    const types = await app.inject({ method: 'GET', url: '/eventTypes', headers: auth });
    check(V.eventTypes, types.json(), '/eventTypes');
    const sub = await app.inject({ method: 'GET', url: '/eventTypes/ObjectEvent', headers: auth });
    check(V.eventType, sub.json(), '/eventTypes/ObjectEvent');
    const events = await app.inject({ method: 'GET', url: '/eventTypes/ObjectEvent/events', headers: auth });
    check(V.eventTypeEvents, events.json(), '/eventTypes/ObjectEvent/events');
  });

  it('OPTIONS: 204 with every header the binding lists for it', async () => {
    for (const [path, url] of [
      ['/', '/'],
      ['/events', '/events'],
      ['/capture', '/capture'],
    ] as const) {
      const res = await app.inject({ method: 'OPTIONS', url, headers: auth });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(204);
      const r = response(path, 'options', '204');
      for (const h of Object.keys(r.headers ?? {})) {
        if (h === 'GS1-EPC-Format' || h === 'GS1-CBV-XML-Format') continue; // format negotiation: not served (docs/api.md)
        expect(res.headers[h.toLowerCase()], `${url}: ${h}`).toBeDefined();
      }
    }
  });

  it('errors: the binding problem body and exception type for 400 (query), 404 and 401', async () => {
    const q = await app.inject({ method: 'GET', url: '/eventTypes/ObjectEvent/events?EQ_recordTime=1', headers: auth });
    expect(q.statusCode).toBe(400);
    check(V.query400, q.json(), 'query 400');
    expect(q.json<{ type: string }>().type).toBe('epcisException:QueryParameterException');
    const missing = await app.inject({ method: 'GET', url: `/events/${'ab'.repeat(32)}`, headers: auth });
    expect(missing.statusCode).toBe(404);
    check(V.event404, missing.json(), '404');
    const capture = await app.inject({ method: 'POST', url: '/capture', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(capture.statusCode).toBe(401);
    check(V.capture401, capture.json(), '401');
  });

  it('orderBy / orderDirection answer a sorted EPCISQueryDocument; maxEventCount past the matches is 413 QueryTooLargeException', async () => {
    const sorted = await app.inject({ method: 'GET', url: '/events?EQ_bizStep=receiving&orderBy=eventTime&orderDirection=ASC&maxEventCount=5', headers: auth });
    expect(sorted.statusCode, sorted.body).toBe(200);
    check(V.events, sorted.json(), 'ordered');
    const tooMany = await app.inject({ method: 'GET', url: '/events?EQ_bizStep=receiving&maxEventCount=0', headers: auth });
    expect(tooMany.statusCode, tooMany.body).toBe(413);
    expect(tooMany.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(tooMany.json<{ type: string }>().type).toBe('epcisException:QueryTooLargeException');
    const badOrder = await app.inject({ method: 'GET', url: '/events?orderBy=bizStep', headers: auth });
    expect(badOrder.statusCode).toBe(400);
    expect(badOrder.json<{ type: string }>().type).toBe('epcisException:QueryParameterException');
  });

  it('the sensor, per-unit, field and wide-pattern parameters answer over HTTP; master-data parameters are 400 QueryParameterException saying why', async () => {
    const sensed = {
      type: 'ObjectEvent',
      eventTime: '2024-01-03T10:00:00Z',
      eventTimeZoneOffset: '+00:00',
      epcList: ['urn:epc:id:sgtin:0614141.107346.77'],
      action: 'OBSERVE',
      bizStep: 'storing',
      sensorElementList: [{ sensorMetadata: { time: '2024-01-03T09:00:00Z' }, sensorReport: [{ type: 'Temperature', value: 71.6, uom: 'FAH' }] }],
    };
    const tx = makeTx(fx, [sensed]);
    await extend(fx, 1, { txs: [tx] });
    const ids = async (query: string): Promise<string[]> => {
      const res = await app.inject({ method: 'GET', url: `/events?${query}`, headers: auth });
      expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
      check(V.events, res.json(), query);
      return res.json<{ epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } }>().epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID);
    };
    // 71.6 FAH is 22 CEL.
    expect(await ids('EQ_type=Temperature&GE_value_CEL=22')).toEqual([tx.eventIds[0]]);
    expect(await ids('EQ_type=Temperature&GT_value_CEL=22')).toEqual([]);
    expect(await ids('GE_time=2024-01-03T08:00:00Z&EXISTS_sensorElementList=')).toEqual([tx.eventIds[0]]);
    expect(await ids(`MATCH_epc=${encodeURIComponent('urn:epc:idpat:sgtin:0614141.*.*')}&EQ_bizStep=storing`)).toEqual([tx.eventIds[0]]);
    expect(await ids(`MATCH_epc=${encodeURIComponent('urn:epc:idpat:sgtin:0614142.*.*')}`)).toEqual([]);
    for (const [query, why] of [
      ['HASATTR_example:grade=a', /master data/],
      ['EQ_ATTR_bizLocation_name=a', /master data/],
      ['GE_readPoint_example:dock=1', /EQ_ only/],
      ['GE_value_CEL=warm', /not a number/],
      [`MATCH_epc=${encodeURIComponent('urn:epc:idpat:sgtin:0614141.*.5')}`, /not an EPC pattern/],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/events?${query}`, headers: auth });
      expect(res.statusCode, query).toBe(400);
      expect(res.json<{ type: string }>().type).toBe('epcisException:QueryParameterException');
      expect(res.json<{ detail: string }>().detail, query).toMatch(why);
    }
  });

  it('POST /capture 202 (Location), GET /capture/{captureID} and GET /capture: the binding CaptureJob; a refused capture 400', async () => {
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2024-01-01T00:00:00Z',
      epcisBody: { eventList: [{ type: 'ObjectEvent', eventTime: '2024-01-02T10:00:00Z', eventTimeZoneOffset: '+00:00', epcList: ['urn:epc:id:sgtin:0614141.107346.6'], action: 'OBSERVE', bizStep: 'receiving' }] },
    };
    const res = await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(doc) });
    expect(res.statusCode, res.body).toBe(202);
    const location = String(res.headers['location']);
    for (const h of Object.keys(response('/capture', 'post', '202').headers ?? {})) expect(res.headers[h.toLowerCase()], h).toBeDefined();
    const job = await app.inject({ method: 'GET', url: location, headers: auth });
    expect(job.statusCode).toBe(200);
    expect(V.captureJob({ captureID: 'id261378658356', createdAt: '2021-07-21T17:32:28Z', running: false, success: true, captureErrorBehaviour: 'rollback', errors: [] })).toBe(false);
    check(V.captureJob, job.json(), location, CAPTURE_JOB_ONE_OF);
    const list = await app.inject({ method: 'GET', url: '/capture', headers: auth });
    expect(list.json<unknown[]>().length).toBeGreaterThan(0);
    check(V.captureJobs, list.json(), '/capture', list.json<unknown[]>().map((_, i) => `/${i} must match exactly one schema in oneOf`));
    const refused = await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ ...doc, epcisBody: { eventList: [{ type: 'ObjectEvent' }] } }) });
    expect(refused.statusCode).toBe(400);
    check(V.capture400, refused.json(), 'capture 400');
    const failed = await app.inject({ method: 'GET', url: String(refused.headers['location']), headers: auth });
    check(V.captureJob, failed.json(), 'refused job', CAPTURE_JOB_ONE_OF);
    expect(failed.json()).toMatchObject({ running: false, success: false });
  });
});
