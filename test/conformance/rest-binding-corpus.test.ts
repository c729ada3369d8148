/**
 * The REST binding's schemas over a corpus: every GS1 example (JSON-LD and XML) is posted to
 * POST /capture of a node with the node's rules; those that validate are captured (202, a capture
 * job) and mined, the others refused with a problem (and a finished job listing every problem).
 * Every answer is checked against the binding's own response schemas: the 202 headers, each
 * problem, each capture job, GET /capture, every page of GET /events, and GET /events/{eventID}
 * of every captured event.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/api/scopes.js';
import { buildApi } from '../../src/api/server.js';
import { keyIdHex } from '../../src/chain/keys.js';
import { traceRules } from '../../src/trace/chain-rules.js';
import { buildBlock, makeFixture, type Fixture } from '../helpers/chain-fixture.js';
import { CAPTURE_JOB_ONE_OF, check, response, validator } from '../helpers/rest-binding.js';

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));

// Compiled before the server starts (compiling blocks the event loop).
const V = {
  events: validator('/events', 'get', '200', 'application/json'),
  event: validator('/events/{eventID}', 'get', '200', 'application/json'),
  capture400: validator('/capture', 'post', '400', 'application/problem+json'),
  captureJob: validator('/capture/{captureID}', 'get', '200', 'application/json'),
  captureJobs: validator('/capture', 'get', '200', 'application/json'),
};

let fx: Fixture;
let app: FastifyInstance;
const auth = { authorization: 'Bearer t' };

beforeAll(async () => {
  fx = await makeFixture(undefined, { rules: traceRules() });
  // The sealer's member (role dev): the examples' events of every kind are within its role.
  const member = fx.chain.registry.get(keyIdHex(fx.sealer.publicKey));
  if (!member) throw new Error('fixture lacks its sealer member');
  app = await buildApi(
    { host: '127.0.0.1', port: 0, bodyLimit: 4 * 1024 * 1024, requestTimeoutMs: 30_000, captureWorkers: 0, maxEventLoopDelayMs: 0 },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
      authenticate: (t) => (t === 't' ? { ok: true, name: 'test', scopes: [...SCOPES] } : { ok: false, reason: 'unknown' }),
      signer: { member, secretKey: fx.sealer.secretKey },
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

function corpus(): { name: string; type: string; body: string }[] {
  const out: { name: string; type: string; body: string }[] = [];
  for (const [dir, type, ext] of [
    ['gs1-epcis-examples', 'application/ld+json', '.jsonld'],
    ['gs1-epcis-examples-xml', 'application/xml', '.xml'],
  ] as const) {
    for (const f of readdirSync(join(VECTORS, dir)).sort()) if (f.endsWith(ext)) out.push({ name: `${dir}/${f}`, type, body: readFileSync(join(VECTORS, dir, f), 'utf8') });
  }
  return out;
}

describe('the binding over the GS1 examples', () => {
  it('capture, jobs, /events pages and /events/{eventID} answer as the binding says', async () => {
    const captured: string[] = [];
    let accepted = 0;
    let refused = 0;
    for (const doc of corpus()) {
      const res = await app.inject({ method: 'POST', url: '/capture', headers: { ...auth, 'content-type': doc.type }, payload: doc.body });
      const location = res.headers['location'];
      if (res.statusCode === 202) {
        accepted++;
        for (const h of Object.keys(response('/capture', 'post', '202').headers ?? {})) expect(res.headers[h.toLowerCase()], `${doc.name}: ${h}`).toBeDefined();
        captured.push(...res.json<{ eventIds: string[] }>().eventIds);
        // Mined at once, so that later documents' duplicates are found on the chain.
        const block = buildBlock(fx, { txs: fx.chain.selectForBlock(1 << 22).map((e) => e.tx) });
        expect((await fx.chain.importBlock(block)).status, doc.name).toBe('connected');
      } else {
        refused++;
        expect(res.statusCode, `${doc.name}: ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, doc.name).toBeLessThan(500);
        if (res.statusCode === 400) check(V.capture400, res.json(), doc.name);
      }
      expect(location, doc.name).toMatch(/^\/capture\/[0-9a-f]+$/);
      const job = await app.inject({ method: 'GET', url: String(location), headers: auth });
      check(V.captureJob, job.json(), `${doc.name} job`, CAPTURE_JOB_ONE_OF);
      expect(job.json<{ running: boolean; success: boolean }>(), doc.name).toMatchObject(res.statusCode === 202 ? { running: false } : { running: false, success: false });
    }
    // Most examples capture (the rest: master data, capture-job documents, duplicates, drafts: docs/api.md).
    expect(accepted).toBeGreaterThan(40);
    expect(refused).toBeGreaterThan(0);
    const jobs = await app.inject({ method: 'GET', url: '/capture?perPage=1000', headers: auth });
    expect(jobs.json<unknown[]>().length).toBe(accepted + refused);
    check(V.captureJobs, jobs.json(), '/capture', jobs.json<unknown[]>().map((_, i) => `/${i} must match exactly one schema in oneOf`));
    // Every page of /events, and every captured event by its ID.
    const listed: string[] = [];
    let url: string | undefined = '/events?perPage=25';
    for (let pages = 0; url !== undefined; pages++) {
      expect(pages).toBeLessThan(100);
      const res: { statusCode: number; body: string; headers: Record<string, unknown>; json: () => unknown } = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      check(V.events, res.json(), url);
      listed.push(...(res.json() as { epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } }).epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID));
      const token: unknown = res.headers['gs1-next-page-token'];
      url = token === undefined ? undefined : `/events?perPage=25&nextPageToken=${String(token)}`;
    }
    expect(listed.length).toBe(captured.length);
    for (const id of captured) {
      const res = await app.inject({ method: 'GET', url: `/events/${encodeURIComponent(id)}`, headers: auth });
      expect(res.statusCode, id).toBe(200);
      check(V.event, res.json(), id);
    }
  }, 120_000);
});
