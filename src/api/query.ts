/**
 * GET /events: a subset of the EPCIS 2.0 query language over the chain.
 *
 * Parameters: MATCH_epc, MATCH_anyEPC, EQ_bizStep, EQ_disposition, EQ_bizLocation, eventType,
 * GE_eventTime, LT_eventTime, perPage, nextPageToken. Several values of one parameter are given
 * by repeating it or separated by `|`; they are OR-ed; different parameters are AND-ed. EPCs
 * compare as canonical GS1 keys (an EPC URN matches its Digital Link); vocabulary values compare
 * as CBV words (`shipping` = `urn:epcglobal:cbv:bizstep:shipping` = `https://ref.gs1.org/cbv/BizStep-shipping`).
 *
 * Two plans, both in chain order (height, tx, event):
 * - with MATCH_epc / MATCH_anyEPC of GS1 keys: merge the items' history index (exact, cheap);
 * - otherwise: scan main-chain blocks from genesis upwards.
 * Either examines at most `scanBudget` events per page; a page may then hold fewer than perPage
 * events (even none) and still carry a next-page token: follow tokens until there is none.
 */
import { createHash } from 'node:crypto';
import type { Chain } from '../chain/chain.js';
import type { EpcHistoryEntry } from '../chain/store.js';
import type { SignedTx } from '../chain/types.js';
import { cbvWord, type VocabularyKind } from '../trace/vocabulary.js';
import { itemKeyOrUndefined, normaliseGs1Uri } from '../trace/identifiers.js';
import { prefixesOfContext } from '../trace/event-hash.js';
import { parseTime } from '../trace/epcis-time.js';
import { HttpProblem } from './problem.js';
import { storedTxSpans } from './proof-material.js';

export const QUERY_PARAMS = ['MATCH_epc', 'MATCH_anyEPC', 'EQ_bizStep', 'EQ_disposition', 'EQ_bizLocation', 'eventType', 'GE_eventTime', 'LT_eventTime'] as const;
export type QueryParam = (typeof QUERY_PARAMS)[number];
export type RawQuery = Partial<Record<QueryParam, string | string[]>> & { perPage?: number; nextPageToken?: string };

export const MAX_VALUES = 50;
export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 1000;

export interface ParsedQuery {
  epc?: Set<string>;
  anyEpc?: Set<string>;
  bizStep?: Set<string>;
  disposition?: Set<string>;
  bizLocation?: Set<string>;
  eventType?: Set<string>;
  geTime?: number;
  ltTime?: number;
  perPage: number;
  /** Canonical item keys to drive the history index, when every EPC value is a GS1 key. */
  indexKeys?: string[];
  fingerprint: string;
}

export interface Position {
  height: number;
  txIndex: number;
  eventIndex: number;
}

export interface QueryHit {
  eventId: string;
  event: Record<string, unknown>;
  position: Position;
}

export interface QueryPage {
  events: QueryHit[];
  nextPageToken?: string;
  examined: number;
}

function bad(param: string, detail: string): HttpProblem {
  return new HttpProblem(400, 'QUERY_PARAMETER', 'Bad query parameter', `${param}: ${detail}`, { errors: [{ path: `/${param}`, message: detail, code: 'QUERY_PARAMETER' }] });
}

function values(raw: string | string[] | undefined, param: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const out = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split('|')).map((v) => v.trim()).filter((v) => v.length > 0);
  if (out.length === 0) throw bad(param, 'give at least one value');
  if (out.length > MAX_VALUES) throw bad(param, `at most ${MAX_VALUES} values`);
  return out;
}

function epcForm(id: string): string {
  return itemKeyOrUndefined(id) ?? id;
}

function vocab(kind: VocabularyKind, v: string, prefixes?: ReadonlyMap<string, string>): string {
  return cbvWord(kind, v, prefixes) ?? v;
}

function location(v: string): string {
  return normaliseGs1Uri(v) ?? v;
}

function time(param: string, raw: string | string[] | undefined): number | undefined {
  const v = values(raw, param);
  if (v === undefined) return undefined;
  if (v.length !== 1) throw bad(param, 'takes one value');
  const t = parseTime(v[0] as string);
  if (t === undefined) throw bad(param, 'must be an ISO 8601 date-time with a time zone, e.g. 2024-01-31T10:00:00Z');
  return t.ms;
}

