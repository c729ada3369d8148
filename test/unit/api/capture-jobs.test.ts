/**
 * Capture jobs (the REST binding's POST /capture → 202 + Location, GET /capture/{captureID},
 * GET /capture), in-process on a test chain: running until the tx is in a block of the main
 * chain, then success; a refused document's job lists every problem; proceed captures the valid
 * events of a mixed document and its job lists the refused one; a dropped tx's job fails with
 * the reason; a reorg makes a finished job run again.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../../src/api/scopes.js';
import { buildApi } from '../../../src/api/server.js';
import { keyIdHex } from '../../../src/chain/keys.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { buildBlock, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';

let fx: Fixture;
let app: FastifyInstance;
const auth = { authorization: 'Bearer t' };
const json = { ...auth, 'content-type': 'application/json' };

function doc(events: Record<string, unknown>[]): string {
  return JSON.stringify({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: events } });
}

let serial = 1000;
function receiving(): Record<string, unknown> {
  serial++;
  return { type: 'ObjectEvent', eventTime: '2024-01-01T10:00:00Z', eventTimeZoneOffset: '+00:00', epcList: [`urn:epc:id:sgtin:0614141.107346.${serial}`], action: 'OBSERVE', bizStep: 'receiving' };
}

interface Job {
  captureID: string;
  createdAt: string;
  finishedAt?: string;
  running: boolean;
  success: boolean;
  captureErrorBehaviour: string;
  errors: { type: string; status: number; detail: string; instance?: string; code?: string; duplicates?: unknown[] }[];
  txId?: string;
  eventIds: string[];
  block?: { hash: string; height: number } | null;
}

async function job(location: string | undefined): Promise<Job> {
  expect(location).toMatch(/^\/capture\/[0-9a-f]{24}$/);
  const res = await app.inject({ method: 'GET', url: location as string, headers: auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Job>();
}

/** Mine every pending tx into one block on the tip. */
async function mine(): Promise<{ hash: string; height: number; time: number }> {
  const block = buildBlock(fx, { txs: fx.chain.selectForBlock(1 << 20).map((e) => e.tx) });
  const out = await fx.chain.importBlock(block);
  expect(out.status).toBe('connected');
  return { hash: block.hashHex, height: block.header.height, time: block.header.time };
}

