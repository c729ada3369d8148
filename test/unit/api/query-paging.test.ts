/**
 * GET /events paging on a real chain (property): the pages of a query, followed by their
 * nextPageToken with random page sizes and scan budgets, give exactly the brute-force answer in
 * chain order, by the scan plan and by the history-index plan; and when a reorg replaces blocks
 * between two pages, the pages still give every matching event of the final main chain, the
 * pages after the reorg in the final chain's order, and nothing else but events of the replaced
 * blocks.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { runQuery, type Position, type RawQuery } from '../../../src/api/query.js';
import { runEventsQuery } from '../../../src/api/query-ordered.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { prepareDocument } from '../../../src/trace/index.js';
import { buildBlock, GENESIS_TIME, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';

const SGTIN = ['urn:epc:id:sgtin:0614141.107346.1', 'urn:epc:id:sgtin:0614141.107346.2', 'urn:epc:id:sgtin:0614141.107346.3'];
const STEPS = ['shipping', 'receiving', 'storing'];
const SGLN = ['urn:epc:id:sgln:0614141.07346.1', 'urn:epc:id:sgln:0614141.07346.2'];
const CLASSES = ['urn:epc:class:lgtin:0614141.107346.LOT1', 'urn:epc:class:lgtin:0614141.107346.LOT2'];
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

interface Spec {
  epc: number;
  step: number;
  place: number | undefined;
  lot: number | undefined;
  /** An extension field to order by (`orderBy=example:rank`): a number, text (a number written as text is a number), or absent. */
  rank?: number | string | undefined;
}
const specArb: fc.Arbitrary<Spec> = fc.record({
  epc: fc.nat({ max: SGTIN.length - 1 }),
  step: fc.nat({ max: STEPS.length - 1 }),
  place: fc.option(fc.nat({ max: SGLN.length - 1 }), { nil: undefined }),
  lot: fc.option(fc.nat({ max: CLASSES.length - 1 }), { nil: undefined }),
  rank: fc.option(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom('b', 'a', 'ab', '10', '2.5')), { nil: undefined }),
});

