/**
 * Private capture and GET /private/{commitment} in-process (docs/confidentiality.md): the block
 * carries the commitment and the projection, the body is kept before the 202; the body needs the
 * `private` scope (even with open reads); a body this node does not hold is 403 NOT_ENTITLED; a
 * purged body answers body null, and verify-proof's offline check says "purged" instead of failing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { SCOPES, type Scope } from '../../../src/api/scopes.js';
import { buildApi } from '../../../src/api/server.js';
import { keyIdHex } from '../../../src/chain/keys.js';
import { LevelPrivateBodyStore } from '../../../src/storage/private-bodies.js';
import { checkOffline, type EntryJson } from '../../../src/node/commands/verify-proof.js';
import { commitmentOfId, isProjection } from '../../../src/trace/private-event.js';
import { extend, makeFixture, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { tempDir } from '../storage/helpers.js';

let fx: Fixture;
let bodies: LevelPrivateBodyStore;
let cleanup: () => Promise<void>;
const apps: FastifyInstance[] = [];
const tokens: Record<string, Scope[]> = { all: [...SCOPES], reader: ['read', 'verify', 'capture'] };
let now = 1_800_000_000_000;

async function api(requireTokenForReads: boolean, privacy = true): Promise<FastifyInstance> {
  const member = fx.chain.registry.get(keyIdHex(fx.nonSealer.publicKey));
  if (!member) throw new Error('fixture lacks its pharmacy member');
  const app = await buildApi(
    { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads, captureWorkers: 0, maxEventLoopDelayMs: 0 },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
      authenticate: (t) => (tokens[t] !== undefined ? { ok: true, name: t, scopes: tokens[t] } : { ok: false, reason: 'unknown' }),
      signer: { member, secretKey: fx.nonSealer.secretKey },
      clock: () => now,
      ...(privacy ? { privacy: { bodies, defaultSharing: 'public' as const } } : {}),
    },
    pino({ level: 'silent' }),
  );
  apps.push(app);
  return app;
}

const GLN_TO = 'urn:epc:id:sgln:0614141.00002.0';
function doc(serial: number): string {
  const event = {
    type: 'ObjectEvent',
    eventTime: '2024-01-01T10:00:00Z',
    eventTimeZoneOffset: '+00:00',
    epcList: [`urn:epc:id:sgtin:0614141.107346.${serial}`],
    action: 'OBSERVE',
    bizStep: 'receiving',
    disposition: 'in_progress',
    bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000010:PO-4711' }],
    destinationList: [{ type: 'owning_party', destination: GLN_TO }],
  };
  return JSON.stringify({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: [event] } });
}

async function capturePrivate(app: FastifyInstance, serial: number): Promise<{ commitment: string; cbvEventId: string }> {
  const res = await app.inject({ method: 'POST', url: '/capture?sharing=private', headers: { authorization: 'Bearer all', 'content-type': 'application/json' }, payload: doc(serial) });
  expect(res.statusCode, res.body).toBe(202);
  const a = res.json<{ txId: string; eventIds: string[]; cbvEventIds: string[]; sharing: string }>();
  expect(a.sharing).toBe('private');
  const commitment = commitmentOfId(a.eventIds[0] as string) as string;
  expect(commitment).toMatch(/^[0-9a-f]{64}$/);
  // The body was kept before the 202.
  expect(await bodies.has(commitment)).toBe(true);
  const entry = fx.chain.mempool.get(a.txId);
  if (!entry) throw new Error('the private tx is not in the mempool');
  expect(entry.tx.kind).toBe('private');
  expect(isProjection(entry.tx.events[0] as Record<string, unknown>)).toBe(true);
  expect(JSON.stringify(entry.tx)).not.toContain('PO-4711');
  expect(JSON.stringify(entry.tx)).not.toContain('0614141.00002');
  await extend(fx, 1, { txs: [entry.tx] });
  return { commitment, cbvEventId: a.cbvEventIds[0] as string };
}

beforeAll(async () => {
  fx = await makeFixture(TEST_PARAMS, { rules: traceRules() });
  const t = await tempDir();
  cleanup = t.cleanup;
  bodies = await LevelPrivateBodyStore.open(t.dir);
});

afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

afterAll(async () => {
  await bodies?.close();
  await cleanup?.();
  await fx?.close();
});

describe('private capture and GET /private/{commitment}', () => {
  it('the block holds the commitment and the projection; the body with its proof checks offline; a changed salt does not', async () => {
    const app = await api(true);
    const { commitment, cbvEventId } = await capturePrivate(app, 901);
    const res = await app.inject({ method: 'GET', url: `/private/${commitment}`, headers: { authorization: 'Bearer all' } });
    expect(res.statusCode, res.body).toBe(200);
    const entry = res.json<EntryJson & { body: { eventId: string; event: Record<string, unknown>; salt: string } }>();
    expect(entry.body.eventId).toBe(cbvEventId);
    expect(entry.body.event['bizTransactionList']).toEqual([{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000010:PO-4711' }]);
    expect(checkOffline(entry)).toMatchObject({ problems: [], privateBody: 'verified' });
    // Found by its CBV 2.0 event ID too (its identity for the entitled).
    const byId = await app.inject({ method: 'GET', url: `/private?eventId=${encodeURIComponent(cbvEventId)}`, headers: { authorization: 'Bearer all' } });
    expect(byId.statusCode, byId.body).toBe(200);
    expect(byId.json()).toEqual(entry);
    const unknown = await app.inject({ method: 'GET', url: `/private?eventId=${encodeURIComponent('ni:///sha-256;' + '0'.repeat(64) + '?ver=CBV2.0')}`, headers: { authorization: 'Bearer all' } });
    expect(unknown.json<{ code: string }>().code).toBe('NOT_ENTITLED');
    const salt = entry.body.salt;
    const tampered = { ...entry, body: { ...entry.body, salt: (salt[0] === '0' ? '1' : '0') + salt.slice(1) } };
    expect(checkOffline(tampered).problems.join('\n')).toMatch(/does not check/);
    // /trace of the item (named only by a private event): its journey is the projection, with its proof.
    const trace = await app.inject({ method: 'GET', url: `/trace/${encodeURIComponent('urn:epc:id:sgtin:0614141.107346.901')}`, headers: { authorization: 'Bearer all' } });
    expect(trace.statusCode, trace.body).toBe(200);
    const journey = trace.json<{ events: EntryJson[] }>();
    expect(journey.events.map((e) => e.eventId)).toEqual([`ni:///sha-256;${commitment}?ver=CBV2.0`]);
    expect(checkOffline(journey.events[0] as EntryJson)).toMatchObject({ problems: [], privateBody: 'not shown' });
    expect(trace.body).not.toContain('PO-4711');
  });

  it('the body needs the private scope, even on a node with open reads; the projection stays a read', async () => {
    const open = await api(false);
    const { commitment, cbvEventId } = await capturePrivate(open, 902);
    for (const url of [`/private/${commitment}`, `/private?eventId=${encodeURIComponent(cbvEventId)}`]) {
      for (const headers of [{}, { authorization: 'Bearer reader' }]) {
        const res = await open.inject({ method: 'GET', url, headers });
        expect(res.statusCode, `${url} ${res.body}`).toBe('authorization' in headers ? 403 : 401);
        expect(res.body).not.toContain('PO-4711');
      }
    }
    const proof = await open.inject({ method: 'GET', url: `/events/${encodeURIComponent(`ni:///sha-256;${commitment}?ver=CBV2.0`)}/proof` });
    expect(proof.statusCode, proof.body).toBe(200);
    expect(proof.body).not.toContain('PO-4711');
    // The binding's reads and queries take projections in their stride: never a 5xx, never the body.
    for (const [url, accept] of [
      [`/events/${encodeURIComponent(`ni:///sha-256;${commitment}?ver=CBV2.0`)}`, 'application/json'],
      [`/events/${encodeURIComponent(`ni:///sha-256;${commitment}?ver=CBV2.0`)}`, 'application/xml'],
      ['/events', 'application/json'],
      ['/events', 'application/xml'],
      ['/events?EQ_bizStep=receiving', 'application/json'],
      ['/eventTypes', 'application/json'],
    ] as const) {
      const res = await open.inject({ method: 'GET', url, headers: { accept } });
      expect(res.statusCode, `${url} ${accept}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
      expect(res.body).not.toContain('PO-4711');
    }
  });

  it('a body this node does not hold is 403 NOT_ENTITLED; without a private store, 503 NO_PRIVATE_STORE; an unknown mode 400', async () => {
    const app = await api(true);
    const { commitment } = await capturePrivate(app, 903);
    const other = await api(true);
    // A node that never received the body: its own (empty) store.
    const t = await tempDir();
    const empty = await LevelPrivateBodyStore.open(t.dir);
    const member = fx.chain.registry.get(keyIdHex(fx.nonSealer.publicKey));
    const stranger = await buildApi(
      { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: true, captureWorkers: 0, maxEventLoopDelayMs: 0 },
      {
        chain: fx.chain,
        status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
        authenticate: () => ({ ok: true, name: 'all', scopes: [...SCOPES] }),
        signer: { member: member!, secretKey: fx.nonSealer.secretKey },
        privacy: { bodies: empty, defaultSharing: 'public' },
      },
      pino({ level: 'silent' }),
    );
    const res = await stranger.inject({ method: 'GET', url: `/private/${commitment}`, headers: { authorization: 'Bearer all' } });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ code: string }>().code).toBe('NOT_ENTITLED');
    await stranger.close();
    await empty.close();
    await t.cleanup();
    expect((await other.inject({ method: 'POST', url: '/capture?sharing=secret', headers: { authorization: 'Bearer all', 'content-type': 'application/json' }, payload: doc(904) })).json<{ code: string }>().code).toBe('BAD_SHARING');
    const none = await api(true, false);
    const refused = await none.inject({ method: 'POST', url: '/capture?sharing=private', headers: { authorization: 'Bearer all', 'content-type': 'application/json' }, payload: doc(905) });
    expect(refused.statusCode).toBe(503);
    expect(refused.json<{ code: string }>().code).toBe('NO_PRIVATE_STORE');
  });

  it('the same event again is a duplicate (409 DUPLICATE_EVENT) in either mode, though its commitment would differ; proceed leaves it out', async () => {
    const app = await api(true);
    const { cbvEventId } = await capturePrivate(app, 907);
    const post = (sharing: string, payload: string, extra: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: `/capture?sharing=${sharing}`, headers: { authorization: 'Bearer all', 'content-type': 'application/json', ...extra }, payload });
    for (const mode of ['private', 'public']) {
      const again = await post(mode, doc(907));
      expect(again.statusCode, again.body).toBe(409);
      expect(again.json<{ code: string; duplicates: { eventId: string; block: unknown }[] }>()).toMatchObject({ code: 'DUPLICATE_EVENT', duplicates: [{ eventId: cbvEventId, block: { height: expect.any(Number) } }] });
    }
    // An event recorded in public, then captured privately: a duplicate too.
    const pub = await post('public', doc(908));
    expect(pub.statusCode, pub.body).toBe(202);
    expect((await post('private', doc(908))).json<{ code: string }>().code).toBe('DUPLICATE_EVENT');
    // proceed: the held event is left out, the new one captured.
    const both = JSON.parse(doc(907)) as { epcisBody: { eventList: unknown[] } };
    both.epcisBody.eventList.push((JSON.parse(doc(909)) as { epcisBody: { eventList: unknown[] } }).epcisBody.eventList[0]);
    const res = await post('private', JSON.stringify(both), { 'gs1-capture-error-behaviour': 'proceed' });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json<{ eventIds: string[]; refused: { index: number }[] }>()).toMatchObject({ eventIds: [expect.stringMatching(/^ni:\/\/\/sha-256;/)], refused: [{ index: 0 }] });
  });

  it('after the retention purge: body null, bodyPurged, and verify-proof says purged rather than failing', async () => {
    const app = await api(true);
    const { commitment } = await capturePrivate(app, 906);
    expect(await bodies.purge(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
    const res = await app.inject({ method: 'GET', url: `/private/${commitment}`, headers: { authorization: 'Bearer all' } });
    expect(res.statusCode, res.body).toBe(200);
    const entry = res.json<EntryJson>();
    expect(entry).toMatchObject({ body: null, bodyPurged: true });
    expect(checkOffline(entry)).toMatchObject({ problems: [], privateBody: 'purged' });
  });
});
