/**
 * The query index (term rows, trace/query-terms.ts): a query by place examines only the events
 * with that place; a store written without the index scans (same answer) until the backfill
 * builds the rows connect would have written, then uses them.
 */
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runQuery, type Position, type RawQuery } from '../../../src/api/query.js';
import { historyOf, termsOf } from '../../../src/chain/connect.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import type { SignedTx } from '../../../src/chain/types.js';
import type { TxRules } from '../../../src/chain/tx-rules-port.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { prepareDocument } from '../../../src/trace/index.js';
import { backfillQueryTerms } from '../../../src/node/terms-backfill.js';
import { buildBlock, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';

const PLACE = 'urn:epc:id:sgln:0614141.07346.1';

let n = 0;
function txOf(fx: Fixture, count: number, at: (i: number) => string | undefined): SignedTx {
  const events = Array.from({ length: count }, (_, i) => {
    n++;
    const place = at(i);
    return {
      type: 'ObjectEvent',
      eventTime: new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString(),
      eventTimeZoneOffset: '+00:00',
      epcList: [`urn:epc:id:sgtin:0614141.107346.${n}`],
      action: 'OBSERVE',
      bizStep: 'receiving',
      ...(place !== undefined ? { bizLocation: { id: place } } : {}),
    };
  });
  const p = prepareDocument({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: events } });
  return makeTx(fx, p.events, fx.sealer, p.eventIds);
}

