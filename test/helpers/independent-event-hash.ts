/**
 * An independent implementation of the GS1 CBV 2.0 event hash (`ni:///sha-256;<hex>?ver=CBV2.0`),
 * written for the tests from the algorithm as GS1 describes it and the reference vectors show it
 * (shared/vectors/epcis-event-hash, .prehashes): it imports nothing of the node (no src/), so the
 * proof checker built on it (independent-proof.ts) recomputes an event's ID without trusting
 * the node's own hashing code. Compact on purpose; it covers what the vectors exercise:
 *
 *   eventType=…, then the standard fields in the CBV order (eventTime … bizLocation,
 *   sensorElementList), each `name=value` with repeated values sorted; then everything else
 *   (bizTransaction/source/destination lists, ILMD, extensions) as `name=value` strings, sorted.
 *   Times become UTC with milliseconds; numbers lose insignificant digits (Python's str());
 *   vocabulary words, CURIEs and CBV 1.x URNs become web URIs; EPC URNs and GS1 Digital Links
 *   become canonical Digital Links on id.gs1.org. eventID, recordTime, errorDeclaration,
 *   comments, @context and the document's `…:ignoreFields` do not count.
 */
import { createHash } from 'node:crypto';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What hashing an event needs from outside it. */
export interface HashScope {
  /** JSON-LD prefixes in scope (prefix → namespace IRI). */
  prefixes: Map<string, string>;
  /** Event keys the document asks to leave out. */
  ignore: string[];
}

/** Prefixes the EPCIS 2.0 context itself defines, used for CURIEs in vocabulary positions. */
const EPCIS_PREFIXES: Record<string, string> = { cbv: 'https://ref.gs1.org/cbv/', gs1: 'https://gs1.org/voc/' };
const CBV = 'https://ref.gs1.org/cbv/';
const GS1 = 'https://gs1.org/voc/';

/** Python's string order (by code point), which the reference implementation sorts with. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
const sorted = (xs: string[]): string[] => [...xs].sort(byCodePoint);

export function prefixesIn(context: Json | undefined, into = new Map<string, string>()): Map<string, string> {
  for (const layer of Array.isArray(context) ? context : [context ?? null]) {
    if (!isObj(layer)) continue;
    for (const [k, v] of Object.entries(layer)) if (typeof v === 'string' && !k.startsWith('@')) into.set(k, v);
  }
  return into;
}

// ---- values -------------------------------------------------------------------------------

/** Python's str(float(x)), with integral values printed as integers, as the reference does. */
function pyNumber(x: number): string {
  if (Number.isInteger(x)) return Math.abs(x) < 1e21 ? String(x === 0 ? 0 : x) : BigInt(x).toString();
  if (Math.abs(x) >= 1e-4) return String(x);
  const [mant, exp] = x.toExponential().split('e') as [string, string];
  const n = Number(exp);
  return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}

/** Decimal number text → canonical number text; anything else unchanged. */
function numeric(text: string): string {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? pyNumber(Number(text)) : text;
}