export function parseQuery(q: RawQuery): ParsedQuery {
  const out: ParsedQuery = { perPage: q.perPage ?? DEFAULT_PER_PAGE, fingerprint: '' };
  if (!Number.isSafeInteger(out.perPage) || out.perPage < 1 || out.perPage > MAX_PER_PAGE) throw bad('perPage', `must be 1 to ${MAX_PER_PAGE}`);
  const epcs = values(q.MATCH_epc, 'MATCH_epc');
  const any = values(q.MATCH_anyEPC, 'MATCH_anyEPC');
  if (epcs) out.epc = new Set(epcs.map(epcForm));
  if (any) out.anyEpc = new Set(any.map(epcForm));
  const steps = values(q.EQ_bizStep, 'EQ_bizStep');
  if (steps) out.bizStep = new Set(steps.map((v) => vocab('bizStep', v)));
  const disp = values(q.EQ_disposition, 'EQ_disposition');
  if (disp) out.disposition = new Set(disp.map((v) => vocab('disposition', v)));
  const loc = values(q.EQ_bizLocation, 'EQ_bizLocation');
  if (loc) out.bizLocation = new Set(loc.map(location));
  const types = values(q.eventType, 'eventType');
  if (types) out.eventType = new Set(types);
  out.geTime = time('GE_eventTime', q.GE_eventTime);
  out.ltTime = time('LT_eventTime', q.LT_eventTime);
  // Drive the history index with the narrower EPC filter whose values are all GS1 keys.
  for (const list of [epcs, any]) {
    if (list === undefined) continue;
    const keys = list.map(itemKeyOrUndefined);
    if (keys.every((k): k is string => k !== undefined)) {
      const uniq = [...new Set(keys)];
      if (out.indexKeys === undefined || uniq.length < out.indexKeys.length) out.indexKeys = uniq;
    }
  }
  const canon: Record<string, unknown> = {};
  for (const p of QUERY_PARAMS) if (q[p] !== undefined) canon[p] = values(q[p], p);
  out.fingerprint = createHash('sha256').update(JSON.stringify(canon)).digest('base64url').slice(0, 16);
  return out;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function idOf(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : undefined;
}

function intersects(set: Set<string>, ids: string[]): boolean {
  for (const id of ids) if (set.has(epcForm(id))) return true;
  return false;
}

/** Whether one stored (self-contained) event matches the query. */
export function matches(q: ParsedQuery, event: Record<string, unknown>): boolean {
  if (q.eventType && !q.eventType.has(String(event['type']))) return false;
  if (q.geTime !== undefined || q.ltTime !== undefined) {
    const t = typeof event['eventTime'] === 'string' ? parseTime(event['eventTime']) : undefined;
    if (t === undefined) return false;
    if (q.geTime !== undefined && t.ms < q.geTime) return false;
    if (q.ltTime !== undefined && t.ms >= q.ltTime) return false;
  }
  if (q.bizStep || q.disposition) {
    const prefixes = prefixesOfContext(event['@context']);
    if (q.bizStep) {
      const s = event['bizStep'];
      if (typeof s !== 'string' || !q.bizStep.has(vocab('bizStep', s, prefixes))) return false;
    }
    if (q.disposition) {
      const d = event['disposition'];
      if (typeof d !== 'string' || !q.disposition.has(vocab('disposition', d, prefixes))) return false;
    }
  }
  if (q.bizLocation) {
    const l = idOf(event['bizLocation']);
    if (l === undefined || !q.bizLocation.has(location(l))) return false;
  }
  if (q.epc) {
    if (!intersects(q.epc, [...strings(event['epcList']), ...strings(event['childEPCs'])])) return false;
  }
  if (q.anyEpc) {
    const ids = [...strings(event['epcList']), ...strings(event['childEPCs']), ...strings(event['inputEPCList']), ...strings(event['outputEPCList'])];
    if (typeof event['parentID'] === 'string') ids.push(event['parentID']);
    if (!intersects(q.anyEpc, ids)) return false;
  }
  return true;
}

interface Token {
  v: 1;
  f: string;
  p: [number, number, number];
}

export function encodeToken(fingerprint: string, pos: Position): string {
  const t: Token = { v: 1, f: fingerprint, p: [pos.height, pos.txIndex, pos.eventIndex] };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeToken(token: string, fingerprint: string): Position {
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad('nextPageToken', 'not a token this node issued');
  }
  const o = t as Partial<Token>;
  const p = o.p;
  if (o.v !== 1 || !Array.isArray(p) || p.length !== 3 || !p.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff)) {
    throw bad('nextPageToken', 'not a token this node issued');
  }
  if (o.f !== fingerprint) throw bad('nextPageToken', 'the token belongs to a query with other parameters');
  return { height: p[0] as number, txIndex: p[1] as number, eventIndex: p[2] as number };
}

function cmp(a: Position, b: Position): number {
  return a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex;
}

