/**
 * The alert and pack routes (api/routes/alerts.ts) and the scratch-off check of GET /verify
 * (api/scratch-check.ts) over a real chain with the real trace rules. Two API instances share the
 * chain, one signing as the manufacturer, one as the pharmacy, so ownership is checked for real:
 * GET /alerts filters and pages, GET /alerts/:id carries proofs, lifecycle changes are refused
 * with their codes as problem documents, an undo goes through /reactivations, and code checks
 * answer genuine, then already checked, and wrong codes are counted and rate limited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/api/server.js';
import type { ApiContext } from '../../../src/api/context.js';
import { NodeMetrics } from '../../../src/api/metrics.js';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { alertId } from '../../../src/chain/alerts.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import { commitScratchCode } from '../../../src/trace/scratch-code.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { buildBlock, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, dispense, GTIN, receive, recallLot, sgtin, ship } from '../../helpers/epcis-events.js';

const DAY = 86_400_000;
const SHOP = 'urn:epc:id:sgln:4012345.00001.0';
const SALT = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const CODE = 'Q7RX-22KD';
const maker = generateKeyPair();
const pharmacy = generateKeyPair();
const makerId = keyIdHex(maker.publicKey);
const pharmacyId = keyIdHex(pharmacy.publicKey);
let fx: Fixture;
let asMaker: FastifyInstance;
let asPharmacy: FastifyInstance;
const metrics = new NodeMetrics({ defaultMetrics: false });
const keyOf = (epc: string): string => itemKeyInfo(epc).key;

function api(key: KeyPair, withMetrics = false): Promise<FastifyInstance> {
  const member = fx.chain.registry.get(keyIdHex(key.publicKey));
  if (!member) throw new Error('member missing');
  const ctx: ApiContext = {
    chain: fx.chain,
    status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
    authenticate: () => ({ ok: true, name: 'test', scopes: ['read', 'capture', 'subscribe', 'verify', 'admin'] }),
    signer: { member, secretKey: key.secretKey },
    clock: () => fx.clock.now,
    ...(withMetrics ? { metrics } : {}),
  };
  return buildApi({ host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: false, captureWorkers: 0, maxEventLoopDelayMs: 0 }, ctx, pino({ level: 'silent' }));
}

const auth = { authorization: 'Bearer x' };

function tx(key: KeyPair, evs: { event: Record<string, unknown>; id: string }[]): SignedTx {
  return makeTx(fx, evs.map((e) => e.event), key, evs.map((e) => e.id));
}

/** Mine the given txs, or else what the mempool holds. */
async function mine(txs?: SignedTx[], time?: number): Promise<void> {
  const list = txs ?? fx.chain.selectForBlock(1 << 20).map((e) => e.tx);
  await fx.chain.importBlock(buildBlock(fx, { txs: list, ...(time !== undefined ? { time } : {}) }));
}

let twiceAlert = '';
let recallEvent = '';
let dispenseTime = 0;
const A = sgtin('h1');
const B = sgtin('h2');
const C = sgtin('h3');

beforeAll(async () => {
  fx = await makeFixture(
    { ...TEST_PARAMS, maxTxBytes: 256 * 1024, maxBlockBytes: 1024 * 1024 },
    {
      rules: traceRules(),
      extraMembers: [
        { name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] },
        { name: 'Pharmacy', role: 'pharmacy', key: pharmacy },
      ],
    },
  );
  fx.clock.now = fx.chain.tip.time + 400 * DAY;
  asMaker = await api(maker);
  asPharmacy = await api(pharmacy, true);
  await mine([tx(maker, [commission([A, B, C], 'LA', '2030-12-31', [commitScratchCode(C, CODE, SALT)])])]);
  await mine([tx(maker, [ship([A, B, C])])]);
  await mine([tx(pharmacy, [receive([A, B, C])])]);
  await mine([tx(pharmacy, [dispense([A], SHOP)])]);
  const second = dispense([A], SHOP);
  await mine([tx(pharmacy, [second])]);
  twiceAlert = alertId('event', second.id, 'DISPENSED_TWICE', keyOf(A));
  dispenseTime = fx.chain.tip.time;
  await mine([tx(pharmacy, [dispense([B], SHOP)])], dispenseTime + 1000);
  dispenseTime += 1000;
}, 60_000);