/** ISO 8601 date-time → UTC, milliseconds (microseconds rounded half to even), 'Z'. */
function utcMillis(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (m === null) return text;
  const micros = Number(((m[5] ?? '') + '000000').slice(0, 6));
  let ms = Math.floor(micros / 1000);
  const rest = micros % 1000;
  if (rest > 500 || (rest === 500 && ms % 2 === 1)) ms++;
  const zone = m[6] === undefined || m[6] === 'Z' ? 'Z' : m[6].length === 5 ? `${m[6].slice(0, 3)}:${m[6].slice(3)}` : m[6];
  const t = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}${zone}`);
  return Number.isNaN(t) ? text : new Date(t + ms).toISOString();
}

const LEGACY_CBV: [string, string][] = [
  ['urn:epcglobal:cbv:bizstep:', `${CBV}BizStep-`],
  ['urn:epcglobal:cbv:disp:', `${CBV}Disp-`],
  ['urn:epcglobal:cbv:btt:', `${CBV}BTT-`],
  ['urn:epcglobal:cbv:sdt:', `${CBV}SDT-`],
  ['urn:epcglobal:cbv:er:', `${CBV}ER-`],
];

/** GS1 mod-10 check digit. */
function checkDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
}

/** The GS1 Digital Link percent-encoding EPC URNs do not already apply. */
const dlEncode = (s: string): string => s.replace(/[!()*+,:]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const DL = 'https://id.gs1.org';

/** An EPC URN (id, class or pattern) as a canonical Digital Link, or undefined. */
function epcUrnToDl(uri: string): string | undefined {
  const m = /^urn:epc:(id|class|idpat):([a-z]+):(.*)$/.exec(uri);
  if (m === null) return undefined;
  const [, kind, scheme, rest] = m as unknown as [string, string, string, string];
  const parts = rest.split('.');
  const cp = parts[0] ?? '';
  if (!/^\d{6,12}$/.test(cp)) return undefined;
  /** GTIN-14 from company prefix + indicator-and-item-reference (13 digits in all). */
  const gtin = (ir: string): string | undefined => {
    if (!/^\d+$/.test(ir) || cp.length + ir.length !== 13) return undefined;
    const raw = ir.slice(0, 1) + cp + ir.slice(1);
    return raw + checkDigit(raw);
  };
  /** 12-digit company prefix + reference, plus check digit (GLN, GDTI, SGCN bases). */
  const key13 = (ref: string): string | undefined => (/^\d*$/.test(ref) && cp.length + ref.length === 12 ? cp + ref + checkDigit(cp + ref) : undefined);
  const [a = '', b = '', c = '', d = ''] = parts.slice(1);
  const tail = (n: number): string => parts.slice(n).join('.');
  const key = `${kind}:${scheme}`;
  let out: string | undefined;
  switch (key) {
    case 'id:sgtin': {
      const g = gtin(a);
      out = g && parts.length >= 3 ? `/01/${g}/21/${dlEncode(tail(2))}` : undefined;
      break;
    }
    case 'id:sscc': {
      if (/^\d+$/.test(a) && cp.length + a.length === 17 && parts.length === 2) {
        const raw = a.slice(0, 1) + cp + a.slice(1);
        out = `/00/${raw}${checkDigit(raw)}`;
      }
      break;
    }
    case 'id:sgln': {
      const g = key13(a);
      if (g && parts.length >= 3) out = tail(2) === '0' ? `/414/${g}` : `/414/${g}/254/${dlEncode(tail(2))}`;
      break;
    }
    case 'id:grai': {
      const g = /^\d*$/.test(a) && cp.length + a.length === 12 ? '0' + cp + a : undefined;
      if (g && parts.length >= 3) out = `/8003/${g}${checkDigit(g)}${dlEncode(tail(2))}`;
      break;
    }
    case 'id:giai':
      out = parts.length >= 2 ? `/8004/${cp}${dlEncode(tail(1))}` : undefined;
      break;
    case 'id:gsrn':
    case 'id:gsrnp':
      if (/^\d+$/.test(a) && cp.length + a.length === 17 && parts.length === 2) out = `/${scheme === 'gsrn' ? '8018' : '8017'}/${cp}${a}${checkDigit(cp + a)}`;
      break;
    case 'id:gdti': {
      const g = key13(a);
      if (g && parts.length >= 3) out = `/253/${g}${dlEncode(tail(2))}`;
      break;
    }
    case 'id:sgcn': {
      const g = key13(a);
      if (g && parts.length === 3) out = `/255/${g}${b}`;
      break;
    }
    case 'id:cpi':
      if (parts.length >= 3) out = `/8010/${dlEncode(cp + parts.slice(1, -1).join('.'))}/8011/${parts[parts.length - 1]}`;
      break;
    case 'id:ginc':
      out = parts.length >= 2 ? `/401/${cp}${dlEncode(tail(1))}` : undefined;
      break;
    case 'id:gsin':
      if (/^\d+$/.test(a) && cp.length + a.length === 16 && parts.length === 2) out = `/402/${cp}${a}${checkDigit(cp + a)}`;
      break;
    case 'id:itip': {
      const g = gtin(a);
      if (g && parts.length >= 5) out = `/8006/${g}${b}${c}/21/${dlEncode(tail(4))}`;
      break;
    }
    case 'id:upui': {
      const g = gtin(a);
      if (g && parts.length >= 3) out = `/01/${g}/235/${dlEncode(tail(2))}`;
      break;
    }
    case 'id:pgln': {
      const g = key13(a);
      if (g && parts.length === 2) out = `/417/${g}`;
      break;
    }
    case 'class:lgtin': {
      const g = gtin(a);
      if (g && parts.length >= 3) out = `/01/${g}/10/${dlEncode(tail(2))}`;
      break;
    }
    case 'idpat:sgtin':
    case 'idpat:upui': {
      const g = gtin(a);
      if (g && b === '*' && parts.length === 3) out = `/01/${g}`;
      break;
    }
    case 'idpat:grai': {
      const g = /^\d*$/.test(a) && cp.length + a.length === 12 ? '0' + cp + a : undefined;
      if (g && b === '*') out = `/8003/${g}${checkDigit(g)}`;
      break;
    }
    case 'idpat:gdti':
    case 'idpat:sgcn': {
      const g = key13(a);
      if (g && b === '*') out = `/${scheme === 'gdti' ? '253' : '255'}/${g}`;
      break;
    }
    case 'idpat:cpi':
      if (parts.length >= 3 && parts[parts.length - 1] === '*') out = `/8010/${dlEncode(cp + parts.slice(1, -1).join('.'))}`;
      break;
    case 'idpat:itip': {
      const g = gtin(a);
      if (g && d === '*') out = `/8006/${g}${b}${c}`;
      break;
    }
    default:
      out = undefined;
  }
  return out === undefined ? undefined : DL + out;
}

const SHORT_NAMES: Record<string, string> = { gtin: '01', itip: '8006', cpid: '8010', gln: '414', party: '417', gsrnp: '8017', gsrn: '8018', gcn: '255', sscc: '00', gdti: '253', ginc: '401', gsin: '402', grai: '8003', giai: '8004', cpv: '22', lot: '10', ser: '21' };
const PRIMARY = ['00', '01', '253', '255', '401', '402', '414', '417', '8003', '8004', '8006', '8010', '8017', '8018'];
/** Characters a GS1 Digital Link path value may hold here (GS1 AI encodable set 82, unescaped). */
const V = `["'\\-.0-9;-?A-Z_a-z]`;
const CANONICAL: RegExp[] = [
  /^\/00\/\d{18}$/,
  new RegExp(`^/01/\\d{14}(/(21|10)/${V}{0,20}|/235/${V}{0,28})?$`),
  new RegExp(`^/253/\\d{13}${V}{0,17}$`),
  /^\/255\/\d{13}\d{0,12}$/,
  new RegExp(`^/(401|8004)/${V}{0,30}$`),
  /^\/402\/\d{17}$/,
  new RegExp(`^/414/\\d{13}(/254/${V}{0,20})?$`),
  /^\/417\/\d{13}$/,
  new RegExp(`^/8003/\\d{14}${V}{0,16}$`),
  new RegExp(`^/8006/\\d{18}(/(21|10)/${V}{0,20})?$`),
  /^\/8010\/[#\-/0-9A-Z]{0,30}(\/8011\/\d{0,12})?$/,
  /^\/(8017|8018)\/\d{18}$/,
];

/** A GS1 Digital Link on any domain → canonical form on id.gs1.org, or undefined. */
function dlToCanonical(uri: string): string | undefined {
  const m = /^https?:\/\/[^/?#]*(\/[^?#]*)(?:[?#].*)?$/.exec(uri);
  if (m === null) return undefined;
  const segs = (m[1] as string).split('/').slice(1);
  if (segs[segs.length - 1] === '') segs.pop(); // a trailing slash
  const names = segs.map((s) => SHORT_NAMES[s] ?? s); // AIs by number; values are read from segs
  // the primary key: the first primary AI followed by a value starting with 4 digits
  let at = -1;
  for (let i = 0; i + 1 < names.length; i++) {
    if (PRIMARY.includes(names[i] as string) && /^\d{4}/.test(segs[i + 1] as string)) {
      at = i;
      break;
    }
  }
  if (at < 0) return undefined;
  const pairs: [string, string][] = [];
  for (let i = at; i + 1 < names.length; i += 2) pairs.push([names[i] as string, segs[i + 1] as string]);
  const [ai, value] = pairs[0] as [string, string];
  let first = value;
  if (ai === '01') first = first.length === 13 ? '0' + first : first.length === 12 ? '00' + first : first.length === 8 ? '000000' + first : first;
  // keep only the finest identification: no CPV (22), no lot (10) when a serial (21) is there
  const quals = pairs.slice(1).filter(([q]) => q !== '22');
  const serial = quals.find(([q]) => q === '21');
  const kept = serial !== undefined && (ai === '01' || ai === '8006') ? quals.filter(([q]) => q !== '10') : quals;
  const path = `/${ai}/${first}` + kept.map(([q, v]) => `/${q}/${v}`).join('');
  return CANONICAL.some((re) => re.test(path)) ? DL + path : undefined;
}

/** Run a leaf value through the canonicalisations, as the reference's canonize_value does. */
function canonText(text: string): string {
  let t = text;
  for (const [from, to] of LEGACY_CBV) t = t.split(from).join(to);
  t = numeric(t);
  if (!t.includes('.')) return t;
  return epcUrnToDl(t) ?? (/^https?:/.test(t) ? dlToCanonical(t) : undefined) ?? t;
}

/** A vocabulary value (bare word, CURIE, CBV 1.x URN or URI) as a web URI. */
function vocab(value: Json, base: string, scope: HashScope): Json {
  if (typeof value !== 'string') return value;
  if (/^[A-Za-z0-9_]+$/.test(value)) return base + value;
  const i = value.indexOf(':');
  const p = i > 0 ? value.slice(0, i) : '';
  const ns = scope.prefixes.get(p) ?? EPCIS_PREFIXES[p];
  return ns !== undefined && !value.startsWith(`${p}://`) ? ns + value.slice(i + 1) : value;
}

/** A leaf value's text: CURIEs of declared prefixes expanded, then canonicalised. */
function leaf(value: Json, scope: HashScope): string {
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  const s = String(value).trim();
  const i = s.indexOf(':');
  const ns = i > 0 ? scope.prefixes.get(s.slice(0, i)) : undefined;
  return canonText(ns !== undefined ? ns + s.slice(i + 1) : s);
}

/** An extension key as `{namespace}local` when its prefix is declared. */
function keyName(k: string, scope: HashScope): string {
  const i = k.indexOf(':');
  const ns = i > 0 ? scope.prefixes.get(k.slice(0, i)) : undefined;
  return ns !== undefined ? `{${ns}}${k.slice(i + 1)}` : k;
}

// ---- the pre-hash string ------------------------------------------------------------------

/**
 * Generic rendering: `name=value` for leaves, name + sorted children for objects; an array
 * repeats the name, and an array inside it is one element of unnamed items. A key ending in
 * "List" is one element whose items are named without the "List" (the EPCIS XML shape: `…List`
 * holds its items), as the reference reads every such key.
 */
function generic(key: string, value: Json, scope: HashScope): string[] {
  const name = keyName(key, scope);
  const items = Array.isArray(value) ? value : [value];
  if (name.endsWith('List')) return items.length === 0 ? [] : [name + sorted(items.flatMap((v) => named(name.slice(0, -4), v, scope))).join('')];
  return items.flatMap((v) => named(name, v, scope));
}

/** One element under an already expanded name. */
function named(name: string, value: Json, scope: HashScope): string[] {
  if (Array.isArray(value)) return [name + sorted(value.flatMap((v) => named('', v, scope))).join('')];
  if (isObj(value)) return [name + sorted(Object.entries(value).flatMap(([k, v]) => generic(k, v, scope))).join('')];
  const text = leaf(value, scope);
  return [text === '' ? name : `${name}=${text}`];
}

/** `name=value` of a standard leaf field (time fields to UTC ms), or nothing when absent/empty. */
function field(name: string, value: Json | undefined, scope: HashScope): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return sorted(value.flatMap((v) => field(name, v, scope)));
  const text = /time/i.test(name) && !/offset/i.test(name) && typeof value === 'string' ? utcMillis(value.trim()) : leaf(value, scope);
  return text === '' ? [] : [`${name}=${text}`];
}

/** What rendering a standard object consumed (`text`) and what it left for the generic part. */
interface Part {
  text: string;
  left: Obj;
}

const childCount = (obj: Obj): number => Object.values(obj).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 1), 0);
const isEmpty = (o: Obj): boolean => Object.keys(o).length === 0;

