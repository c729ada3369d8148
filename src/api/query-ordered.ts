/**
 * The EPCIS query parameters that need a query's whole result: `orderBy` / `orderDirection`
 * (eventTime or recordTime, ascending or descending) and `maxEventCount` (more matches than that:
 * QueryTooLargeException). Such a query collects every match up to the chain's tip when its first
 * page is asked for (at most MAX_MATERIALISED matches, examining at most MAX_EXAMINED_FACTOR ×
 * the scan budget events, else QueryTooComplexException), sorts it, and gives it page by page.
 * A page token names that tip (height and hash) and an offset, so each later page collects the
 * same events again up to the same height and is a slice of the same order; a reorg below that
 * height since the first page is a 400 (ask again without the token). Chain-order queries are
 * api/query.ts's runQuery (runParsedQuery), which every other query goes through.
 */
import type { Chain } from '../chain/chain.js';
import { parseTime } from '../trace/epcis-time.js';
import { compareText, isNumericText } from './query-families.js';
import { HttpProblem, storeDamaged } from './problem.js';
import { bad, decodePageToken, MAX_MATERIALISED, parseQuery, planPage, runParsedQuery, tokenJson, type EventReader, type ParsedQuery, type Position, type QueryHit, type QueryLimits, type QueryPage, type RawQuery } from './query.js';

/** Events an ordered or counted query may examine while collecting: this many scan budgets. */
export const MAX_EXAMINED_FACTOR = 10;

interface OrderedToken {
  v: 3;
  f: string;
  /** The tip height and hash the first page collected up to. */
  t: number;
  h: string;
  /** Events the earlier pages gave. */
  o: number;
}

function encodeOrderedToken(t: OrderedToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeOrderedToken(token: string, fingerprint: string): OrderedToken {
  const t = tokenJson(token);
  const o = t as Partial<OrderedToken>;
  if (o.v !== 3 || !Number.isSafeInteger(o.t) || (o.t as number) < 0 || typeof o.h !== 'string' || !/^[0-9a-f]{64}$/.test(o.h) || !Number.isSafeInteger(o.o) || (o.o as number) < 0) {
    throw bad('nextPageToken', 'not a token this node issued');
  }
  if (o.f !== fingerprint) throw bad('nextPageToken', 'the token belongs to a query with other parameters');
  return o as OrderedToken;
}

/** Every match of `q` in blocks up to `maxHeight`, in chain order; QueryTooLarge / QueryTooComplex past the bounds. */
async function collect(chain: Chain, q: ParsedQuery, maxHeight: number, limits: QueryLimits, read: EventReader, most: number): Promise<{ hits: QueryHit[]; examined: number }> {
  const inner: ParsedQuery = { ...q, perPage: most + 1 };
  const out: QueryHit[] = [];
  let after: Position | undefined;
  let examined = 0;
  for (;;) {
    const page: QueryPage = await planPage(chain, inner, after, 0, limits, read);
    examined += page.examined;
    for (const h of page.events) {
      if (h.position.height > maxHeight) return { hits: out, examined };
      out.push(h);
      if (out.length > most) {
        if (q.maxEventCount !== undefined && most === q.maxEventCount) {
          throw new HttpProblem('QUERY_TOO_LARGE', `the query matches more than maxEventCount (${q.maxEventCount}) events`);
        }
        throw new HttpProblem('QUERY_TOO_LARGE', `an ordered query may match at most ${MAX_MATERIALISED} events; narrow it (a time range, a place, a step) or query in chain order without orderBy`);
      }
    }
    if (page.nextPageToken === undefined) return { hits: out, examined };
    if (examined >= limits.scanBudget * MAX_EXAMINED_FACTOR) {
      throw new HttpProblem('QUERY_TOO_COMPLEX', `answering it in order would examine more than ${limits.scanBudget * MAX_EXAMINED_FACTOR} events; narrow it with an indexed filter (a place, a class, a time range, a step) or query in chain order without orderBy / maxEventCount`);
    }
    const pos = decodePageToken(page.nextPageToken, q.fingerprint);
    if (pos.height > maxHeight) return { hits: out, examined };
    after = { height: pos.height, txIndex: pos.txIndex, eventIndex: pos.eventIndex };
  }
}

/**
 * An event's sort key for `orderBy` of an extension field (its first value when it has several):
 * numbers (also written as text) before times before other text, each in its own order; an event
 * without the field has none and goes last in either direction.
 */
function fieldKey(event: Record<string, unknown>, name: string): [number, number | string] | undefined {
  let v: unknown = event[name];
  while (Array.isArray(v)) v = v[0];
  if (typeof v === 'object' && v !== null && '@value' in v) v = (v as { '@value': unknown })['@value'];
  if (typeof v === 'number') return [0, v];
  if (typeof v !== 'string') return undefined;
  if (isNumericText(v)) return [0, Number(v)];
  const t = parseTime(v);
  return t !== undefined ? [1, t.ms] : [2, v];
}

function compareKeys(a: [number, number | string], b: [number, number | string]): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  return typeof a[1] === 'number' ? a[1] - (b[1] as number) : compareText(a[1], b[1] as string);
}

