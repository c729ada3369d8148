/**
 * GET /events: the EPCIS 2.0 query language over the chain (docs/api.md lists it).
 *
 * Parameters: QUERY_PARAMS (MATCH_ of EPCs by role and of classes, EQ_ of vocabulary, places,
 * action, IDs, error declarations' reason and corrective events), EQ_bizTransaction_/EQ_source_/EQ_destination_<type>, EXISTS_<field>,
 * the field, sensor, persistent-disposition and per-unit families (api/query-families.ts), perPage,
 * nextPageToken; any other is refused (QueryParameterException). Several values of one parameter are given
 * by repeating it or separated by `|`; they are OR-ed; different parameters are AND-ed. EPCs
 * compare as canonical GS1 keys (an EPC URN matches its Digital Link), an EPC pattern of one class
 * as the prefix of its instances' keys, wider ones by scheme and company prefix (EpcFilter,
 * trace/epc-pattern.ts); ordered and counted queries (orderBy, maxEventCount) are
 * api/query-ordered.ts; vocabulary values compare
 * as CBV words (`shipping` = `urn:epcglobal:cbv:bizstep:shipping` = `https://ref.gs1.org/cbv/BizStep-shipping`).
 *
 * Three plans, all in chain order (height, tx, event):
 * - with an EPC filter whose values are all GS1 keys: merge the items' history index (exact, cheap);
 * - else with a place, class, bizStep, disposition or a bounded time range: merge the query
 *   index's rows of that filter's values (trace/query-terms.ts; `termKeysOf` picks the filter),
 *   once the store's query index covers the chain;
 * - otherwise: scan main-chain blocks from genesis upwards.
 * A next-page token names the last position examined and its block (a reorg: `resumePoint`).
 * Either examines at most `scanBudget` events per page; a page may then hold fewer than perPage
 * events (even none) and still carry a next-page token: follow tokens until there is none.
 */
import { createHash } from 'node:crypto';
import type { Chain } from '../chain/chain.js';
import type { EpcHistoryEntry } from '../chain/store.js';
import type { SignedTx } from '../chain/types.js';
import type { VocabularyKind } from '../trace/vocabulary.js';
import { itemKeyOrUndefined } from '../trace/identifiers.js';
import { parseEpcUrn } from '../trace/epc-urn.js';
import { classMatchesWidePattern, matchesWidePattern, parseWidePattern, type WideEpcPattern } from '../trace/epc-pattern.js';
import { DAY_MS, HOUR_MS, TEN_MINUTES_MS, dayOf, gs1Form, hourOf, tenMinutesOf, termKey, vocabForm, type TermKind } from '../trace/query-terms.js';
import { prefixesOfContext } from '../trace/event-hash.js';
import { parseTime } from '../trace/epcis-time.js';
import { declaredEventIdOf, errorDeclarationOf, isErrorDeclaration } from '../trace/correction.js';
import type { JsonObject } from '../common/json.js';
import { queryParameterProblem, storeDamaged } from './problem.js';
import { FAMILY_NAMES, FIELD_PARAM, MEASURE_PARAM, QUANTITY_UOM_PARAM, fieldMatches, parseFamilyParam, parseFieldParam, type FamilyFilter, type FieldFilter } from './query-families.js';
import { storedTxSpans } from './proof-material.js';

export const QUERY_PARAMS = [
  'MATCH_epc',
  'MATCH_anyEPC',
  'MATCH_parentID',
  'MATCH_inputEPC',
  'MATCH_outputEPC',
  'MATCH_epcClass',
  'MATCH_inputEPCClass',
  'MATCH_outputEPCClass',
  'MATCH_anyEPCClass',
  'EQ_bizStep',
  'EQ_disposition',
  'EQ_bizLocation',
  'EQ_readPoint',
  'EQ_action',
  'EQ_transformationID',
  'EQ_eventID',
  'eventType',
  'GE_eventTime',
  'LT_eventTime',
  'EQ_errorReason',
  'EQ_correctiveEventID',
  'GE_errorDeclaration_Time',
  'LT_errorDeclaration_Time',
  'GE_recordTime',
  'LT_recordTime',
  'WD_readPoint',
  'WD_bizLocation',
  'EQ_quantity',
  'GT_quantity',
  'GE_quantity',
  'LT_quantity',
  'LE_quantity',
] as const;
export type QueryParam = (typeof QUERY_PARAMS)[number];

/** Parameters named by a type or a field: `EQ_bizTransaction_po`, `EQ_source_owning_party`, `EXISTS_ilmd`. */
export const TYPED_PARAM = /^(EQ_bizTransaction|EQ_source|EQ_destination)_(.+)$/;
export const EXISTS_PARAM = /^EXISTS_(.+)$/;

/**
 * Whether a name is a filter parameter this node answers (a named query's check; GET /events's
 * schema says the same). Ordering, counting and paging (orderBy, orderDirection, eventCountLimit,
 * maxEventCount, perPage, nextPageToken) are GET /events's own, not a named query's.
 */
export function isQueryParameter(name: string): boolean {
  return (QUERY_PARAMS as readonly string[]).includes(name) || FAMILY_NAMES.includes(name) || [TYPED_PARAM, EXISTS_PARAM, FIELD_PARAM, MEASURE_PARAM, QUANTITY_UOM_PARAM].some((re) => re.test(name));
}