/**
 * A standard object: its fields in `order` (vocabulary fields expanded with `vocabOf`), then its
 * extensions, sorted. As in the reference, only extensions whose namespace ends in '/' are
 * placed here, and only in an object of more than one child none of whose names contains
 * "eventTime" or "action"; every other unknown key is left over for the event's generic part.
 */
function ordered(obj: Obj, order: string[], scope: HashScope, vocabOf: Record<string, string> = {}): Part {
  const known = order.flatMap((k) => field(k, vocabOf[k] !== undefined && obj[k] !== undefined ? mapVocab(obj[k] as Json, vocabOf[k] as string, scope) : obj[k], scope)).join('');
  const ext = extensions(obj, order, scope);
  return { text: known + ext.text, left: ext.left };
}

/** The keys of `obj` not in `skip`: the extensions placed in the object (sorted), and the rest. */
function extensions(obj: Obj, skip: string[], scope: HashScope): Part {
  const names = Object.keys(obj).map((k) => keyName(k, scope));
  const gather = childCount(obj) > 1 && !names.some((n) => n.includes('eventTime') || n.includes('action'));
  const ext: string[] = [];
  const left: Obj = {};
  for (const [k, v] of Object.entries(obj)) {
    if (skip.includes(k)) continue;
    const n = keyName(k, scope);
    if (gather && n.startsWith('{') && n.includes('/}')) ext.push(...generic(k, v, scope));
    else left[k] = v;
  }
  return { text: sorted(ext).join(''), left };
}