async function query(fx: Fixture, raw: RawQuery): Promise<{ ids: string[]; examined: number }> {
  const read = async (pos: Position): Promise<{ eventId: string; event: Record<string, unknown> }> => {
    const tx = (await fx.chain.getMainBlock(pos.height))?.txs[pos.txIndex];
    return { eventId: tx?.eventIds[pos.eventIndex] as string, event: tx?.events[pos.eventIndex] as Record<string, unknown> };
  };
  const ids: string[] = [];
  let examined = 0;
  let token: string | undefined;
  do {
    const page = await runQuery(fx.chain, { ...raw, perPage: 1000, ...(token !== undefined ? { nextPageToken: token } : {}) }, { scanBudget: 20_000, historyBatch: 256 }, read);
    ids.push(...page.events.map((e) => e.eventId));
    examined += page.examined;
    token = page.nextPageToken;
  } while (token !== undefined);
  return { ids, examined };
}

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('the query index', () => {
  it('a query by place reads only the rows of that place; connect writes one row per term, disconnect removes them', async () => {
    fx = await makeFixture(undefined, { rules: traceRules() });
    const f = fx;
    expect(f.store.queryTermsReady()).toBe(true);
    const txs = [txOf(f, 40, () => undefined), txOf(f, 3, (i) => (i === 1 ? PLACE : undefined)), txOf(f, 20, () => undefined)];
    const block = buildBlock(f, { txs });
    await f.chain.importBlock(block);
    const want = [txs[1]?.eventIds[1]];
    const byPlace = await query(f, { EQ_bizLocation: PLACE });
    expect(byPlace).toEqual({ ids: want, examined: 1 });
    // Every event has its ten-minute, hour, day and bizStep terms (one has a place too), one row per term and block.
    const rows = termsOf(traceRules(), block);
    expect(rows.reduce((n, r) => n + r.positions.length / 2, 0)).toBe(63 * 4 + 1);
    expect(new Set(rows.map((r) => r.term)).size).toBe(rows.length);
    expect(rows.length).toBeLessThan(20);
    expect(historyOf(traceRules(), block).length).toBe(63);
    // A reorg away: the rows go with the block.
    const parent = f.chain.header((f.chain.header(block.hashHex) as HeaderEntry).prevHash) as HeaderEntry;
    const other = buildBlock(f, { parent, dt: f.genesis.params.blockIntervalMs + 1 });
    await f.chain.importBlock(other);
    await f.chain.importBlock(buildBlock(f, { parent: f.chain.header(other.hashHex) }));
    expect((await query(f, { EQ_bizLocation: PLACE })).ids).toEqual([]);
    expect(await f.store.termPositions(`?bizLocation=${PLACE}`, { min: 10 })).toEqual({ positions: [], done: true });
  });

  it('a store without the index scans (same answer); the backfill writes the rows connect writes, and queries use them', async () => {
    // Blocks connected by rules without a query index, then the marker removed: a store of an older build.
    const { queryTermsOf, ...noTerms } = traceRules();
    const rules: TxRules = noTerms;
    fx = await makeFixture(undefined, { rules });
    const f = fx;
    const txs = [txOf(f, 30, () => undefined), txOf(f, 4, (i) => (i % 2 === 0 ? PLACE : undefined))];
    await f.chain.importBlock(buildBlock(f, { txs }));
    await f.store.close();
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(f.dir, 'chain'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    await db.del(new Uint8Array([0x0a, ...new TextEncoder().encode('queryTerms')]));
    await db.close();
    await f.reopen();
    expect(f.store.queryTermsReady()).toBe(false);
    const want = [txs[1]?.eventIds[0], txs[1]?.eventIds[2]];
    const scanned = await query(f, { EQ_bizLocation: PLACE });
    expect(scanned).toEqual({ ids: want, examined: 34 });
    // The node's rules again (they write the index's rows), as an upgraded node opens its old store.
    rules.queryTermsOf = queryTermsOf;
    await f.reopen();
    expect(f.chain.queryIndexReady).toBe(false);
    const built = await backfillQueryTerms(f.store, traceRules(), f.chain.limits, pino({ level: 'silent' }));
    expect(built).toBe(true);
    expect(f.chain.queryIndexReady).toBe(true);
    expect(await query(f, { EQ_bizLocation: PLACE })).toEqual({ ids: want, examined: 2 });
    expect(await backfillQueryTerms(f.store, traceRules(), f.chain.limits, pino({ level: 'silent' }))).toBe(false);
  });

  it('a store whose index is of an older version (1: per-event rows without ten-minute terms) is built again at start, its old rows removed; a time range then reads only its end periods', async () => {
    fx = await makeFixture(undefined, { rules: traceRules() });
    const f = fx;
    // 140 events a minute apart; the range [h:37, h+1:12) of the first whole hour cuts through two ten-minute periods.
    const txs = Array.from({ length: 7 }, () => txOf(f, 20, () => undefined));
    await f.chain.importBlock(buildBlock(f, { txs }));
    const all = txs.flatMap((t) => t.events.map((e, i) => ({ id: t.eventIds[i] as string, ms: Date.parse((e as { eventTime: string }).eventTime) })));
    const first = (all[0] as { ms: number }).ms;
    const from = Math.ceil(first / 3_600_000) * 3_600_000 + 37 * 60_000;
    const to = from + 35 * 60_000;
    const range = { GE_eventTime: new Date(from).toISOString(), LT_eventTime: new Date(to).toISOString() };
    const want = all.filter((e) => e.ms >= from && e.ms < to).map((e) => e.id);
    expect(want.length).toBe(35);
    const current = await query(f, range);
    expect(current.ids).toEqual(want);
    // Read: the events of the periods h:30, h:40, h:50, h+1:00 and h+1:10, ten each.
    expect(current.examined).toBe(50);
    await f.store.close();
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(f.dir, 'chain'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    await db.put(new Uint8Array([0x0a, ...new TextEncoder().encode('queryTerms')]), new Uint8Array([1]));
    // A row of the older index: one per (term, event) in the history bucket.
    const oldRow = new Uint8Array([0x06, ...new TextEncoder().encode('?bizStep=receiving'), 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    await db.put(oldRow, new Uint8Array(32));
    await db.close();
    await f.reopen();
    expect(f.chain.queryIndexReady).toBe(false);
    expect((await query(f, range)).ids).toEqual(want);
    expect(await backfillQueryTerms(f.store, traceRules(), f.chain.limits, pino({ level: 'silent' }))).toBe(true);
    expect(f.chain.queryIndexReady).toBe(true);
    expect(await query(f, range)).toEqual(current);
    // The older index's rows are gone.
    expect(await f.store.history('?bizStep=receiving', { limit: 10 })).toEqual([]);
  });
});