export type RawQuery = Partial<Record<QueryParam, string | string[]>> & {
  perPage?: number;
  nextPageToken?: string;
  eventCountLimit?: number;
  maxEventCount?: number;
  orderBy?: string;
  orderDirection?: string;
} & { [typed: string]: string | string[] | number | undefined };

export const MAX_VALUES = 50;
/** `orderBy` of an extension field: its name as captured. */
export const ORDER_FIELD = /^[a-z][a-zA-Z0-9]*:\w+$/;
export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 1000;

/** An `EQ_bizTransaction_<type>` / `EQ_source_<type>` / `EQ_destination_<type>` filter. */
interface TypedFilter {
  list: 'bizTransactionList' | 'sourceList' | 'destinationList';
  member: 'bizTransaction' | 'source' | 'destination';
  /** The type as a CBV word when it is one, else as given. */
  type: string;
  values: Set<string>;
}

const TYPED: Readonly<Record<string, { list: TypedFilter['list']; member: TypedFilter['member']; kind: VocabularyKind }>> = {
  EQ_bizTransaction: { list: 'bizTransactionList', member: 'bizTransaction', kind: 'bizTransactionType' },
  EQ_source: { list: 'sourceList', member: 'source', kind: 'sourceDestType' },
  EQ_destination: { list: 'destinationList', member: 'destination', kind: 'sourceDestType' },
};