const mapVocab = (v: Json, base: string, scope: HashScope): Json => (Array.isArray(v) ? v.map((x) => vocab(x, base, scope)) : vocab(v, base, scope));

/** A left-over object in the generic part: its name, then its left-over children, sorted. */
const leftover = (name: string, left: Obj, scope: HashScope): string => name + sorted(Object.entries(left).flatMap(([k, v]) => generic(k, v, scope))).join('');

const QUANTITY = ['epcClass', 'quantity', 'uom'];
const SENSOR_METADATA = ['time', 'startTime', 'endTime', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'bizRules'];
const SENSOR_REPORT = ['type', 'exception', 'deviceID', 'deviceMetadata', 'rawData', 'dataProcessingMethod', 'time', 'microorganism', 'chemicalSubstance', 'value', 'component', 'stringValue', 'booleanValue', 'hexBinaryValue', 'uriValue', 'minValue', 'maxValue', 'meanValue', 'sDev', 'percRank', 'percValue', 'uom', 'coordinateReferenceSystem'];
const SENSOR_VOCAB = { type: GS1, exception: GS1, component: `${CBV}Comp-` };

/** One sensorElement: its text in the standard part, and its left-over string (or undefined). */
function sensorElement(el: Obj, scope: HashScope): { text: string; left: string | undefined } {
  const parts: string[] = [];
  const lefts: string[] = [];
  if (isObj(el.sensorMetadata)) {
    const md = ordered(el.sensorMetadata, SENSOR_METADATA, scope);
    if (md.text !== '') parts.push('sensorMetadata' + md.text);
    if (!isEmpty(md.left)) lefts.push(leftover('sensorMetadata', md.left, scope));
  }
  const reports: string[] = [];
  for (const r of (Array.isArray(el.sensorReport) ? el.sensorReport : [el.sensorReport ?? null]).filter(isObj)) {
    const rep = ordered(r, SENSOR_REPORT, scope, SENSOR_VOCAB);
    if (rep.text !== '') reports.push('sensorReport' + rep.text);
    if (!isEmpty(rep.left)) lefts.push(leftover('sensorReport', rep.left, scope));
  }
  parts.push(...sorted(reports));
  const own = extensions(el, ['sensorMetadata', 'sensorReport'], scope);
  for (const [k, v] of Object.entries(own.left)) lefts.push(...generic(k, v, scope));
  const text = parts.join('') + own.text;
  return { text, left: lefts.length > 0 ? 'sensorElement' + sorted(lefts).join('') : undefined };
}