afterAll(async () => {
  await asMaker?.close();
  await asPharmacy?.close();
  await fx?.close();
});

describe('GET /alerts and /alerts/:id', () => {
  it('filters by owner (ID or name), party, status and lot; names the members', async () => {
    for (const owner of [makerId, 'Maker']) {
      const r = await asPharmacy.inject({ url: `/alerts?owner=${encodeURIComponent(owner)}` });
      expect(r.statusCode).toBe(200);
      expect(r.json().alerts.map((a: { id: string }) => a.id)).toEqual([twiceAlert]);
      expect(r.json().alerts[0]).toMatchObject({ code: 'DISPENSED_TWICE', ownerName: 'Maker', status: 'new', gtin: GTIN, lot: 'LA' });
    }
    expect((await asPharmacy.inject({ url: `/alerts?party=Pharmacy&status=new` })).json().alerts).toHaveLength(1);
    expect((await asPharmacy.inject({ url: `/alerts?status=closed` })).json().alerts).toHaveLength(0);
    expect((await asPharmacy.inject({ url: `/alerts?gtin=${GTIN}&lot=LA` })).json().alerts).toHaveLength(1);
    expect((await asPharmacy.inject({ url: `/alerts?gtin=${GTIN}&lot=LB` })).json().alerts).toHaveLength(0);
  });

  it('refuses a lot without its GTIN, an unknown member, an unknown status: 400 problems', async () => {
    const lot = await asPharmacy.inject({ url: '/alerts?lot=LA' });
    expect(lot.statusCode).toBe(400);
    expect(lot.headers['content-type']).toContain('application/problem+json');
    expect(lot.json().code).toBe('QUERY_PARAMETER');
    const who = await asPharmacy.inject({ url: '/alerts?owner=Nobody' });
    expect([who.statusCode, who.json().code]).toEqual([400, 'NOT_A_MEMBER']);
    expect((await asPharmacy.inject({ url: '/alerts?status=open' })).json().code).toBe('QUERY_PARAMETER');
  });

  it('GET /alerts/:id: the record with the proof of the tx that raised it; an unknown ID is 404 ALERT_NOT_FOUND', async () => {
    const r = await asPharmacy.inject({ url: `/alerts/${twiceAlert}` });
    expect(r.statusCode).toBe(200);
    const a = r.json();
    expect(a.proofs.raisedBy).toMatchObject({ txId: a.raisedBy.txId, block: { hash: a.raisedBy.blockHash, height: a.raisedBy.height } });
    expect(a.proofs.raisedBy.proof.auditPath).toBeInstanceOf(Array);
    expect(JSON.parse(a.proofs.raisedBy.proof.tx).eventIds).toContain(a.raisedBy.eventId);
    const none = await asPharmacy.inject({ url: `/alerts/${'0'.repeat(64)}` });
    expect([none.statusCode, none.json().code]).toEqual([404, 'ALERT_NOT_FOUND']);
  });

  it('pages with after', async () => {
    await mine([tx(maker, [recallLot('LZ')])]);
    const all = (await asPharmacy.inject({ url: '/alerts' })).json().alerts as { id: string }[];
    const first = (await asPharmacy.inject({ url: '/alerts?limit=1' })).json();
    expect(first.alerts.map((a: { id: string }) => a.id)).toEqual([all[0]?.id]);
    const rest = (await asPharmacy.inject({ url: `/alerts?limit=100&after=${encodeURIComponent(first.next)}` })).json();
    expect([...first.alerts, ...rest.alerts].map((a: { id: string }) => a.id)).toEqual(all.map((a) => a.id));
    expect(rest.next).toBeNull();
  });
});