let serial = 0;
/** A signed tx of these events (as capture prepares them: CBV 2.0 IDs). */
function txOf(fx: Fixture, specs: Spec[]): SignedTx {
  const events = specs.map((s) => {
    serial++;
    // Seven hours apart: events fall on several days (the day terms).
    return {
      type: 'ObjectEvent',
      eventTime: new Date(T0 + serial * 7 * HOUR).toISOString(),
      eventTimeZoneOffset: '+00:00',
      epcList: [SGTIN[s.epc] as string],
      action: 'OBSERVE',
      bizStep: STEPS[s.step] as string,
      ...(s.place !== undefined ? { bizLocation: { id: SGLN[s.place] as string }, readPoint: { id: SGLN[1 - s.place] as string } } : {}),
      ...(s.lot !== undefined ? { quantityList: [{ epcClass: CLASSES[s.lot] as string, quantity: 2 }] } : {}),
      ...(s.rank !== undefined ? { 'example:rank': s.rank } : {}),
    };
  });
  const p = prepareDocument({ '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: events } });
  return makeTx(fx, p.events, fx.sealer, p.eventIds);
}

const at = (e: Record<string, unknown>): number => Date.parse(e['eventTime'] as string);
const place = (e: Record<string, unknown>, f: string): string | undefined => (e[f] as { id?: string } | undefined)?.id;
const lots = (e: Record<string, unknown>): string[] => ((e['quantityList'] as { epcClass: string }[] | undefined) ?? []).map((q) => q.epcClass);

/** Queries and their brute-force meaning (the scan plan, the EPC history plan, the query index's term plans, no filter); `rt`: the record time (block time). */
const QUERIES: { raw: RawQuery; want: (e: Record<string, unknown>, rt: number) => boolean }[] = [
  // Blocks are a block interval (TEST_PARAMS) apart from genesis: the second and later blocks.
  { raw: { GE_recordTime: new Date(GENESIS_TIME + 2 * TEST_PARAMS.blockIntervalMs).toISOString() }, want: (_e, rt) => rt >= GENESIS_TIME + 2 * TEST_PARAMS.blockIntervalMs },
  { raw: { EQ_bizStep: 'shipping', LT_recordTime: new Date(GENESIS_TIME + 3 * TEST_PARAMS.blockIntervalMs).toISOString() }, want: (e, rt) => e['bizStep'] === 'shipping' && rt < GENESIS_TIME + 3 * TEST_PARAMS.blockIntervalMs },
  { raw: {}, want: () => true },
  { raw: { EQ_bizStep: 'receiving' }, want: (e) => e['bizStep'] === 'receiving' },
  { raw: { eventType: 'ObjectEvent', EQ_action: 'OBSERVE|ADD' }, want: () => true },
  { raw: { EQ_bizLocation: SGLN[0] as string, EQ_bizStep: 'shipping|receiving' }, want: (e) => place(e, 'bizLocation') === SGLN[0] && e['bizStep'] !== 'storing' },
  { raw: { EQ_readPoint: SGLN.join('|') }, want: (e) => place(e, 'readPoint') !== undefined },
  { raw: { MATCH_anyEPCClass: CLASSES[1] as string }, want: (e) => lots(e).includes(CLASSES[1] as string) },
  { raw: { MATCH_epcClass: CLASSES.join('|'), EQ_bizStep: 'storing' }, want: (e) => lots(e).length > 0 && e['bizStep'] === 'storing' },
  { raw: { GE_eventTime: new Date(T0 + 30 * HOUR).toISOString(), LT_eventTime: new Date(T0 + 200 * HOUR).toISOString() }, want: (e) => at(e) >= T0 + 30 * HOUR && at(e) < T0 + 200 * HOUR },
  { raw: { GE_eventTime: new Date(T0 + 10.5 * HOUR).toISOString(), LT_eventTime: new Date(T0 + 40 * HOUR).toISOString() }, want: (e) => at(e) >= T0 + 10.5 * HOUR && at(e) < T0 + 40 * HOUR },
  { raw: { GE_eventTime: new Date(T0).toISOString(), LT_eventTime: new Date(T0 + 3000 * 24 * HOUR).toISOString(), EQ_disposition: 'in_transit' }, want: () => false },
  { raw: { WD_bizLocation: SGLN[1] as string, GE_quantity: '2' }, want: (e) => place(e, 'bizLocation') === SGLN[1] && lots(e).length > 0 },
  { raw: { MATCH_epc: SGTIN[0] as string }, want: (e) => (e['epcList'] as string[]).includes(SGTIN[0] as string) },
  { raw: { MATCH_epc: `${SGTIN[1] as string}|${SGTIN[2] as string}`, EQ_bizStep: 'shipping|storing' }, want: (e) => (e['epcList'] as string[]).some((x) => x !== SGTIN[0]) && e['bizStep'] !== 'receiving' },
  // The field and pattern families (api/query-families.ts): a scan, and an index plan with a company's pattern.
  { raw: { 'GE_example:rank': '2' }, want: (e) => rankAtLeast2(e['example:rank']) },
  { raw: { MATCH_epc: 'urn:epc:idpat:sgtin:0614141.*.*', EQ_bizStep: 'shipping' }, want: (e) => e['bizStep'] === 'shipping' },
  { raw: { MATCH_anyEPC: 'urn:epc:idpat:sgtin:0614142.*.*' }, want: () => false },
];

/** `GE_example:rank=2` by hand: numbers (also written as text) as numbers, other text in code-point order ('a' > '2'). */
function rankAtLeast2(v: unknown): boolean {
  if (typeof v === 'number') return v >= 2;
  if (typeof v !== 'string') return false;
  return /^[\d.]+$/.test(v) ? Number(v) >= 2 : v >= '2';
}

interface Hit {
  eventId: string;
  height: number;
}

/** Every event of the main chain in chain order, with its height. */
async function mainEvents(fx: Fixture): Promise<(Hit & { event: Record<string, unknown>; rt: number })[]> {
  const out: (Hit & { event: Record<string, unknown>; rt: number })[] = [];
  for (let h = 1; h <= fx.chain.tip.height; h++) {
    const block = await fx.chain.getMainBlock(h);
    const rt = block?.header.time as number;
    for (const tx of block?.txs ?? []) tx.events.forEach((event, i) => out.push({ eventId: tx.eventIds[i] as string, height: h, event: event as Record<string, unknown>, rt }));
  }
  return out;
}

async function page(fx: Fixture, raw: RawQuery, scanBudget: number, run = runQuery): Promise<{ hits: Hit[]; next?: string }> {
  const read = async (pos: Position, eventId: string | undefined): Promise<{ eventId: string; event: Record<string, unknown> }> => {
    const block = await fx.chain.getMainBlock(pos.height);
    const event = block?.txs[pos.txIndex]?.events[pos.eventIndex];
    const id = block?.txs[pos.txIndex]?.eventIds[pos.eventIndex];
    if (event === undefined || id === undefined || (eventId !== undefined && eventId !== id)) throw new Error(`no event ${eventId ?? ''} at ${JSON.stringify(pos)}`);
    return { eventId: id, event: event as Record<string, unknown> };
  };
  const out = await run(fx.chain, raw, { scanBudget, historyBatch: 2 }, read);
  return { hits: out.events.map((e) => ({ eventId: e.eventId, height: e.position.height })), ...(out.nextPageToken !== undefined ? { next: out.nextPageToken } : {}) };
}

/** Mine blocks of these txs on `parent` (default: the tip); returns the last block's header entry. */
async function mine(fx: Fixture, blocks: SignedTx[][], parent?: HeaderEntry, dt?: number): Promise<HeaderEntry> {
  let at = parent ?? fx.chain.tip;
  for (const txs of blocks) {
    const b = buildBlock(fx, { parent: at, txs, ...(dt !== undefined ? { dt } : {}) });
    await fx.chain.importBlock(b);
    at = fx.chain.header(b.hashHex) as HeaderEntry;
  }
  return at;
}

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const caseArb = fc.record({
  blocks: fc.array(fc.array(fc.array(specArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 6 }),
  query: fc.nat({ max: QUERIES.length - 1 }),
  perPage: fc.integer({ min: 1, max: 4 }),
  scanBudget: fc.integer({ min: 1, max: 6 }),
  limit: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
});

describe('GET /events pages on a real chain (property)', () => {
  it('following nextPageToken gives exactly the brute-force answer in chain order (scan and index plans)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ blocks, query, perPage, scanBudget, limit }) => {
        fx = await makeFixture(undefined, { rules: traceRules() });
        const f = fx;
        await mine(f, blocks.map((txs) => txs.map((specs) => txOf(f, specs))));
        const q = QUERIES[query] as (typeof QUERIES)[number];
        const got: string[] = [];
        let token: string | undefined;
        for (let pages = 0; ; pages++) {
          expect(pages).toBeLessThan(200);
          const p = await page(f, { ...q.raw, perPage, ...(limit !== undefined ? { eventCountLimit: limit } : {}), ...(token !== undefined ? { nextPageToken: token } : {}) }, scanBudget);
          expect(p.hits.length).toBeLessThanOrEqual(perPage);
          got.push(...p.hits.map((h) => h.eventId));
          if (p.next === undefined) break;
          token = p.next;
        }
        const want = (await mainEvents(f)).filter((e) => q.want(e.event, e.rt)).map((e) => e.eventId);
        // eventCountLimit: the first that many, over all pages.
        expect(got).toEqual(limit === undefined ? want : want.slice(0, limit));
        await f.close();
        fx = undefined;
      }),
      { numRuns: 30 },
    );
  });

  it('orderBy (eventTime, recordTime or an extension field, ASC or DESC) gives the brute-force answer sorted, ties in chain order, eventCountLimit its first N; maxEventCount refuses more matches with 413 QueryTooLarge', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.constantFrom('eventTime', 'recordTime', 'example:rank', undefined), fc.constantFrom('ASC', 'DESC'), fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }), fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }), async ({ blocks, query, perPage, scanBudget }, orderBy, dir, max, limit) => {
        fx = await makeFixture(undefined, { rules: traceRules() });
        const f = fx;
        await mine(f, blocks.map((txs) => txs.map((specs) => txOf(f, specs))));
        const q = QUERIES[query] as (typeof QUERIES)[number];
        const all = (await mainEvents(f)).map((e, i) => ({ ...e, i })).filter((e) => q.want(e.event, e.rt));
        const key = (e: (typeof all)[number]): number => (orderBy === 'eventTime' ? at(e.event) : e.rt);
        const sign = dir === 'DESC' ? -1 : 1;
        // An extension field: numbers (also written as text) before text, text in code-point order; events without it last, in chain order.
        const rank = (e: (typeof all)[number]): [number, number | string] | undefined => {
          const v = e.event['example:rank'];
          if (v === undefined) return undefined;
          return typeof v === 'number' ? [0, v] : /^[\d.]+$/.test(v as string) ? [0, Number(v)] : [2, v as string];
        };
        const byRank = (a: (typeof all)[number], b: (typeof all)[number]): number => {
          const ka = rank(a);
          const kb = rank(b);
          if (ka === undefined || kb === undefined) return ka !== undefined ? -1 : kb !== undefined ? 1 : a.i - b.i;
          const c = ka[0] - kb[0] || (typeof ka[1] === 'number' ? ka[1] - (kb[1] as number) : ka[1] < kb[1] ? -1 : ka[1] > kb[1] ? 1 : 0);
          return sign * (c || a.i - b.i);
        };
        const sorted = orderBy === undefined ? all : orderBy === 'example:rank' ? [...all].sort(byRank) : [...all].sort((a, b) => sign * (key(a) - key(b) || a.i - b.i));
        const limited = orderBy !== undefined && max === undefined && limit !== undefined ? sorted.slice(0, limit) : sorted;
        const want = limited.map((e) => e.eventId);
        const raw: RawQuery = {
          ...q.raw,
          perPage,
          ...(orderBy !== undefined ? { orderBy, orderDirection: dir } : {}),
          ...(max !== undefined ? { maxEventCount: max } : orderBy !== undefined && limit !== undefined ? { eventCountLimit: limit } : {}),
        };
        if (orderBy === undefined && max === undefined) {
          await f.close();
          fx = undefined;
          return;
        }
        // A budget of at least 5: the ≤ 36 events are collected over several budgets, never over ten (QueryTooComplex).
        const budget = scanBudget + 4;
        if (max !== undefined && want.length > max) {
          await expect(page(f, raw, budget, runEventsQuery)).rejects.toMatchObject({ status: 413, code: 'QUERY_TOO_LARGE' });
        } else {
          const got: string[] = [];
          let token: string | undefined;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThan(200);
            const p = await page(f, { ...raw, ...(token !== undefined ? { nextPageToken: token } : {}) }, budget, runEventsQuery);
            expect(p.hits.length).toBeLessThanOrEqual(perPage);
            got.push(...p.hits.map((h) => h.eventId));
            if (p.next === undefined) break;
            token = p.next;
            // A block mined between pages changes nothing: the pages are of the chain up to the first page's tip.
            if (pages === 0) await mine(f, [[txOf(f, [{ epc: 0, step: 0, place: 0, lot: 0 }])]]);
          }
          expect(got).toEqual(want);
        }
        await f.close();
        fx = undefined;
      }),
      { numRuns: 30 },
    );
  });

  it('ordered queries: parameters checked, a token of a reorganised chain refused, chain-order runQuery refuses them', async () => {
    fx = await makeFixture(undefined, { rules: traceRules() });
    const f = fx;
    await mine(f, [[txOf(f, [{ epc: 0, step: 0, place: 0, lot: undefined }, { epc: 1, step: 1, place: 0, lot: undefined }])], [txOf(f, [{ epc: 2, step: 0, place: 0, lot: undefined }])]]);
    const bad = (raw: RawQuery) => expect(page(f, raw, 100, runEventsQuery)).rejects.toMatchObject({ status: 400, code: 'QUERY_PARAMETER' });
    await bad({ orderBy: 'bizStep' });
    await bad({ orderBy: 'example:' });
    await bad({ orderBy: 'eventTime', orderDirection: 'UP' });
    await bad({ orderDirection: 'ASC' });
    await bad({ maxEventCount: 5, eventCountLimit: 2 });
    await bad({ maxEventCount: 10_001 });
    await expect(page(f, { orderBy: 'eventTime' }, 100)).rejects.toMatchObject({ status: 400, code: 'QUERY_PARAMETER' });
    const first = await page(f, { orderBy: 'eventTime', orderDirection: 'ASC', perPage: 1 }, 100, runEventsQuery);
    expect(first.next).toBeDefined();
    // Another query's token, and a token whose tip was replaced by a reorg.
    await bad({ orderBy: 'eventTime', orderDirection: 'DESC', perPage: 1, nextPageToken: first.next as string });
    const fork = f.chain.ancestor(f.chain.tip, f.chain.tip.height - 1) as HeaderEntry;
    await mine(f, [[], []], fork, f.genesis.params.blockIntervalMs + 1);
    await expect(page(f, { orderBy: 'eventTime', orderDirection: 'ASC', perPage: 1, nextPageToken: first.next as string }, 100, runEventsQuery)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/reorganised/) });
    // Too much to examine in order: QueryTooComplex (scan budget 1 × 10 per collection).
    await mine(f, Array.from({ length: 4 }, () => [txOf(f, [{ epc: 0, step: 2, place: undefined, lot: undefined }, { epc: 1, step: 2, place: undefined, lot: undefined }, { epc: 2, step: 2, place: undefined, lot: undefined }])]));
    await expect(page(f, { eventType: 'ObjectEvent', orderBy: 'recordTime' }, 1, runEventsQuery)).rejects.toMatchObject({ status: 413, code: 'QUERY_TOO_COMPLEX' });
  });

  it('a reorg between pages: every matching event of the final chain is given, the later pages in its order, nothing else but replaced blocks\' events', async () => {
    await fc.assert(
      fc.asyncProperty(
        caseArb,
        fc.nat(),
        fc.nat(),
        fc.array(fc.array(specArb, { minLength: 1, maxLength: 3 }), { minLength: 0, maxLength: 2 }),
        fc.boolean(),
        async ({ blocks, query, perPage, scanBudget }, pagesBefore, depthPick, fresh, keepOld) => {
          fx = await makeFixture(undefined, { rules: traceRules() });
          const f = fx;
          await mine(f, blocks.map((txs) => txs.map((specs) => txOf(f, specs))));
          const q = QUERIES[query] as (typeof QUERIES)[number];
          const got: Hit[] = [];
          let token: string | undefined;
          let reorged = false;
          let afterReorg = 0;
          let replaced = new Set<string>();
          const before = pagesBefore % 4;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThan(200);
            if (pages === before && token !== undefined && !reorged) {
              // Replace the top `depth` blocks by a heavier branch: the old txs again (or not), and new ones.
              const depth = 1 + (depthPick % f.chain.tip.height);
              const fork = f.chain.ancestor(f.chain.tip, f.chain.tip.height - depth) as HeaderEntry;
              const old = (await mainEvents(f)).filter((e) => e.height > fork.height);
              replaced = new Set(old.map((e) => e.eventId));
              const oldTxs: SignedTx[] = [];
              for (let h = fork.height + 1; h <= f.chain.tip.height; h++) oldTxs.push(...((await f.chain.getMainBlock(h))?.txs ?? []));
              const branch: SignedTx[][] = [keepOld ? oldTxs.reverse() : [], ...fresh.map((specs) => [txOf(f, specs)])];
              while (branch.length < depth + 1) branch.push([]);
              // (Another block time than the replaced blocks': the same txs on the same parent make a new block.)
              await mine(f, branch, fork, f.genesis.params.blockIntervalMs + 1);
              expect(f.chain.tip.height).toBe(fork.height + branch.length);
              reorged = true;
              afterReorg = got.length;
            }
            const p = await page(f, { ...q.raw, perPage, ...(token !== undefined ? { nextPageToken: token } : {}) }, scanBudget);
            got.push(...p.hits);
            if (p.next === undefined) break;
            token = p.next;
          }
          const final = (await mainEvents(f)).filter((e) => q.want(e.event, e.rt));
          const finalIds = new Set(final.map((e) => e.eventId));
          const gotIds = got.map((h) => h.eventId);
          // Every matching event of the final main chain was given.
          for (const e of final) expect(gotIds).toContain(e.eventId);
          // Anything else given was in a replaced block; an event given twice too.
          for (const id of gotIds) if (!finalIds.has(id)) expect(replaced.has(id)).toBe(true);
          const seen = new Set<string>();
          for (const id of gotIds) {
            if (seen.has(id)) expect(replaced.has(id)).toBe(true);
            seen.add(id);
          }
          // The pages after the reorg follow the final chain's order.
          const order = new Map(final.map((e, i) => [e.eventId, i]));
          const later = got.slice(afterReorg).map((h) => order.get(h.eventId));
          expect(later.every((i) => i !== undefined)).toBe(true);
          expect([...(later as number[])].sort((a, b) => a - b)).toEqual(later);
          await f.close();
          fx = undefined;
        },
      ),
      { numRuns: 30 },
    );
  });
});