/** Ignored whatever the document says. */
const NEVER = new Set(['type', '@context', 'eventID', 'recordTime', 'errorDeclaration', 'rdfs:comment', 'comment']);

/** The CBV 2.0 pre-hash string of one event. */
export function prehash(event: Obj, scope: HashScope): string {
  const used = new Set<string>(NEVER);
  for (const k of scope.ignore) used.add(k);
  const take = (k: string): Json | undefined => {
    used.add(k);
    return scope.ignore.includes(k) ? undefined : event[k];
  };
  const out: string[] = [`eventType=${String(event.type)}`];
  /** Left-overs of standard fields, for the generic part. */
  const rest: string[] = [];
  const simple = (k: string, base?: string): void => {
    const v = take(k);
    out.push(...field(k, v !== undefined && base !== undefined ? mapVocab(v, base, scope) : v, scope));
  };
  const list = (k: string, render: (v: Json) => { text: string; left: string | undefined }[]): void => {
    const v = take(k);
    if (!Array.isArray(v)) return;
    const items = v.flatMap(render);
    const text = sorted(items.map((i) => i.text).filter((t) => t !== '')).join('');
    if (text !== '') out.push(k + text);
    const lefts = items.map((i) => i.left).filter((l): l is string => l !== undefined);
    if (lefts.length > 0) rest.push(k + sorted(lefts).join(''));
  };
  const epcs = (k: string): void => list(k, (v) => field('epc', v, scope).map((text) => ({ text, left: undefined })));
  const quantities = (k: string): void =>
    list(k, (v) => {
      if (!isObj(v)) return [];
      const q = ordered(v, QUANTITY, scope);
      return [{ text: q.text === '' ? '' : 'quantityElement' + q.text, left: isEmpty(q.left) ? undefined : leftover('quantityElement', q.left, scope) }];
    });
  const object = (k: string, order: string[], vocabOf: Record<string, string> = {}): void => {
    const v = take(k);
    if (!isObj(v)) return;
    const p = ordered(v, order, scope, vocabOf);
    if (p.text !== '') out.push(k + p.text);
    if (!isEmpty(p.left)) rest.push(leftover(k, p.left, scope));
  };
  simple('eventTime');
  simple('eventTimeZoneOffset');
  simple('certificationInfo');
  simple('parentID');
  epcs('epcList');
  epcs('inputEPCList');
  epcs('childEPCs');
  quantities('quantityList');
  quantities('childQuantityList');
  quantities('inputQuantityList');
  epcs('outputEPCList');
  quantities('outputQuantityList');
  simple('action');
  simple('transformationID');
  simple('bizStep', `${CBV}BizStep-`);
  simple('disposition', `${CBV}Disp-`);
  object('persistentDisposition', ['set', 'unset'], { set: `${CBV}Disp-`, unset: `${CBV}Disp-` });
  object('readPoint', ['id']);
  object('bizLocation', ['id']);
  list('sensorElementList', (el) => {
    if (!isObj(el)) return [];
    const e = sensorElement(el, scope);
    return [{ text: e.text === '' ? '' : 'sensorElement' + e.text, left: e.left }];
  });
  // Everything else, sorted: the typed lists (type first, then the value), ILMD, extensions.
  for (const [k, v] of Object.entries(event)) {
    if (used.has(k)) continue;
    const typed = { bizTransactionList: ['bizTransaction', `${CBV}BTT-`], sourceList: ['source', `${CBV}SDT-`], destinationList: ['destination', `${CBV}SDT-`] }[k];
    if (typed !== undefined && Array.isArray(v)) {
      const [valueKey, base] = typed as [string, string];
      const entries = v.filter(isObj).map((e) => {
        const type = e.type === undefined ? '' : `type=${leaf(vocab(e.type, base, scope), scope)}`;
        const val = e[valueKey] === undefined ? '' : `${valueKey}=${leaf(e[valueKey] as Json, scope)}`;
        return type + val;
      });
      rest.push(k + sorted(entries).join(''));
    } else rest.push(...generic(k, v, scope));
  }
  return out.join('') + sorted(rest).join('');
}