describe('POST /alerts/:id/status', () => {
  it('refuses a non-owner (403 ALERT_NOT_OWNER), an unknown alert (404 ALERT_UNKNOWN), a bad body (400); the owner moves it to closed; closed → investigating is 409 ALERT_CLOSED', async () => {
    const body = { status: 'investigating', reason: 'asked the pharmacy' };
    const notOwner = await asPharmacy.inject({ method: 'POST', url: `/alerts/${twiceAlert}/status`, headers: auth, payload: body });
    expect([notOwner.statusCode, notOwner.json().code]).toEqual([403, 'ALERT_NOT_OWNER']);
    const unknown = await asMaker.inject({ method: 'POST', url: `/alerts/${'1'.repeat(64)}/status`, headers: auth, payload: body });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'ALERT_UNKNOWN']);
    const noResolution = await asMaker.inject({ method: 'POST', url: `/alerts/${twiceAlert}/status`, headers: auth, payload: { status: 'closed', reason: 'x' } });
    expect([noResolution.statusCode, noResolution.json().code]).toEqual([400, 'MALFORMED']);
    const ok = await asMaker.inject({ method: 'POST', url: `/alerts/${twiceAlert}/status`, headers: auth, payload: body });
    expect(ok.statusCode).toBe(202);
    await mine();
    const close = await asMaker.inject({ method: 'POST', url: `/alerts/${twiceAlert}/status`, headers: auth, payload: { status: 'closed', resolution: 'process_error', reason: 'scanned twice' } });
    expect(close.statusCode).toBe(202);
    await mine();
    const again = await asMaker.inject({ method: 'POST', url: `/alerts/${twiceAlert}/status`, headers: auth, payload: body });
    expect([again.statusCode, again.json().code]).toEqual([409, 'ALERT_CLOSED']);
    const a = (await asPharmacy.inject({ url: `/alerts/${twiceAlert}` })).json();
    expect(a).toMatchObject({ status: 'closed', resolution: 'process_error' });
    expect(a.history.map((h: { status: string; byName: string }) => [h.status, h.byName])).toEqual([
      ['investigating', 'Maker'],
      ['closed', 'Maker'],
    ]);
    expect(a.history.every((h: { proof: { block: unknown } }) => h.proof.block !== null)).toBe(true);
  });
});

describe('POST /reactivations', () => {
  it('day 9 at the same place: the pack is active again', async () => {
    const r = await asPharmacy.inject({ method: 'POST', url: '/reactivations', headers: auth, payload: { id: B, location: SHOP } });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ item: keyOf(B), location: SHOP });
    await mine(undefined, dispenseTime + 9 * DAY);
    expect((await asPharmacy.inject({ url: `/verify?id=${encodeURIComponent(B)}` })).json().status).toBe('active');
  });

  it('refuses a body that is not a pack identifier (400)', async () => {
    const r = await asPharmacy.inject({ method: 'POST', url: '/reactivations', headers: auth, payload: { id: 'not-an-epc' } });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
  });
});

