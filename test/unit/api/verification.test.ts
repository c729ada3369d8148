/**
 * Verification requests (GET /01/{gtin}/10/{lot}/21/{serial}): a table over every failure reason,
 * the additional info (recalled, suspect, expired), an unknown GTIN, and requests without a
 * token, without the scope, or malformed. The items are made by stand-in rules that record a
 * commissioned pack's lot and expiry, a lot recall and a conflict, on a real chain and store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { buildApi } from '../../../src/api/server.js';
import { injectSettled } from '../../helpers/inject-settled.js';
import { addToken, TokenRegistry } from '../../../src/api/tokens.js';
import type { ApiContext } from '../../../src/api/context.js';
import type { TxRules } from '../../../src/chain/tx-rules-port.js';
import { buildBlock, makeFixture, makeTx, testRules, type Fixture } from '../../helpers/chain-fixture.js';
import { prefixGln } from '../../../src/api/routes/verification.js';
import { signRequest } from '../../../src/api/member-signature.js';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';

const GTIN = '09506000134352';
const OTHER_GTIN = '04012345000016';
const KEY = (serial: string): string => `https://id.gs1.org/01/${GTIN}/21/${serial}`;
const NOW = Date.parse('2026-12-07T12:00:00Z');
const UUID = '0f6b2c3e-6a4b-4f1e-9a55-2d1c8e3b7a10';
const REQ_GLN = '0614141000005';

/** Stand-in rules: commission records lot and expiry; recall marks a lot; conflict makes a pack suspect. */
const rules: TxRules = {
  ...testRules,
  async applyEvent(reader, { event, eventId, submitter }) {
    if (event.action === 'recall') return { items: [], recalledLots: [{ gtin: String(event.gtin), lot: String(event.lot) }] };
    if (typeof event.epc !== 'string') return { items: [], recalledLots: [] };
    const prev = await reader.getItem(event.epc);
    if (event.action === 'conflict' && prev !== undefined) return { items: [{ ...prev, status: 'suspect', lastEventId: eventId }], recalledLots: [] };
    return {
      items: [{ key: event.epc, status: 'active', lifecycle: 'active', custodian: submitter.id, manufacturer: submitter.id, gtin: GTIN, lot: event.lot ?? null, expiry: event.expiry ?? null, parent: null, alerts: [], lastEventId: eventId }],
      recalledLots: [],
    };
  },
};