beforeAll(async () => {
  // The node's own EPCIS rules: the chain checks the captured events' CBV 2.0 IDs as a real node does.
  fx = await makeFixture(undefined, { rules: traceRules() });
  const member = fx.chain.registry.get(keyIdHex(fx.nonSealer.publicKey));
  if (!member) throw new Error('fixture lacks its pharmacy member');
  app = await buildApi(
    { host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, requestTimeoutMs: 5_000, captureWorkers: 0, maxEventLoopDelayMs: 0 },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
      authenticate: (t) => (t === 't' ? { ok: true, name: 'test', scopes: [...SCOPES] } : { ok: false, reason: 'unknown' }),
      signer: { member, secretKey: fx.nonSealer.secretKey },
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

describe('capture jobs', () => {
  it('rollback: 202 with Location /capture/{id}; running until mined, then success at the block time; a reorg runs it again', async () => {
    const res = await app.inject({ method: 'POST', url: '/capture', headers: json, payload: doc([receiving(), receiving()]) });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json<{ captureID: string; txId: string; eventIds: string[] }>();
    expect(res.headers['location']).toBe(`/capture/${body.captureID}`);
    expect(body.eventIds).toHaveLength(2);
    const pending = await job(res.headers['location']);
    expect(pending).toMatchObject({ captureID: body.captureID, running: true, success: true, captureErrorBehaviour: 'rollback', errors: [], txId: body.txId, eventIds: body.eventIds, block: null });
    expect(pending.finishedAt).toBeUndefined();
    const parent = fx.chain.tip;
    const block = await mine();
    const done = await job(res.headers['location']);
    expect(done).toMatchObject({ running: false, success: true, errors: [], block: { hash: block.hash, height: block.height }, finishedAt: new Date(block.time).toISOString() });
    // A heavier branch without the tx: back in the mempool, the job runs again.
    const a = buildBlock(fx, { parent });
    await fx.chain.importBlock(a);
    const b = buildBlock(fx, { parent: fx.chain.header(a.hashHex) });
    await fx.chain.importBlock(b);
    expect(fx.chain.tip.hash).toBe(b.hashHex);
    expect(await job(res.headers['location'])).toMatchObject({ running: true, success: true, block: null });
    await mine();
    expect(await job(res.headers['location'])).toMatchObject({ running: false, success: true });
  });

  it('a refused document: its 4xx answer names a finished job that lists every problem', async () => {
    const res = await app.inject({ method: 'POST', url: '/capture', headers: json, payload: doc([receiving(), { ...receiving(), action: 'NOPE' }, { ...receiving(), eventTime: 'soon' }]) });
    expect(res.statusCode).toBe(400);
    const problem = res.json<{ errors: { path: string; message: string }[] }>();
    expect(problem.errors.length).toBeGreaterThanOrEqual(2);
    const j = await job(res.headers['location']);
    expect(j).toMatchObject({ running: false, success: false, captureErrorBehaviour: 'rollback', eventIds: [] });
    expect(j.txId).toBeUndefined();
    expect(j.finishedAt).toBeDefined();
    expect(j.errors.map((e) => e.instance)).toEqual(problem.errors.map((e) => e.path));
    expect(j.errors.map((e) => e.detail)).toEqual(problem.errors.map((e) => e.message));
    for (const e of j.errors) expect(e).toMatchObject({ status: 400, type: 'epcisException:ValidationException' });
    // A duplicate document (409) too.
    const once = doc([receiving()]);
    expect((await app.inject({ method: 'POST', url: '/capture', headers: json, payload: once })).statusCode).toBe(202);
    const again = await app.inject({ method: 'POST', url: '/capture', headers: json, payload: once });
    expect(again.statusCode).toBe(409);
    const dup = await job(again.headers['location']);
    expect(dup).toMatchObject({ running: false, success: false });
    expect(dup.errors.map((e) => e.code)).toEqual(['DUPLICATE_EVENT']);
  });

  it('proceed: the valid events of a mixed document are captured; the job lists the refused one and ends without success', async () => {
    const good = receiving();
    const res = await app.inject({ method: 'POST', url: '/capture', headers: { ...json, 'gs1-capture-error-behaviour': 'proceed' }, payload: doc([good, { ...receiving(), action: 'NOPE' }]) });
    expect(res.statusCode, res.body).toBe(202);
    const pending = await job(res.headers['location']);
    expect(pending).toMatchObject({ running: true, success: false, captureErrorBehaviour: 'proceed' });
    expect(pending.eventIds).toHaveLength(1);
    expect(pending.errors.length).toBeGreaterThan(0);
    expect(pending.errors.every((e) => e.instance?.startsWith('/epcisBody/eventList/1'))).toBe(true);
    await mine();
    const done = await job(res.headers['location']);
    expect(done).toMatchObject({ running: false, success: false });
    expect(await fx.store.getEventLocation(done.eventIds[0] as string)).toBeDefined();
  });

  it('a tx dropped from the mempool: the job fails with CAPTURE_DROPPED, or DUPLICATE_EVENT when another tx records its events', async () => {
    const res = await app.inject({ method: 'POST', url: '/capture', headers: json, payload: doc([receiving()]) });
    expect(res.statusCode).toBe(202);
    const { txId } = res.json<{ txId: string }>();
    const entry = fx.chain.mempool.remove(txId);
    expect(entry).toBeDefined();
    const dropped = await job(res.headers['location']);
    expect(dropped).toMatchObject({ running: false, success: false });
    expect(dropped.errors.map((e) => e.code)).toEqual(['CAPTURE_DROPPED']);
    // The same events recorded by another tx: the job names them.
    const tx = entry?.tx as SignedTx;
    const other = makeTx(fx, tx.events, fx.nonSealer, tx.eventIds);
    await fx.chain.submitTx(other);
    await mine();
    const lost = await job(res.headers['location']);
    expect(lost.errors.map((e) => e.code)).toEqual(['DUPLICATE_EVENT']);
    expect(lost.errors[0]?.duplicates).toHaveLength(1);
  });

  it('GET /capture lists every job in creation order, paged with GS1-Next-Page-Token; unknown jobs and tokens are refused', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/capture?perPage=2';
    for (let pages = 0; url !== undefined; pages++) {
      expect(pages).toBeLessThan(20);
      const res: { statusCode: number; body: string; headers: Record<string, unknown>; json: () => unknown } = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, res.body).toBe(200);
      const list = res.json() as Job[];
      expect(list.length).toBeLessThanOrEqual(2);
      seen.push(...list.map((j) => j.captureID));
      const token: unknown = res.headers['gs1-next-page-token'];
      url = token === undefined ? undefined : `/capture?perPage=2&nextPageToken=${String(token)}`;
      if (token !== undefined) expect(res.headers['link']).toContain(`nextPageToken=${String(token)}`);
    }
    const all = (await app.inject({ method: 'GET', url: '/capture?perPage=1000', headers: auth })).json<Job[]>();
    expect(seen).toEqual(all.map((j) => j.captureID));
    expect(all).toHaveLength(6); // one per POST /capture above, refused ones included
    expect([...all.map((j) => j.createdAt)].sort()).toEqual(all.map((j) => j.createdAt));
    expect((await app.inject({ method: 'GET', url: '/capture/0123456789abcdef01234567', headers: auth })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'GET', url: '/capture?nextPageToken=nope', headers: auth });
    expect(bad.json()).toMatchObject({ status: 400, type: 'epcisException:QueryParameterException' });
    expect((await app.inject({ method: 'GET', url: '/capture' })).statusCode).toBe(401);
  });
});