describe('GET /verify?code=', () => {
  const verify = (code: string, location?: string): Promise<{ statusCode: number; json(): Record<string, unknown>; headers: Record<string, unknown> }> =>
    asPharmacy.inject({ url: `/verify?id=${encodeURIComponent(C)}&code=${encodeURIComponent(code)}${location ? `&location=${encodeURIComponent(location)}` : ''}` }) as never;

  it('the first right code answers genuine and is recorded on chain; a second answers already checked with when and where, and alerts the manufacturer', async () => {
    const first = await verify(CODE, SHOP);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'active', codeCheck: { result: 'genuine', firstCheck: null } });
    await mine();
    const [p] = await fx.store.getRecords('pack', [keyOf(C)]);
    expect((p as { checks: { location: string }[] }).checks.map((c) => c.location)).toEqual([SHOP]);
    const second = await verify(` ${CODE} `, 'urn:epc:id:sgln:4012345.00009.0');
    expect(second.json()).toMatchObject({ codeCheck: { result: 'already_checked', firstCheck: { location: SHOP, by: 'Pharmacy' } } });
    expect(String((second.json().codeCheck as { message: string }).message)).toMatch(/^already checked on \d{4}-\d\d-\d\dT.* at urn:epc:id:sgln:4012345\.00001\.0/);
    await mine();
    const reused = (await asPharmacy.inject({ url: `/alerts?owner=Maker` })).json().alerts.filter((a: { code: string }) => a.code === 'SCRATCH_CODE_REUSED');
    expect(reused).toHaveLength(1);
    // A loop over a known code cannot flood the chain: 3 right checks per pack and hour are recorded, later ones only answered.
    expect(typeof ((await verify(CODE)).json().codeCheck as { txId: unknown }).txId).toBe('string');
    const fourth = (await verify(CODE)).json().codeCheck as { result: string; txId: unknown };
    expect(fourth).toMatchObject({ result: 'already_checked', txId: null });
  });

  it('wrong codes: refused (422) with the tries left; ten for one pack: the last five rate limited (429) and the manufacturer alerted once', async () => {
    const answers: [number, unknown][] = [];
    for (let i = 0; i < 10; i++) {
      const r = await verify(`WRONG-${i}`);
      answers.push([r.statusCode, r.json().code]);
      if (r.statusCode === 429) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(answers).toEqual([...Array(5).fill([422, 'SCRATCH_CODE_WRONG']), ...Array(5).fill([429, 'SCRATCH_CODE_RATE_LIMITED'])]);
    // Rate limited means every try, the right code too.
    expect((await verify(CODE)).statusCode).toBe(429);
    await mine();
    const guessing = (await asPharmacy.inject({ url: `/alerts?owner=Maker` })).json().alerts.filter((a: { code: string }) => a.code === 'SCRATCH_CODE_GUESSING');
    expect(guessing).toHaveLength(1);
    expect(guessing[0].parties).toContain(pharmacyId);
    // After the window, tries are allowed again.
    fx.clock.now += 3_600_000;
    expect((await verify('WRONG-again')).json()).toMatchObject({ code: 'SCRATCH_CODE_WRONG', triesLeft: 4 });
    const text = await metrics.text();
    expect(text).toMatch(/tracechain_scratch_checks_total\{outcome="wrong"\} 6/);
    expect(text).toMatch(/tracechain_scratch_checks_total\{outcome="rate_limited"\} 6/);
  });

  it('a pack without a committed code is 404 NO_SCRATCH_CODE; a code that cannot be one is 400 BAD_SCRATCH_CODE', async () => {
    const none = await asPharmacy.inject({ url: `/verify?id=${encodeURIComponent(A)}&code=ABCD` });
    expect([none.statusCode, none.json().code]).toEqual([404, 'NO_SCRATCH_CODE']);
    const bad = await asPharmacy.inject({ url: `/verify?id=${encodeURIComponent(C)}&code=${encodeURIComponent('a b')}` });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'BAD_SCRATCH_CODE']);
  });
});

describe('large alerts', () => {
  it('a list names the first 100 packs of an alert (itemsTruncated), GET /alerts/:id all of them', async () => {
    const epcs = Array.from({ length: 150 }, (_, i) => sgtin(`big${i}`));
    await mine([tx(maker, [commission(epcs, 'LBIG')])]);
    await mine([tx(maker, [recallLot('LBIG', 150)])]);
    const [listed] = (await asPharmacy.inject({ url: `/alerts?gtin=${GTIN}&lot=LBIG` })).json().alerts as { id: string; items: string[]; itemCount: number; itemsTruncated?: boolean }[];
    expect(listed).toMatchObject({ itemCount: 150, itemsTruncated: true });
    expect(listed?.items).toHaveLength(100);
    const one = (await asPharmacy.inject({ url: `/alerts/${listed?.id}` })).json();
    expect(one.items).toEqual(epcs.map(keyOf).sort());
    expect(one.itemsTruncated).toBeUndefined();
  });
});