export interface QueryLimits {
  /** Most events examined per page. */
  scanBudget: number;
  /** History entries fetched per key and round. */
  historyBatch: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { scanBudget: 20_000, historyBatch: 256 };

/** Reads one event of a main-chain block (block tx parsed once per page). */
type EventReader = (pos: Position, eventId: string) => Promise<Record<string, unknown>>;

/** Index plan: merge the history of each key, in chain order, after `after`. */
async function runIndexed(chain: Chain, q: ParsedQuery, keys: string[], after: Position | undefined, limits: QueryLimits, read: EventReader): Promise<QueryPage> {
  const cursors = keys.map((key) => ({ key, buf: [] as EpcHistoryEntry[], done: false, last: after ? ({ key, ...after, eventId: '' } as EpcHistoryEntry) : undefined }));
  const hits: QueryHit[] = [];
  let examined = 0;
  let lastPos: Position | undefined;
  for (;;) {
    for (const c of cursors) {
      if (c.buf.length === 0 && !c.done) {
        const page = await chain.store.history(c.key, { after: c.last, limit: limits.historyBatch });
        c.buf = page;
        if (page.length < limits.historyBatch) c.done = true;
        const tail = page[page.length - 1];
        if (tail !== undefined) c.last = tail;
      }
    }
    let best: (typeof cursors)[number] | undefined;
    for (const c of cursors) {
      const head = c.buf[0];
      if (head !== undefined && (best === undefined || cmp(head, best.buf[0] as EpcHistoryEntry) < 0)) best = c;
    }
    if (best === undefined) return { events: hits, examined };
    const head = best.buf.shift() as EpcHistoryEntry;
    // The same event may be indexed under several keys: drop the copies at the same position.
    for (const c of cursors) while (c.buf[0] !== undefined && cmp(c.buf[0], head) === 0) c.buf.shift();
    const pos: Position = { height: head.height, txIndex: head.txIndex, eventIndex: head.eventIndex };
    lastPos = pos;
    examined++;
    const event = await read(pos, head.eventId);
    if (matches(q, event)) hits.push({ eventId: head.eventId, event, position: pos });
    if (hits.length >= q.perPage || examined >= limits.scanBudget) {
      const more = cursors.some((c) => c.buf.length > 0 || !c.done);
      return { events: hits, examined, ...(more ? { nextPageToken: encodeToken(q.fingerprint, lastPos) } : {}) };
    }
  }
}

/** Scan plan: every event of the main chain from `after` upwards. */
async function runScan(chain: Chain, q: ParsedQuery, after: Position | undefined, limits: QueryLimits): Promise<QueryPage> {
  const hits: QueryHit[] = [];
  let examined = 0;
  const tip = chain.tip.height;
  for (let h = Math.max(1, after?.height ?? 1); h <= tip; h++) {
    const hash = await chain.store.getMainHash(h);
    if (hash === undefined) break;
    const bytes = await chain.store.getBlockBytes(hash);
    if (bytes === undefined) throw new HttpProblem(500, 'STORE_DAMAGED', 'Store damaged', `main-chain block ${hash} is not stored`);
    const spans = storedTxSpans(bytes, hash);
    for (let t = 0; t < spans.length / 2; t++) {
      if (after && h === after.height && t < after.txIndex) continue;
      const start = spans[2 * t] as number;
      const tx = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + start, spans[2 * t + 1] as number).toString('utf8')) as SignedTx;
      for (let e = 0; e < tx.events.length; e++) {
        const pos = { height: h, txIndex: t, eventIndex: e };
        if (after && cmp(pos, after) <= 0) continue;
        examined++;
        const event = tx.events[e] as Record<string, unknown>;
        if (matches(q, event)) hits.push({ eventId: tx.eventIds[e] as string, event, position: pos });
        const last = h === tip && t === spans.length / 2 - 1 && e === tx.events.length - 1;
        if (!last && (hits.length >= q.perPage || examined >= limits.scanBudget)) {
          return { events: hits, examined, nextPageToken: encodeToken(q.fingerprint, pos) };
        }
      }
    }
  }
  return { events: hits, examined };
}

export async function runQuery(chain: Chain, raw: RawQuery, limits: QueryLimits, read: EventReader): Promise<QueryPage> {
  const q = parseQuery(raw);
  const after = raw.nextPageToken !== undefined ? decodeToken(raw.nextPageToken, q.fingerprint) : undefined;
  if (q.indexKeys !== undefined) return runIndexed(chain, q, q.indexKeys, after, limits, read);
  return runScan(chain, q, after, limits);
}