/** Sort in place by the query's order; ties in chain order (reversed with DESC). */
async function sortHits(chain: Chain, hits: QueryHit[], order: NonNullable<ParsedQuery['order']>): Promise<void> {
  const chainOrder = (a: QueryHit, b: QueryHit): number => a.position.height - b.position.height || a.position.txIndex - b.position.txIndex || a.position.eventIndex - b.position.eventIndex;
  const sign = order.desc ? -1 : 1;
  if (order.by !== 'eventTime' && order.by !== 'recordTime') {
    const byField = new Map<QueryHit, [number, number | string] | undefined>();
    for (const h of hits) byField.set(h, fieldKey(h.event, order.by));
    hits.sort((a, b) => {
      const ka = byField.get(a);
      const kb = byField.get(b);
      if (ka === undefined || kb === undefined) return ka !== undefined ? -1 : kb !== undefined ? 1 : chainOrder(a, b);
      return sign * (compareKeys(ka, kb) || chainOrder(a, b));
    });
    return;
  }
  const keys = new Map<QueryHit, number>();
  const blockTimes = new Map<number, number>();
  for (const h of hits) {
    let k: number;
    if (order.by === 'eventTime') {
      const t = typeof h.event['eventTime'] === 'string' ? parseTime(h.event['eventTime']) : undefined;
      k = t?.ms ?? Number.MAX_SAFE_INTEGER;
    } else {
      let time = blockTimes.get(h.position.height);
      if (time === undefined) {
        const hash = await chain.store.getMainHash(h.position.height);
        const header = hash === undefined ? undefined : chain.header(hash);
        if (header === undefined) throw storeDamaged(`no main-chain header at height ${h.position.height}`);
        time = header.time;
        blockTimes.set(h.position.height, time);
      }
      k = time;
    }
    keys.set(h, k);
  }
  hits.sort((a, b) => sign * ((keys.get(a) as number) - (keys.get(b) as number) || chainOrder(a, b)));
}

/** An ordered or counted query's page (see the module comment). */
async function runMaterialised(chain: Chain, q: ParsedQuery, token: string | undefined, limits: QueryLimits, read: EventReader): Promise<QueryPage> {
  let at: { t: number; h: string; o: number };
  if (token !== undefined) {
    const t = decodeOrderedToken(token, q.fingerprint);
    if ((await chain.store.getMainHash(t.t)) !== t.h) throw bad('nextPageToken', 'the chain was reorganised under this ordered query since its first page; ask again without nextPageToken');
    at = t;
  } else {
    const tip = chain.tip;
    at = { t: tip.height, h: tip.hash, o: 0 };
  }
  const most = q.maxEventCount ?? MAX_MATERIALISED;
  const collected = await collect(chain, q, at.t, limits, read, most);
  const { examined } = collected;
  let hits = collected.hits;
  if (q.order !== undefined) await sortHits(chain, hits, q.order);
  // eventCountLimit: the first N of the order.
  if (q.eventCountLimit !== undefined) hits = hits.slice(0, q.eventCountLimit);
  const page = hits.slice(at.o, at.o + q.perPage);
  if (at.o + page.length >= hits.length) return { events: page, examined };
  return { events: page, examined, nextPageToken: encodeOrderedToken({ v: 3, f: q.fingerprint, t: at.t, h: at.h, o: at.o + page.length }) };
}

/** One page of a GET /events query: ordered or counted queries as above, any other in chain order (runParsedQuery), parsed once. */
export async function runEventsQuery(chain: Chain, raw: RawQuery, limits: QueryLimits, read: EventReader): Promise<QueryPage> {
  const q = parseQuery(raw);
  if (q.order === undefined && q.maxEventCount === undefined) return runParsedQuery(chain, q, raw.nextPageToken, limits, read);
  return runMaterialised(chain, q, raw.nextPageToken, limits, read);
}