export interface ParsedQuery {
  epc?: EpcFilter;
  anyEpc?: EpcFilter;
  parentId?: EpcFilter;
  inputEpc?: EpcFilter;
  outputEpc?: EpcFilter;
  epcClass?: ClassFilter;
  inputEpcClass?: ClassFilter;
  outputEpcClass?: ClassFilter;
  anyEpcClass?: ClassFilter;
  readPoint?: Set<string>;
  action?: Set<string>;
  transformationId?: Set<string>;
  eventId?: Set<string>;
  errorReason?: Set<string>;
  correctiveEventId?: Set<string>;
  geDeclarationTime?: number;
  ltDeclarationTime?: number;
  geRecordTime?: number;
  ltRecordTime?: number;
  wdReadPoint?: Set<string>;
  wdBizLocation?: Set<string>;
  /** Quantity comparisons: each holds for some quantity element of the event. */
  quantity: { op: 'EQ' | 'GT' | 'GE' | 'LT' | 'LE'; value: number }[];
  fields: FieldFilter[];
  /** Sensor, persistent disposition and per-unit quantity filters (api/query-families.ts). */
  families: FamilyFilter[];
  /** At most this many events over all pages (eventCountLimit). */
  eventCountLimit?: number;
  /** More matching events than this: QueryTooLargeException (maxEventCount; api/query-ordered.ts). */
  maxEventCount?: number;
  /** Answer in this order rather than chain order (orderBy, orderDirection; api/query-ordered.ts). */
  order?: { by: string; desc: boolean };
  typed: TypedFilter[];
  exists: string[];
  bizStep?: Set<string>;
  disposition?: Set<string>;
  bizLocation?: Set<string>;
  eventType?: Set<string>;
  geTime?: number;
  ltTime?: number;
  perPage: number;
  /** Canonical item keys to drive the history index, when every EPC value is a GS1 key. */
  indexKeys?: string[];
  /** Query index term keys (trace/query-terms.ts) of one filter, whose rows hold every event the query can match. */
  termKeys?: string[];
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

export const bad = queryParameterProblem;

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

/**
 * The values of an EPC parameter: EPCs, compared as canonical keys, and EPC patterns of one class
 * (`urn:epc:idpat:sgtin:0614141.107346.*`: every instance of that GTIN; grai, gdti, sgcn, cpi,
 * itip, upui alike), compared as the prefix every instance's canonical key has: the class's
 * Digital Link; patterns of a company prefix or a scheme (`0614141.*.*`, `sscc:*.*`) in `wide`.
 */
export interface EpcFilter {
  exact: Set<string>;
  prefixes: string[];
  /** Patterns of a company prefix or a whole scheme (trace/epc-pattern.ts). */
  wide: WideEpcPattern[];
}

const PATTERN_HELP = 'an EPC pattern names one class (urn:epc:idpat:sgtin:0614141.107346.*), a company prefix (urn:epc:idpat:sgtin:0614141.*.*) or a scheme (urn:epc:idpat:sgtin:*.*.*)';

function epcFilter(v: string[] | undefined, param: string): EpcFilter | undefined {
  if (v === undefined) return undefined;
  const out: EpcFilter = { exact: new Set(), prefixes: [], wide: [] };
  for (const x of v) {
    if (!x.startsWith('urn:epc:idpat:')) {
      out.exact.add(epcForm(x));
      continue;
    }
    const p = parseEpcUrn(x);
    if (p !== undefined && p.form === 'idpat') {
      out.prefixes.push(p.digitalLink);
      continue;
    }
    const wide = parseWidePattern(x);
    if (wide === undefined) throw bad(param, `${x}: not an EPC pattern this node reads: ${PATTERN_HELP}`);
    out.wide.push(wide);
  }
  return out;
}

/** Whether an event's EPC (any form) is one of the filter's EPCs or an instance of one of its patterns. */
function epcMatches(f: EpcFilter, id: string): boolean {
  const k = epcForm(id);
  if (f.exact.has(k)) return true;
  for (const p of f.prefixes) if (k.length > p.length && k.startsWith(p)) return true;
  for (const w of f.wide) if (matchesWidePattern(w, id)) return true;
  return false;
}

/** EPC classes (compared in canonical form), and patterns of a company prefix or a scheme, which match classes of their instances. */
export interface ClassFilter {
  exact: Set<string>;
  wide: WideEpcPattern[];
}

/** An EPC class (`urn:epc:class:lgtin:…`, an idpat of a GTIN, a Digital Link) in one canonical form. */
// The forms the query index's terms use (trace/query-terms.ts): one definition for both sides.
const classForm = gs1Form;
const vocab = vocabForm;
const location = gs1Form;

function time(param: string, raw: string | string[] | undefined): number | undefined {
  const v = values(raw, param);
  if (v === undefined) return undefined;
  if (v.length !== 1) throw bad(param, 'takes one value');
  const t = parseTime(v[0] as string);
  if (t === undefined) throw bad(param, 'must be an ISO 8601 date-time with a time zone, e.g. 2024-01-31T10:00:00Z');
  return t.ms;
}

export function parseQuery(q: RawQuery): ParsedQuery {
  const out: ParsedQuery = { perPage: q.perPage ?? DEFAULT_PER_PAGE, fingerprint: '', typed: [], exists: [], quantity: [], fields: [], families: [] };
  if (q.eventCountLimit !== undefined) {
    if (!Number.isSafeInteger(q.eventCountLimit) || q.eventCountLimit < 1) throw bad('eventCountLimit', 'must be a positive integer');
    out.eventCountLimit = q.eventCountLimit;
  }
  if (q.maxEventCount !== undefined) {
    if (!Number.isSafeInteger(q.maxEventCount) || q.maxEventCount < 0) throw bad('maxEventCount', 'must be a non-negative integer');
    if (q.maxEventCount > MAX_MATERIALISED) throw bad('maxEventCount', `this node counts at most ${MAX_MATERIALISED} events (give a smaller one, or page without it)`);
    if (out.eventCountLimit !== undefined) throw bad('maxEventCount', 'maxEventCount and eventCountLimit are mutually exclusive');
    out.maxEventCount = q.maxEventCount;
  }
  if (q.orderBy !== undefined) {
    const by = q.orderBy;
    if (by !== 'eventTime' && by !== 'recordTime' && !ORDER_FIELD.test(by)) throw bad('orderBy', 'give eventTime, recordTime or the name of an extension field as captured (prefix:name)');
    const dir = q.orderDirection ?? 'DESC';
    if (dir !== 'ASC' && dir !== 'DESC') throw bad('orderDirection', 'must be ASC or DESC');
    out.order = { by, desc: dir === 'DESC' };
  } else if (q.orderDirection !== undefined) {
    throw bad('orderDirection', 'orders nothing without orderBy');
  }
  if (!Number.isSafeInteger(out.perPage) || out.perPage < 1 || out.perPage > MAX_PER_PAGE) throw bad('perPage', `must be 1 to ${MAX_PER_PAGE}`);
  const epcs = values(q.MATCH_epc, 'MATCH_epc');
  const any = values(q.MATCH_anyEPC, 'MATCH_anyEPC');
  const parents = values(q.MATCH_parentID, 'MATCH_parentID');
  const inputs = values(q.MATCH_inputEPC, 'MATCH_inputEPC');
  const outputs = values(q.MATCH_outputEPC, 'MATCH_outputEPC');
  for (const [k, list, param] of [
    ['epc', epcs, 'MATCH_epc'],
    ['anyEpc', any, 'MATCH_anyEPC'],
    ['parentId', parents, 'MATCH_parentID'],
    ['inputEpc', inputs, 'MATCH_inputEPC'],
    ['outputEpc', outputs, 'MATCH_outputEPC'],
  ] as const) {
    const f = epcFilter(list, param);
    if (f !== undefined) out[k] = f;
  }
  const classes = (p: QueryParam): ClassFilter | undefined => {
    const v = values(q[p], p);
    if (v === undefined) return undefined;
    const out: ClassFilter = { exact: new Set(), wide: [] };
    for (const x of v) {
      // A pattern of one class is that class (its canonical form); a wider one matches the classes it covers.
      if (!x.startsWith('urn:epc:idpat:') || parseEpcUrn(x) !== undefined) {
        out.exact.add(classForm(x));
        continue;
      }
      const wide = parseWidePattern(x);
      if (wide === undefined) throw bad(p, `${x}: not an EPC pattern this node reads: ${PATTERN_HELP}`);
      out.wide.push(wide);
    }
    return out;
  };
  const c1 = classes('MATCH_epcClass');
  const c2 = classes('MATCH_inputEPCClass');
  const c3 = classes('MATCH_outputEPCClass');
  const c4 = classes('MATCH_anyEPCClass');
  if (c1) out.epcClass = c1;
  if (c2) out.inputEpcClass = c2;
  if (c3) out.outputEpcClass = c3;
  if (c4) out.anyEpcClass = c4;
  const rp = values(q.EQ_readPoint, 'EQ_readPoint');
  if (rp) out.readPoint = new Set(rp.map(location));
  const actions = values(q.EQ_action, 'EQ_action');
  if (actions) {
    const badAction = actions.find((a) => a !== 'ADD' && a !== 'OBSERVE' && a !== 'DELETE');
    if (badAction !== undefined) throw bad('EQ_action', `${badAction} is not ADD, OBSERVE or DELETE`);
    out.action = new Set(actions);
  }
  const tid = values(q.EQ_transformationID, 'EQ_transformationID');
  if (tid) out.transformationId = new Set(tid);
  const ids = values(q.EQ_eventID, 'EQ_eventID');
  if (ids) out.eventId = new Set(ids);
  const reasons = values(q.EQ_errorReason, 'EQ_errorReason');
  if (reasons) out.errorReason = new Set(reasons.map((v) => vocab('errorReason', v)));
  const corrective = values(q.EQ_correctiveEventID, 'EQ_correctiveEventID');
  if (corrective) out.correctiveEventId = new Set(corrective);
  for (const op of ['EQ', 'GT', 'GE', 'LT', 'LE'] as const) {
    const p = `${op}_quantity` as QueryParam;
    const v = values(q[p], p);
    if (v === undefined) continue;
    if (v.length !== 1) throw bad(p, 'takes one value');
    const n = Number(v[0]);
    if (!Number.isFinite(n)) throw bad(p, 'must be a number');
    out.quantity.push({ op, value: n });
  }
  const wdRp = values(q.WD_readPoint, 'WD_readPoint');
  if (wdRp) out.wdReadPoint = new Set(wdRp.map(location));
  const wdLoc = values(q.WD_bizLocation, 'WD_bizLocation');
  if (wdLoc) out.wdBizLocation = new Set(wdLoc.map(location));
  for (const name of Object.keys(q).sort()) {
    const field = FIELD_PARAM.exec(name);
    if (field !== null) {
      out.fields.push(parseFieldParam(name, field, q[name], values));
      continue;
    }
    const family = parseFamilyParam(name, q[name], values);
    if (family !== undefined) {
      out.families.push(family);
      continue;
    }
    const typed = TYPED_PARAM.exec(name);
    if (typed !== null) {
      const spec = TYPED[typed[1] as string] as (typeof TYPED)[string];
      const type = typed[2] as string;
      out.typed.push({ list: spec.list, member: spec.member, type: vocab(spec.kind, type), values: new Set(values(q[name] as string | string[], name)?.map(location)) });
      continue;
    }
    const exists = EXISTS_PARAM.exec(name);
    if (exists !== null) {
      const v = q[name];
      const given = (Array.isArray(v) ? v : [v]).filter((x) => x !== undefined && x !== '');
      if (given.length > 0) throw bad(name, 'takes no value (EXISTS_field=)');
      out.exists.push(exists[1] as string);
    }
  }
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
  out.geRecordTime = time('GE_recordTime', q.GE_recordTime);
  out.ltRecordTime = time('LT_recordTime', q.LT_recordTime);
  out.geDeclarationTime = time('GE_errorDeclaration_Time', q.GE_errorDeclaration_Time);
  out.ltDeclarationTime = time('LT_errorDeclaration_Time', q.LT_errorDeclaration_Time);
  // Drive the history index with the narrower EPC filter whose values are all GS1 keys (a
  // pattern is not one: its class key's history holds class-level events, not the instances).
  for (const list of [epcs, any, parents, inputs, outputs]) {
    if (list === undefined || list.some((x) => x.startsWith('urn:epc:idpat:'))) continue;
    const keys = list.map(itemKeyOrUndefined);
    if (keys.every((k): k is string => k !== undefined)) {
      const uniq = [...new Set(keys)];
      if (out.indexKeys === undefined || uniq.length < out.indexKeys.length) out.indexKeys = uniq;
    }
  }
  out.termKeys = termKeysOf(out);
  const canon: Record<string, unknown> = {};
  for (const p of QUERY_PARAMS) if (q[p] !== undefined) canon[p] = values(q[p], p);
  for (const t of out.typed) canon[`${t.list}/${t.type}`] = [...t.values];
  if (out.exists.length > 0) canon['EXISTS'] = out.exists;
  if (out.fields.length > 0) canon['fields'] = out.fields;
  if (out.families.length > 0) canon['families'] = out.families.map((f) => [f.param, f.canon]);
  if (out.eventCountLimit !== undefined) canon['eventCountLimit'] = out.eventCountLimit;
  if (out.maxEventCount !== undefined) canon['maxEventCount'] = out.maxEventCount;
  if (out.order !== undefined) canon['order'] = out.order;
  out.fingerprint = createHash('sha256').update(JSON.stringify(canon)).digest('base64url').slice(0, 16);
  return out;
}

/** Terms a time range's cover may have for it to drive a query (more: another filter, or a scan). */
export const MAX_COVER_TERMS = 128;

/**
 * The term keys that cover an event time range [from, to): the coarsest whole periods inside it
 * (UTC days, then hours, then ten minutes), and at its two ends the ten-minute periods it cuts
 * through. Every event time in the range falls in exactly one of them, and the events a query
 * reads and then refuses are only those of the two end periods (a one-hour range on hour rows
 * alone read up to two hours: 6,000 refused events on the bench store). Undefined when the cover
 * spans more than `maxDays` days or has more than MAX_COVER_TERMS terms.
 */
export function timeCover(from: number, to: number, maxDays: number): string[] | undefined {
  if (to <= from) return [];
  if (to - from > maxDays * DAY_MS) return undefined;
  const out: string[] = [];
  let t = tenMinutesOf(from) * TEN_MINUTES_MS;
  while (t < to) {
    if (out.length >= MAX_COVER_TERMS) return undefined;
    if (t % DAY_MS === 0 && t + DAY_MS <= to) {
      out.push(termKey('day', String(dayOf(t))));
      t += DAY_MS;
    } else if (t % HOUR_MS === 0 && t + HOUR_MS <= to) {
      out.push(termKey('hour', String(hourOf(t))));
      t += HOUR_MS;
    } else {
      out.push(termKey('min10', String(tenMinutesOf(t))));
      t += TEN_MINUTES_MS;
    }
  }
  return out;
}

/**
 * The term keys of the most selective indexed filter the query has (places, classes, a time range
 * of up to a month, business step, disposition, a time range of up to two months), else
 * undefined. Each event the query matches has one of these terms (the values are in the form the
 * terms use), so reading their rows and filtering with `matches` gives the same events as a scan.
 */
function termKeysOf(q: ParsedQuery): string[] | undefined {
  const of = (kind: TermKind, set: Set<string> | undefined): string[] | undefined => (set === undefined ? undefined : [...set].map((v) => termKey(kind, v)));
  const range = (maxDays: number): string[] | undefined => (q.geTime === undefined || q.ltTime === undefined ? undefined : timeCover(q.geTime, q.ltTime, maxDays));
  // A class filter drives the index only when all its values are classes (a pattern's classes have no one term).
  const classFilter = q.epcClass ?? q.inputEpcClass ?? q.outputEpcClass ?? q.anyEpcClass;
  const classes = classFilter !== undefined && classFilter.wide.length === 0 ? classFilter.exact : undefined;
  return (
    of('bizLocation', q.bizLocation ?? q.wdBizLocation) ??
    of('readPoint', q.readPoint ?? q.wdReadPoint) ??
    of('class', classes) ??
    range(31) ??
    of('bizStep', q.bizStep) ??
    of('disposition', q.disposition) ??
    range(62)
  );
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function idOf(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : undefined;
}

function intersects(f: EpcFilter, ids: string[]): boolean {
  for (const id of ids) if (epcMatches(f, id)) return true;
  return false;
}

function quantityClasses(event: Record<string, unknown>, lists: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lists) {
    const v = event[l];
    if (Array.isArray(v)) for (const q of v) if (typeof q === 'object' && q !== null && typeof (q as { epcClass?: unknown }).epcClass === 'string') out.push((q as { epcClass: string }).epcClass);
  }
  return out;
}

function anyClass(f: ClassFilter, classes: string[]): boolean {
  for (const c of classes) {
    if (f.exact.has(classForm(c))) return true;
    for (const w of f.wide) if (classMatchesWidePattern(w, c)) return true;
  }
  return false;
}

/** Every comparison holds for some quantity element of the event (any quantity list), each on its own. */
function quantityMatches(q: ParsedQuery['quantity'], event: Record<string, unknown>): boolean {
  const quantities: number[] = [];
  for (const l of ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']) {
    const list = event[l];
    if (!Array.isArray(list)) continue;
    for (const el of list) {
      const n = typeof el === 'object' && el !== null ? (el as { quantity?: unknown }).quantity : undefined;
      if (typeof n === 'number') quantities.push(n);
    }
  }
  return q.every(({ op, value }) => quantities.some((n) => (op === 'EQ' ? n === value : op === 'GT' ? n > value : op === 'GE' ? n >= value : op === 'LT' ? n < value : n <= value)));
}

/**
 * Whether one stored (self-contained) event, of ID `eventId`, matches the query; `recordTime`:
 * when it entered the main chain (its block's time, ms), for GE/LT_recordTime.
 */
export function matches(q: ParsedQuery, event: Record<string, unknown>, eventId?: string, recordTime?: number): boolean {
  if (q.geRecordTime !== undefined || q.ltRecordTime !== undefined) {
    if (recordTime === undefined) return false;
    if (q.geRecordTime !== undefined && recordTime < q.geRecordTime) return false;
    if (q.ltRecordTime !== undefined && recordTime >= q.ltRecordTime) return false;
  }
  if (q.quantity.length > 0 && !quantityMatches(q.quantity, event)) return false;
  for (const f of q.fields) if (!fieldMatches(f, event)) return false;
  for (const f of q.families) if (!f.test(event)) return false;
  if (q.wdReadPoint) {
    // No location master data is kept: a place has no descendants, so WD_ is its place alone.
    const l = idOf(event['readPoint']);
    if (l === undefined || !q.wdReadPoint.has(location(l))) return false;
  }
  if (q.wdBizLocation) {
    const l = idOf(event['bizLocation']);
    if (l === undefined || !q.wdBizLocation.has(location(l))) return false;
  }
  if (q.action && !q.action.has(String(event['action']))) return false;
  if (q.eventId) {
    const own = event['eventID'];
    // An error declaration has the ID of the event it declares (its record ID aside: trace/correction.ts).
    if (!(eventId !== undefined && q.eventId.has(eventId)) && !(typeof own === 'string' && q.eventId.has(own)) && !(isErrorDeclaration(event) && q.eventId.has(declaredEventIdOf(event as JsonObject)))) return false;
  }
  if (q.errorReason || q.correctiveEventId || q.geDeclarationTime !== undefined || q.ltDeclarationTime !== undefined) {
    const ed = errorDeclarationOf(event);
    if (ed === undefined) return false;
    if (q.geDeclarationTime !== undefined || q.ltDeclarationTime !== undefined) {
      const t = ed.declarationTime !== null ? parseTime(ed.declarationTime) : undefined;
      if (t === undefined) return false;
      if (q.geDeclarationTime !== undefined && t.ms < q.geDeclarationTime) return false;
      if (q.ltDeclarationTime !== undefined && t.ms >= q.ltDeclarationTime) return false;
    }
    if (q.errorReason && !(ed.reason !== null && q.errorReason.has(vocab('errorReason', ed.reason, prefixesOfContext(event['@context']))))) return false;
    if (q.correctiveEventId && !ed.correctiveEventIDs.some((id) => q.correctiveEventId?.has(id))) return false;
  }
  if (q.transformationId && !(typeof event['transformationID'] === 'string' && q.transformationId.has(event['transformationID']))) return false;
  if (q.readPoint) {
    const l = idOf(event['readPoint']);
    if (l === undefined || !q.readPoint.has(location(l))) return false;
  }
  if (q.parentId && !(typeof event['parentID'] === 'string' && epcMatches(q.parentId, event['parentID']))) return false;
  if (q.inputEpc && !intersects(q.inputEpc, strings(event['inputEPCList']))) return false;
  if (q.outputEpc && !intersects(q.outputEpc, strings(event['outputEPCList']))) return false;
  if (q.epcClass && !anyClass(q.epcClass, quantityClasses(event, ['quantityList', 'childQuantityList']))) return false;
  if (q.inputEpcClass && !anyClass(q.inputEpcClass, quantityClasses(event, ['inputQuantityList']))) return false;
  if (q.outputEpcClass && !anyClass(q.outputEpcClass, quantityClasses(event, ['outputQuantityList']))) return false;
  if (q.anyEpcClass && !anyClass(q.anyEpcClass, quantityClasses(event, ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']))) return false;
  for (const f of q.exists) if (event[f] === undefined) return false;
  if (q.typed.length > 0) {
    const prefixes = prefixesOfContext(event['@context']);
    for (const t of q.typed) {
      const list = event[t.list];
      if (!Array.isArray(list)) return false;
      let hit = false;
      for (const entry of list) {
        if (typeof entry !== 'object' || entry === null) continue;
        const e = entry as Record<string, unknown>;
        const type = typeof e['type'] === 'string' ? vocab(t.list === 'bizTransactionList' ? 'bizTransactionType' : 'sourceDestType', e['type'], prefixes) : undefined;
        const value = e[t.member];
        if (type === t.type && typeof value === 'string' && t.values.has(location(value))) {
          hit = true;
          break;
        }
      }
      if (!hit) return false;
    }
  }
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
  v: 2;
  f: string;
  p: [number, number, number];
  /** The main-chain block at the position's height when the page was answered (reorgs: `resumePoint`). */
  h: string;
  /** Events the earlier pages gave (eventCountLimit). */
  n: number;
}

/** What a next-page token says: the last position examined, and the block it was in. */
export interface TokenPosition extends Position {
  hash: string;
  /** Events the pages so far gave. */
  given: number;
}

export function encodePageToken(fingerprint: string, pos: Position, hash: string, given = 0): string {
  const t: Token = { v: 2, f: fingerprint, p: [pos.height, pos.txIndex, pos.eventIndex], h: hash, n: given };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

/** A page token's JSON (base64url), or 400 if it is not JSON at all (each kind checks its own shape). */
export function tokenJson(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad('nextPageToken', 'not a token this node issued');
  }
}

export function decodePageToken(token: string, fingerprint: string): TokenPosition {
  const t = tokenJson(token);
  const o = t as Partial<Token>;
  const p = o.p;
  if (o.v !== 2 || !Array.isArray(p) || p.length !== 3 || !p.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff) || typeof o.h !== 'string' || !/^[0-9a-f]{64}$/.test(o.h) || !Number.isSafeInteger(o.n) || (o.n as number) < 0) {
    throw bad('nextPageToken', 'not a token this node issued');
  }
  if (o.f !== fingerprint) throw bad('nextPageToken', 'the token belongs to a query with other parameters');
  return { height: p[0] as number, txIndex: p[1] as number, eventIndex: p[2] as number, hash: o.h, given: o.n as number };
}

/** A position token without a block (/trace's pages: api/routes/trace.ts). */
interface PositionToken {
  v: 1;
  f: string;
  p: [number, number, number];
}

export function encodeToken(fingerprint: string, pos: Position): string {
  const t: PositionToken = { v: 1, f: fingerprint, p: [pos.height, pos.txIndex, pos.eventIndex] };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeToken(token: string, fingerprint: string): Position {
  const t = tokenJson(token);
  const o = t as Partial<PositionToken>;
  const p = o.p;
  if (o.v !== 1 || !Array.isArray(p) || p.length !== 3 || !p.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff)) {
    throw bad('nextPageToken', 'not a token this node issued');
  }
  if (o.f !== fingerprint) throw bad('nextPageToken', 'the token belongs to a query with other parameters');
  return { height: p[0] as number, txIndex: p[1] as number, eventIndex: p[2] as number };
}

/** After every event of a block at `height`. */
const END_OF = (height: number): Position => ({ height, txIndex: 0xffffffff, eventIndex: 0xffffffff });

/**
 * Where the next page starts. The token's block still on the main chain: right after its
 * position (the chain below it is unchanged). A reorg replaced it: right after the fork point
 * (the last block of its branch still on the main chain), so every event of the new branch is
 * examined; events of the replaced blocks that earlier pages gave may be given again if the new
 * branch holds them too.
 */
export async function resumePoint(chain: Pick<Chain, 'store' | 'header'>, token: TokenPosition): Promise<Position> {
  if ((await chain.store.getMainHash(token.height)) === token.hash) return { height: token.height, txIndex: token.txIndex, eventIndex: token.eventIndex };
  let entry = chain.header(token.hash);
  if (entry === undefined) throw bad('nextPageToken', 'the token names a block this node does not know; query again without it');
  while (entry.height > 0 && (await chain.store.getMainHash(entry.height)) !== entry.hash) {
    const parent = chain.header(entry.prevHash);
    if (parent === undefined) throw storeDamaged(`block ${entry.hash} has no stored parent header ${entry.prevHash}`);
    entry = parent;
  }
  return END_OF(entry.height);
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

/** History entries of a cursor's first read (then four times more each read, up to historyBatch). */
const FIRST_HISTORY_BATCH = 16;

/** Reads one event of a main-chain block, and its ID (checked against `eventId` when given). */
export type EventReader = (pos: Position, eventId: string | undefined) => Promise<{ eventId: string; event: Record<string, unknown> }>;

/** An index entry: a position, with the event's ID when the index keeps it (the item history does, the query index does not). */
type IndexEntry = Position & { eventId?: string };

/** Reads an index key's entries strictly after `after` (at least `n` unless it has no more), in chain order. */
type IndexFetch = (key: string, after: Position | undefined, n: number) => Promise<{ entries: IndexEntry[]; done: boolean }>;

/** The item history index (EpcHistoryEntry rows), as an IndexFetch. */
function historyFetch(chain: Chain): IndexFetch {
  return async (key, after, n) => {
    const entries = await chain.store.history(key, { ...(after !== undefined ? { after: { key, ...after, eventId: '' } } : {}), limit: n });
    return { entries, done: entries.length < n };
  };
}

/** The query index (the terms bucket's rows: a block's positions per term), as an IndexFetch. */
function termFetch(chain: Chain): IndexFetch {
  return async (key, after, n) => {
    const { positions, done } = await chain.store.termPositions(key, { ...(after !== undefined ? { after } : {}), min: n });
    return { entries: positions, done };
  };
}

/** Index plan: merge the entries of each key, in chain order, after `after`. */
async function runIndexed(chain: Chain, q: ParsedQuery, keys: string[], fetch: IndexFetch, after: Position | undefined, given: number, limits: QueryLimits, read: EventReader): Promise<QueryPage> {
  // Each cursor's first read is small and its reads grow to historyBatch: a page usually needs the
  // heads of all cursors but the rows of few (a time cover has up to 128 terms).
  const first = Math.min(FIRST_HISTORY_BATCH, limits.historyBatch);
  const cursors = keys.map((key) => ({ key, buf: [] as IndexEntry[], at: 0, done: false, batch: first, last: after }));
  const hits: QueryHit[] = [];
  let examined = 0;
  let lastPos: Position = after ?? { height: 0, txIndex: 0, eventIndex: 0 };
  // Record times (block times) by height, read only when the query asks for them.
  const times = new Map<number, number>();
  const recordTime = async (height: number): Promise<number | undefined> => {
    if (q.geRecordTime === undefined && q.ltRecordTime === undefined) return undefined;
    const known = times.get(height);
    if (known !== undefined) return known;
    const hash = await chain.store.getMainHash(height);
    const time = hash === undefined ? undefined : chain.header(hash)?.time;
    if (time === undefined) throw storeDamaged(`no main-chain header at height ${height}`);
    times.set(height, time);
    return time;
  };
  for (;;) {
    for (const c of cursors) {
      if (c.at >= c.buf.length && !c.done) {
        const page = await fetch(c.key, c.last, c.batch);
        c.buf = page.entries;
        c.at = 0;
        c.done = page.done;
        c.batch = Math.min(c.batch * 4, limits.historyBatch);
        const tail = page.entries[page.entries.length - 1];
        if (tail !== undefined) c.last = tail;
      }
    }
    let best: (typeof cursors)[number] | undefined;
    for (const c of cursors) {
      const head = c.buf[c.at];
      if (head !== undefined && (best === undefined || cmp(head, best.buf[best.at] as IndexEntry) < 0)) best = c;
    }
    if (best === undefined) return { events: hits, examined };
    const head = best.buf[best.at++] as IndexEntry;
    // The same event may be indexed under several keys: drop the copies at the same position.
    for (const c of cursors) while (c.buf[c.at] !== undefined && cmp(c.buf[c.at] as IndexEntry, head) === 0) c.at++;
    const pos: Position = { height: head.height, txIndex: head.txIndex, eventIndex: head.eventIndex };
    lastPos = pos;
    examined++;
    const { eventId, event } = await read(pos, head.eventId);
    if (matches(q, event, eventId, await recordTime(pos.height))) hits.push({ eventId, event, position: pos });
    if (hits.length >= q.perPage || examined >= limits.scanBudget) {
      const more = cursors.some((c) => c.at < c.buf.length || !c.done);
      if (!more) return { events: hits, examined };
      const hash = await chain.store.getMainHash(lastPos.height);
      if (hash === undefined) throw storeDamaged(`no main-chain block at height ${lastPos.height}`);
      return { events: hits, examined, nextPageToken: encodePageToken(q.fingerprint, lastPos, hash, given + hits.length) };
    }
  }
}

/** Scan plan: every event of the main chain from `after` upwards. */
async function runScan(chain: Chain, q: ParsedQuery, after: Position | undefined, given: number, limits: QueryLimits): Promise<QueryPage> {
  const hits: QueryHit[] = [];
  let examined = 0;
  const tip = chain.tip.height;
  for (let h = Math.max(1, after?.height ?? 1); h <= tip; h++) {
    const hash = await chain.store.getMainHash(h);
    if (hash === undefined) break;
    const bytes = await chain.store.getBlockBytes(hash);
    if (bytes === undefined) throw storeDamaged(`main-chain block ${hash} is not stored`);
    const spans = storedTxSpans(bytes, hash);
    const blockTime = chain.header(hash)?.time;
    for (let t = 0; t < spans.length / 2; t++) {
      if (after && h === after.height && t < after.txIndex) continue;
      const start = spans[2 * t] as number;
      const tx = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + start, spans[2 * t + 1] as number).toString('utf8')) as SignedTx;
      for (let e = 0; e < tx.events.length; e++) {
        const pos = { height: h, txIndex: t, eventIndex: e };
        if (after && cmp(pos, after) <= 0) continue;
        examined++;
        const event = tx.events[e] as Record<string, unknown>;
        if (matches(q, event, tx.eventIds[e] as string, blockTime)) hits.push({ eventId: tx.eventIds[e] as string, event, position: pos });
        const last = h === tip && t === spans.length / 2 - 1 && e === tx.events.length - 1;
        if (!last && (hits.length >= q.perPage || examined >= limits.scanBudget)) {
          return { events: hits, examined, nextPageToken: encodePageToken(q.fingerprint, pos, hash, given + hits.length) };
        }
      }
    }
  }
  return { events: hits, examined };
}

/**
 * Most events an ordered query (orderBy) or a counted one (maxEventCount) may match: it is
 * answered by collecting every match, so it is bounded (api/query-ordered.ts).
 */
export const MAX_MATERIALISED = 10_000;

/**
 * One page of a query in chain order, after `after` (undefined: from the start), with the plan
 * the query's filters choose: the item history index, the query index, or a scan.
 */
export async function planPage(chain: Chain, q: ParsedQuery, after: Position | undefined, given: number, limits: QueryLimits, read: EventReader): Promise<QueryPage> {
  return q.indexKeys !== undefined
    ? await runIndexed(chain, q, q.indexKeys, historyFetch(chain), after, given, limits, read)
    : q.termKeys !== undefined && chain.queryIndexReady
      ? await runIndexed(chain, q, q.termKeys, termFetch(chain), after, given, limits, read)
      : await runScan(chain, q, after, given, limits);
}

/** One page of a query; `start`: begin after this position (a caller's own cursor) when no page token is given. */
export async function runQuery(chain: Chain, raw: RawQuery, limits: QueryLimits, read: EventReader, start?: Position): Promise<QueryPage> {
  return runParsedQuery(chain, parseQuery(raw), raw.nextPageToken, limits, read, start);
}

/** runQuery of a query already parsed (`nextPageToken`: the raw query's). */
export async function runParsedQuery(chain: Chain, q: ParsedQuery, nextPageToken: string | undefined, limits: QueryLimits, read: EventReader, start?: Position): Promise<QueryPage> {
  // Ordered and counted queries are answered whole (api/query-ordered.ts, for GET /events); a
  // query read from a cursor (a subscription) is delivered in chain order.
  if (q.order !== undefined) throw bad('orderBy', 'not for a query read in chain order from a cursor (a subscription)');
  if (q.maxEventCount !== undefined) throw bad('maxEventCount', 'not for a query read in chain order from a cursor (a subscription)');
  const token = nextPageToken !== undefined ? decodePageToken(nextPageToken, q.fingerprint) : undefined;
  const after = token !== undefined ? await resumePoint(chain, token) : start;
  const given = token?.given ?? 0;
  // eventCountLimit: the pages together give at most that many events; the last one has no token.
  if (q.eventCountLimit !== undefined) {
    const left = q.eventCountLimit - given;
    if (left <= 0) return { events: [], examined: 0 };
    q.perPage = Math.min(q.perPage, left);
  }
  const page = await planPage(chain, q, after, given, limits, read);
  if (q.eventCountLimit !== undefined && given + page.events.length >= q.eventCountLimit) return { events: page.events, examined: page.examined };
  return page;
}