let fx: Fixture;
let app: FastifyInstance;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  fx = await makeFixture(undefined, { rules });
  fx.clock.now = NOW;
  const events = [
    { epc: KEY('1'), action: 'commission', lot: 'L1', expiry: '2028-06-30' },
    { epc: KEY('2'), action: 'commission', lot: 'L2', expiry: '2028-06-30' },
    { epc: KEY('3'), action: 'commission', lot: 'L3', expiry: '2028-06-30' },
    { epc: KEY('4'), action: 'commission', lot: 'OLD', expiry: '2026-11-30' },
  ];
  await fx.chain.importBlock(buildBlock(fx, { txs: [makeTx(fx, events)] }));
  await fx.chain.importBlock(buildBlock(fx, { txs: [makeTx(fx, [{ action: 'recall', gtin: GTIN, lot: 'L2' }, { epc: KEY('3'), action: 'conflict' }])] }));
  const records = addToken(addToken([], { name: 'pharmacy', scopes: ['verify'] }, 'secret-verify', NOW), { name: 'capturer', scopes: ['capture'] }, 'secret-capture', NOW);
  const registry = new TokenRegistry(records, () => NOW);
  const ctx: ApiContext = {
    chain: fx.chain,
    status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
    authenticate: (t) => registry.authenticate(t),
    clock: () => NOW,
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  app = await buildApi({ host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: false, captureWorkers: 0, maxEventLoopDelayMs: 60_000 }, ctx, pino({ level: 'info' }, sink));
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

function ask(gtin: string, lot: string, serial: string, exp: string, token: string | null = 'secret-verify', extra = ''): Promise<{ statusCode: number; json: () => Record<string, unknown> }> {
  return injectSettled(app, {
    method: 'GET',
    url: `/01/${gtin}/10/${encodeURIComponent(lot)}/21/${serial}?exp=${exp}&corrUUID=${UUID}&reqGLN=${REQ_GLN}&context=dscsaSaleableReturn${extra}`,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

describe('verification requests', () => {
  const table: [string, string, string, string, Record<string, unknown>][] = [
    ['everything matches', 'L1', '1', '280630', { verified: true }],
    ['unknown serial of a known GTIN', 'L1', '999', '280630', { verified: false, verificationFailureReason: 'No_match_GTIN_Serial' }],
    ['wrong lot', 'LX', '1', '280630', { verified: false, verificationFailureReason: 'No_match_GTIN_Serial_Lot' }],
    ['wrong expiry', 'L1', '1', '280629', { verified: false, verificationFailureReason: 'No_match_GTIN_Serial_Expiry' }],
    ['wrong lot and expiry', 'LX', '1', '290101', { verified: false, verificationFailureReason: 'No_match_GTIN_Serial_Lot_Expiry' }],
    ['a pack of a recalled lot', 'L2', '2', '280630', { verified: true, additionalInfo: 'Recalled' }],
    ['a suspect pack (a recorded conflict)', 'L3', '3', '280630', { verified: true, additionalInfo: 'Suspect' }],
    ['an expired lot', 'OLD', '4', '261130', { verified: true, additionalInfo: 'Expired' }],
    ['day 00 is the last day of the month', 'OLD', '4', '261100', { verified: true, additionalInfo: 'Expired' }],
    ['a recalled pack with a wrong expiry', 'L2', '2', '280101', { verified: false, verificationFailureReason: 'No_match_GTIN_Serial_Expiry', additionalInfo: 'Recalled' }],
  ];
  for (const [name, lot, serial, exp, data] of table) {
    it(name, async () => {
      const res = await ask(GTIN, lot, serial, exp);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.data).toEqual(data);
      expect(body.corrUUID).toBe(UUID);
      expect(body.verificationTimestamp).toBe(new Date(NOW).toISOString());
      expect(body).toHaveProperty('responderGLN');
    });
  }

  it('an unknown GTIN is 404', async () => {
    const res = await ask(OTHER_GTIN, 'L1', '1', '280630');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('GTIN_NOT_FOUND');
  });

  it('needs a token with the verify scope, even while reads are open', async () => {
    const none = await ask(GTIN, 'L1', '1', '280630', null);
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('UNAUTHENTICATED');
    const wrong = await ask(GTIN, 'L1', '1', '280630', 'secret-capture');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('MISSING_SCOPE');
    // The Digital Link status path stays open, as before.
    expect((await injectSettled(app, { method: 'GET', url: `/01/${GTIN}/21/1` })).statusCode).toBe(200);
  });

  it("takes a member's signature instead of a token; refuses a bad, stale or outsider's one", async () => {
    const url = `/01/${GTIN}/10/L1/21/1?exp=280630&corrUUID=${UUID}&reqGLN=${REQ_GLN}`;
    const member = fx.nonSealer;
    const date = new Date(NOW).toISOString();
    const signed = signRequest(member.secretKey, keyIdHex(member.publicKey), 'GET', url, date);
    const ok = await injectSettled(app, { method: 'GET', url, headers: signed });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().data).toEqual({ verified: true });
    const code = async (headers: Record<string, string>, u = url): Promise<string> => {
      const res = await injectSettled(app, { method: 'GET', url: u, headers });
      return `${res.statusCode} ${String(res.json().code)}`;
    };
    // Another URL than the one signed, a stale date, a key outside the consortium, a partial set.
    expect(await code(signed, url.replace('L1', 'L2'))).toBe('401 BAD_TOKEN');
    const stale = new Date(NOW - 600_000).toISOString();
    expect(await code(signRequest(member.secretKey, keyIdHex(member.publicKey), 'GET', url, stale))).toBe('401 BAD_TOKEN');
    const outsider = generateKeyPair();
    expect(await code(signRequest(outsider.secretKey, keyIdHex(outsider.publicKey), 'GET', url, date))).toBe('401 BAD_TOKEN');
    expect(await code({ 'tracechain-key': keyIdHex(member.publicKey) })).toBe('401 BAD_TOKEN');
    // A member signature opens only the routes that take one.
    const capture = await injectSettled(app, { method: 'POST', url: '/capture', headers: { ...signRequest(member.secretKey, keyIdHex(member.publicKey), 'POST', '/capture', date), 'content-type': 'application/json' }, payload: '{}' });
    expect(capture.statusCode).toBe(401);
    expect(logLines.some((l) => l.msg === 'verification request' && l.token === 'member:observer' && l.verified === true)).toBe(true);
  });

  it('refuses malformed requests with a 400 naming the part', async () => {
    const bad = async (url: string): Promise<Record<string, unknown>> => {
      const res = await injectSettled(app, { method: 'GET', url, headers: { authorization: 'Bearer secret-verify' } });
      expect(res.statusCode).toBe(400);
      return res.json();
    };
    const base = `/01/${GTIN}/10/L1/21/1`;
    expect((await bad(`${base}?exp=281330&corrUUID=${UUID}&reqGLN=${REQ_GLN}`)).code).toBe('BAD_VERIFICATION_REQUEST');
    expect((await bad(`${base}?exp=280231&corrUUID=${UUID}&reqGLN=${REQ_GLN}`)).code).toBe('BAD_VERIFICATION_REQUEST');
    expect((await bad(`${base}?exp=280630&corrUUID=${UUID}&reqGLN=0614141000006`)).code).toBe('BAD_VERIFICATION_REQUEST');
    expect((await bad(`/01/09506000134353/10/L1/21/1?exp=280630&corrUUID=${UUID}&reqGLN=${REQ_GLN}`)).code).toBe('BAD_VERIFICATION_REQUEST');
    await bad(`${base}?exp=280630&corrUUID=not-a-uuid&reqGLN=${REQ_GLN}`);
    await bad(`${base}?exp=280630&reqGLN=${REQ_GLN}`);
    await bad(`${base}?exp=2806&corrUUID=${UUID}&reqGLN=${REQ_GLN}`);
  });

  it('logs each request with its corrUUID', async () => {
    const corr = '11111111-2222-4333-8444-555555555555';
    await injectSettled(app, { method: 'GET', url: `/01/${GTIN}/10/L1/21/1?exp=280630&corrUUID=${corr}&reqGLN=${REQ_GLN}`, headers: { authorization: 'Bearer secret-verify' } });
    const line = logLines.find((l) => l.corrUUID === corr);
    expect(line).toMatchObject({ msg: 'verification request', reqGLN: REQ_GLN, verified: true, token: 'pharmacy' });
  });

  it('the responder GLN of a company prefix carries its check digit', () => {
    expect(prefixGln('0614141')).toBe('0614141000005');
    expect(prefixGln('9506000')).toBe('9506000000008');
  });
});