export function hashPrehash(pre: string): string {
  return `ni:///sha-256;${createHash('sha256').update(pre, 'utf8').digest('hex')}?ver=CBV2.0`;
}

/** The event's ID when it stands alone (a tx's event: its own @context supplies the prefixes). */
export function standaloneEventId(event: Obj): string {
  return hashPrehash(prehash(event, { prefixes: prefixesIn(event['@context']), ignore: [] }));
}

/** Every event of an EPCISDocument or EPCISQueryDocument with its scope, in document order. */
export function documentEvents(doc: Obj): { event: Obj; scope: HashScope }[] {
  const prefixes = prefixesIn(doc['@context']);
  const body = isObj(doc.epcisBody) ? doc.epcisBody : {};
  const results = isObj(body.queryResults) ? body.queryResults : undefined;
  const list = results !== undefined && isObj(results.resultsBody) ? results.resultsBody.eventList : body.eventList;
  let ignore: string[] = [];
  for (const [p, ns] of prefixes) {
    if (ns !== 'https://repository-x.example.com/') continue;
    const v = (results ?? doc)[`${p}:ignoreFields`];
    if (Array.isArray(v)) ignore = v.filter((x): x is string => typeof x === 'string');
  }
  return (Array.isArray(list) ? list : []).filter(isObj).map((event) => ({ event, scope: { prefixes: prefixesIn(event['@context'], new Map(prefixes)), ignore } }));
}

export function documentEventIds(doc: Obj): string[] {
  return documentEvents(doc).map(({ event, scope }) => hashPrehash(prehash(event, scope)));
}
