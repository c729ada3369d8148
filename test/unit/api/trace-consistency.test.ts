/**
 * GET /trace/{epc} answers the status and the journey from one chain state (api/routes/trace.ts):
 * a block that connects between the status read and the journey read makes the route read both
 * again once the connect settled. Seen in an integration run under load: the pharmacy's trace
 * listed the new block's commissioning event with status "unknown".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/api/server.js';
import type { ApiContext } from '../../../src/api/context.js';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import { buildBlock, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, sgtin } from '../../helpers/epcis-events.js';

const DAY = 86_400_000;
const maker = generateKeyPair();
let fx: Fixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await makeFixture(
    { ...TEST_PARAMS, maxTxBytes: 256 * 1024, maxBlockBytes: 1024 * 1024 },
    { rules: traceRules(), extraMembers: [{ name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] }] },
  );
  fx.clock.now = fx.chain.tip.time + 400 * DAY;
  const member = fx.chain.registry.get(keyIdHex(maker.publicKey));
  if (!member) throw new Error('member missing');
  const ctx: ApiContext = {
    chain: fx.chain,
    status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
    authenticate: () => ({ ok: true, name: 'test', scopes: ['read'] }),
    clock: () => fx.clock.now,
  };
  app = await buildApi({ host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: false, captureWorkers: 0, maxEventLoopDelayMs: 0 }, ctx, pino({ level: 'silent' }));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

describe('GET /trace while a block connects', () => {
  it('never pairs a journey holding the new block with the status from before it', async () => {
    const epc = sgtin('race-1');
    const clearKey = itemKeyInfo(epc).key;
    const ev = commission([epc], 'LR');
    const block = buildBlock(fx, { txs: [makeTx(fx, [ev.event], maker, [ev.id])] });

    // The status read (the first read of the item's record) is answered from before the block;
    // the journey's read of the same record (the next) waits until the block has connected, so
    // the journey sees the block. Reads of the record after that go through untouched.
    const store = fx.chain.store;
    const original = store.getItem.bind(store);
    const originalMany = store.getItems.bind(store);
    let clearReads = 0;
    let markConnected: () => void = () => undefined;
    const connected = new Promise<void>((resolve) => (markConnected = resolve));
    // The item is read alone (getItem) or with its tagged key (getItems): the same gate for both.
    const gated = async <T>(read: () => Promise<T>): Promise<T> => {
      const n = ++clearReads;
      if (n === 1) {
        const before = await read();
        await fx.chain.importBlock(block);
        markConnected();
        return before;
      }
      if (n === 2) await connected;
      return read();
    };
    store.getItem = async (key: string) => (key !== clearKey ? original(key) : gated(() => original(key)));
    store.getItems = async (keys: readonly string[]) => (!keys.includes(clearKey) ? originalMany(keys) : gated(() => originalMany(keys)));
    try {
      const res = await app.inject({ method: 'GET', url: `/trace/${encodeURIComponent(epc)}` });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ status: string; events: { eventId: string; block: unknown }[] }>();
      expect(body.events.map((e) => e.eventId)).toEqual([ev.id]);
      expect(body.status).toBe('active');
      expect(clearReads).toBeGreaterThan(2); // the pass was read again
    } finally {
      store.getItem = original;
      store.getItems = originalMany;
    }
  });

  it("/metrics shows the proof reader's caches: a second trace of the item finds its block's proof material cached", async () => {
    const epc = sgtin('metrics-1');
    const ev = commission([epc], 'LM');
    await fx.chain.importBlock(buildBlock(fx, { txs: [makeTx(fx, [ev.event], maker, [ev.id])] }));
    const figure = async (name: string): Promise<number> => {
      const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const m = new RegExp(`^${name}\\{cache="proofs"\\} (\\d+)$`, 'm').exec(body);
      expect(m, `${name} in /metrics`).not.toBeNull();
      return Number(m?.[1]);
    };
    expect((await app.inject({ method: 'GET', url: `/trace/${encodeURIComponent(epc)}` })).statusCode).toBe(200);
    const hits = await figure('tracechain_proof_cache_hits');
    expect(await figure('tracechain_proof_cache_entries')).toBeGreaterThanOrEqual(1);
    expect(await figure('tracechain_proof_cache_bytes')).toBeGreaterThan(0);
    expect((await app.inject({ method: 'GET', url: `/trace/${encodeURIComponent(epc)}` })).statusCode).toBe(200);
    expect(await figure('tracechain_proof_cache_hits')).toBeGreaterThan(hits);
    expect(await figure('tracechain_proof_cache_misses')).toBeGreaterThanOrEqual(1);
  });
});
