/**
 * The CBV 2.0 event hash (GS1 CBV 2.0 §8.9, "ni:///sha-256;<hex>?ver=CBV2.0"), computed the way
 * the reference implementation (RalphTro/epcis-event-hash-generator) does, so IDs agree with it:
 *
 * 1. Vocabulary values (bizStep, disposition, bizTransaction/source/destination types, sensor
 *    types, error reasons, …) given as bare words or CURIEs become their full web-vocabulary URIs;
 *    CBV 1.x URNs (`urn:epcglobal:cbv:bizstep:…`) become web URIs too.
 * 2. The event becomes a tree of (name, text, children) nodes in the shape of the EPCIS XML
 *    binding (`epcList` → `epc`, `quantityList` → `quantityElement`, …). Extension keys become
 *    `{namespace}local`, namespaces resolved from the document's (or the event's own) @context.
 * 3. The pre-hash string is `eventType=…` then the standard fields in the canonical property
 *    order, each `name=value`, with repeated values sorted; then everything else (user
 *    extensions, ILMD, bizTransaction/source/destination lists) as generic `name=value` strings,
 *    sorted. Times become UTC with milliseconds; numbers lose insignificant zeros; GS1 keys in
 *    EPC URN or Digital Link form become canonical Digital Links on id.gs1.org.
 * 4. eventID, recordTime, errorDeclaration, comments and the event's own @context are ignored.
 *
 * Deliberate differences from the reference, where it depends on accidents of its Python
 * implementation (none changes a vector in shared/vectors):
 * - The vocabulary lookup of step 1 sees only the event itself, not the whole document, so an
 *   event's ID can be recomputed from the event alone (tx contents are re-verified that way).
 * - bizTransaction/source/destination entries hash as `type=…` then the value whatever the JSON
 *   key order (the reference follows key order, which RFC 8785 canonical JSON would change).
 * - A CURIE vocabulary value (`cbv:BizStep-shipping`) is expanded even when the document does not
 *   redeclare the `cbv` prefix (the EPCIS context defines it).
 * - Values the reference cannot process (e.g. a bizTransaction without a type, "inf") are hashed
 *   as written instead of making the whole event fail.
 *
 * Longer than our ~450-line norm on purpose: the steps above are one algorithm that has to agree
 * with the reference's step by step, and the tree builder, corrections and orderings feed each
 * other; read in one file, in the order the hash is made.
 */
import { createHash } from 'node:crypto';
import { isObject, type JsonObject } from '../common/json.js';
import { normaliseGs1Uri } from './identifiers.js';
import { hashTimestamp } from './epcis-time.js';
import { LEGACY_CBV_URNS, STANDARD_PREFIXES, vocabularyWords, type VocabularyKind } from './vocabulary.js';


/** What the hash needs from the enclosing document. */
export interface HashContext {
  /** Prefixes declared in the document's @context (prefix → namespace URI). */
  prefixes: ReadonlyMap<string, string>;
  /** Event-level keys the document asks to leave out (the reference's `…:ignoreFields`). */
  ignoreFields: readonly string[];
}

export const EMPTY_HASH_CONTEXT: HashContext = { prefixes: new Map(), ignoreFields: [] };

/** Namespace the reference treats as "repository internal"; its `:ignoreFields` list is honoured. */
export const IGNORE_FIELDS_NAMESPACE = 'https://repository-x.example.com/';


/** Prefix declarations of a JSON-LD @context value (string entries name remote contexts: skipped). */
export function prefixesOfContext(context: unknown, into: Map<string, string> = new Map()): Map<string, string> {
  const layers = Array.isArray(context) ? context : [context];
  for (const layer of layers) {
    if (!isObject(layer)) continue;
    for (const [k, v] of Object.entries(layer)) if (typeof v === 'string' && !k.startsWith('@')) into.set(k, v);
  }
  return into;
}

/** The hash context of an EPCISDocument or EPCISQueryDocument. */
export function hashContextOf(doc: JsonObject): HashContext {
  const prefixes = prefixesOfContext(doc['@context']);
  let ignoreFields: string[] = [];
  for (const [p, ns] of prefixes) {
    if (ns !== IGNORE_FIELDS_NAMESPACE) continue;
    const key = `${p}:ignoreFields`;
    const body = doc['epcisBody'];
    const qr = isObject(body) ? body['queryResults'] : undefined;
    const list = isObject(qr) ? qr[key] : doc[key];
    if (Array.isArray(list)) ignoreFields = list.filter((x): x is string => typeof x === 'string');
    break;
  }
  return { prefixes, ignoreFields };
}

// ---------------------------------------------------------------------------------------------
// Value canonicalisation

const PY_FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/** Python's repr() of a non-integral finite float. */
function pyFloatRepr(x: number): string {
  const e = x.toExponential();
  const at = e.indexOf('e');
  const exp = Number(e.slice(at + 1));
  if (exp < -4 || exp >= 16) {
    return `${e.slice(0, at)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(x);
}

/** Numbers lose a leading `+`, leading zeros and trailing zeros (`26.0` → `26`, `007` → `7`). */
function canonNumber(text: string): string {
  const c = text.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return text;
  if (!PY_FLOAT.test(text)) return text;
  const x = Number(text.includes('_') ? text.replace(/_/g, '') : text);
  if (!Number.isFinite(x)) return text;
  if (Number.isInteger(x)) return Number.isSafeInteger(x) ? String(x === 0 ? 0 : x) : BigInt(x).toString();
  return pyFloatRepr(x);
}

function canonValue(text: string): string {
  let t = text;
  if (t.includes('urn:epcglobal:cbv:')) for (const [urn, web] of LEGACY_CBV_URNS) t = t.split(urn).join(web);
  t = canonNumber(t);
  return normaliseGs1Uri(t) ?? t;
}

/** Python str.strip() for the whitespace that matters in JSON text. */
function strip(s: string): string {
  const c0 = s.charCodeAt(0);
  const c1 = s.charCodeAt(s.length - 1);
  return c0 <= 32 || c1 <= 32 || c0 === 0xa0 || c1 === 0xa0 || c0 > 0x167f || c1 > 0x167f ? s.trim() : s;
}

/** Code-point string order (Python's), not UTF-16 code-unit order. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary URIs of one event (the reference's JSON-LD expansion, limited to what it uses)

const VOCAB_URI_PREFIXES = ['https://ref.gs1.org/cbv', 'https://gs1.org/voc'];

function isVocabUri(s: string): boolean {
  return s.startsWith(VOCAB_URI_PREFIXES[0] as string) || s.startsWith(VOCAB_URI_PREFIXES[1] as string);
}

function expandCurie(value: string, prefixes: ReadonlyMap<string, string>): string | undefined {
  const i = value.indexOf(':');
  if (i <= 0) return undefined;
  const p = value.slice(0, i);
  const ns = prefixes.get(p) ?? STANDARD_PREFIXES.get(p);
  return ns === undefined ? undefined : ns + value.slice(i + 1);
}

class VocabCollector {
  readonly uris = new Set<string>();
  constructor(private readonly prefixes: ReadonlyMap<string, string>) {}

  slot(kind: VocabularyKind, value: unknown): void {
    if (Array.isArray(value)) {
      for (const v of value) this.slot(kind, v);
      return;
    }
    if (typeof value !== 'string') return;
    const word = vocabularyWords(kind).get(value);
    const uri = word ?? expandCurie(value, this.prefixes) ?? value;
    if (isVocabUri(uri)) this.uris.add(uri);
  }

  typed(list: unknown, kind: VocabularyKind): void {
    if (!Array.isArray(list)) return;
    for (const item of list) if (isObject(item)) this.slot(kind, item['type']);
  }

  /** Literal GS1 vocabulary URIs anywhere in the event. */
  literals(value: unknown): void {
    if (typeof value === 'string') {
      if (value.length > 18 && value.charCodeAt(0) === 104 && isVocabUri(value)) this.uris.add(value);
    } else if (Array.isArray(value)) {
      for (const v of value) this.literals(v);
    } else if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) if (k !== '@context') this.literals(v);
    }
  }
}

function vocabUrisOf(event: JsonObject, prefixes: ReadonlyMap<string, string>): string[] {
  const c = new VocabCollector(prefixes);
  c.slot('bizStep', event['bizStep']);
  c.slot('disposition', event['disposition']);
  const pd = event['persistentDisposition'];
  if (isObject(pd)) {
    c.slot('disposition', pd['set']);
    c.slot('disposition', pd['unset']);
  }
  c.typed(event['bizTransactionList'], 'bizTransactionType');
  c.typed(event['sourceList'], 'sourceDestType');
  c.typed(event['destinationList'], 'sourceDestType');
  const sel = event['sensorElementList'];
  if (Array.isArray(sel)) {
    for (const se of sel) {
      if (!isObject(se)) continue;
      const reports = se['sensorReport'];
      if (!Array.isArray(reports)) continue;
      for (const r of reports) {
        if (!isObject(r)) continue;
        c.slot('measurementType', r['type']);
        c.slot('sensorAlertType', r['exception']);
        c.slot('component', r['component']);
      }
    }
  }
  const ed = event['errorDeclaration'];
  if (isObject(ed)) c.slot('errorReason', ed['reason']);
  c.literals(event);
  return [...c.uris];
}

// ---------------------------------------------------------------------------------------------
// Event → node tree (the reference's "simple python object", XML-shaped)

interface HashNode {
  name: string;
  text: string;
  children: HashNode[];
  /** A bizTransaction/source/destination entry: children kept in [type, value] order, unsorted. */
  pair?: true;
  /** Taken into the pre-hash by the property order (removed from its list). */
  consumed?: true;
}

const IGNORED_KEYS = new Set(['#text', 'rdfs:comment', 'comment', '@context']);
const PAIR_LISTS: Readonly<Record<string, string>> = { bizTransactionList: 'bizTransaction', sourceList: 'source', destinationList: 'destination' };

class TreeBuilder {
  constructor(
    private readonly prefixes: ReadonlyMap<string, string>,
    private readonly vocab: readonly string[],
  ) {}

  private key(k: string): string {
    const i = k.indexOf(':');
    if (i <= 0) return k;
    const ns = this.prefixes.get(k.slice(0, i));
    return ns === undefined ? k : `{${ns}}${k.slice(i + 1)}`;
  }

  /** A string value after vocabulary-URI and prefix resolution (step 1). */
  value(v: string): string {
    if (this.vocab.length > 0) {
      let match: string | undefined;
      let count = 0;
      for (const x of this.vocab) {
        if (x.length > v.length && x.endsWith(v)) {
          const sep = x.charCodeAt(x.length - v.length - 1);
          if (sep === 45 /* - */ || sep === 47 /* / */) {
            match = x;
            count++;
          }
        }
      }
      if (count === 1 && match !== undefined) return match;
      const expanded = v.includes(':') ? expandCurie(v, this.prefixes) : undefined;
      if (expanded !== undefined && this.vocab.includes(expanded)) return expanded;
    }
    const i = v.indexOf(':');
    if (i > 0) {
      const ns = this.prefixes.get(v.slice(0, i));
      if (ns !== undefined) return ns + v.slice(i + 1);
    }
    return v;
  }

  private scalar(v: unknown): string {
    if (typeof v === 'string') return this.value(v);
    if (typeof v === 'number') return String(v);
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (v === null) return 'None';
    return String(v);
  }

  /** (text, children) of one JSON value. */
  private content(v: unknown): [string, HashNode[]] {
    if (Array.isArray(v)) {
      const kids: HashNode[] = [];
      for (const el of v) {
        const [t, c] = this.content(el);
        kids.push({ name: '', text: t, children: c });
      }
      return ['', kids];
    }
    if (isObject(v)) {
      const t = v['#text'];
      return [t === undefined ? '' : this.scalar(t), this.children(v, undefined)];
    }
    return [this.scalar(v), []];
  }

  /** Corrected children of an object (event top level: ignore the document's ignoreFields). */
  children(obj: JsonObject, ignore: readonly string[] | undefined): HashNode[] {
    const out: HashNode[] = [];
    for (const k in obj) {
      if (IGNORED_KEYS.has(k) || k.startsWith('@xmlns') || (ignore !== undefined && ignore.includes(k))) continue;
      const v = obj[k];
      const name = this.key(k);
      if (Array.isArray(v)) {
        for (const el of v) {
          const [t, c] = this.content(el);
          out.push({ name, text: t, children: c });
        }
      } else {
        const [t, c] = this.content(v);
        out.push({ name, text: t, children: c });
      }
    }
    return correct(out);
  }
}

function renamed(node: HashNode): HashNode {
  const n = node.name;
  if (n === 'inputEPC' || n === 'outputEPC') node.name = 'epc';
  else if (n === 'inputQuantity' || n === 'outputQuantity' || n === 'childQuantity' || (n === 'quantity' && node.children.length > 0)) {
    node.name = 'quantityElement';
  }
  return node;
}

/** The XML-binding corrections: `xList` groups of `x` items, `childEPCs` of `epc`, renames. */
function correct(children: HashNode[]): HashNode[] {
  let hasGroups = false;
  for (const c of children) {
    if (c.name.endsWith('List') || c.name === 'childEPCs') {
      hasGroups = true;
      break;
    }
  }
  if (!hasGroups) {
    for (const c of children) renamed(c);
    return children;
  }
  const plain: HashNode[] = [];
  const lists = new Map<string, HashNode[]>();
  const childEpcs: HashNode[] = [];
  for (const c of children) {
    if (c.name.endsWith('List')) {
      let items = lists.get(c.name);
      if (!items) lists.set(c.name, (items = []));
      items.push({ name: c.name.slice(0, -4), text: c.text, children: c.children });
    } else if (c.name === 'childEPCs') {
      childEpcs.push({ name: 'epc', text: c.text, children: [] });
    } else plain.push(renamed(c));
  }
  for (const [listName, items] of lists) {
    const valueKey = PAIR_LISTS[listName];
    if (valueKey !== undefined) {
      const pairs = items.map((it): HashNode => {
        const type = it.children.find((x) => x.name === 'type');
        const val = it.children.find((x) => x.name === valueKey);
        const kids = type !== undefined || val !== undefined ? [type, val].filter((x): x is HashNode => x !== undefined) : it.children.slice(0, 2);
        return { name: '', text: '', children: kids, pair: true };
      });
      plain.push({ name: listName, text: '', children: pairs });
    } else {
      for (const it of items) renamed(it);
      plain.push({ name: listName, text: '', children: items });
    }
  }
  if (childEpcs.length > 0) plain.push({ name: 'childEPCs', text: '', children: childEpcs });
  return plain;
}

// ---------------------------------------------------------------------------------------------
// Pre-hash string (canonical property order)

type PropOrder = readonly (readonly [string, PropOrder | null])[];

const QUANTITY: PropOrder = [['quantityElement', [['epcClass', null], ['quantity', null], ['uom', null]]]];
const EPCS: PropOrder = [['epc', null]];

/** CBV 2.0 canonical property order. bizTransaction/source/destination lists are hashed generically. */
export const PROPERTY_ORDER: PropOrder = [
  ['eventTime', null],
  ['eventTimeZoneOffset', null],
  ['certificationInfo', null],
  ['parentID', null],
  ['epcList', EPCS],
  ['inputEPCList', EPCS],
  ['childEPCs', EPCS],
  ['quantityList', QUANTITY],
  ['childQuantityList', QUANTITY],
  ['inputQuantityList', QUANTITY],
  ['outputEPCList', EPCS],
  ['outputQuantityList', QUANTITY],
  ['action', null],
  ['transformationID', null],
  ['bizStep', null],
  ['disposition', null],
  ['persistentDisposition', [['set', null], ['unset', null]]],
  ['readPoint', [['id', null]]],
  ['bizLocation', [['id', null]]],
  [
    'sensorElementList',
    [
      [
        'sensorElement',
        [
          [
            'sensorMetadata',
            [
              ['time', null],
              ['startTime', null],
              ['endTime', null],
              ['deviceID', null],
              ['deviceMetadata', null],
              ['rawData', null],
              ['dataProcessingMethod', null],
              ['bizRules', null],
            ],
          ],
          [
            'sensorReport',
            [
              ['type', null],
              ['exception', null],
              ['deviceID', null],
              ['deviceMetadata', null],
              ['rawData', null],
              ['dataProcessingMethod', null],
              ['time', null],
              ['microorganism', null],
              ['chemicalSubstance', null],
              ['value', null],
              ['component', null],
              ['stringValue', null],
              ['booleanValue', null],
              ['hexBinaryValue', null],
              ['uriValue', null],
              ['minValue', null],
              ['maxValue', null],
              ['meanValue', null],
              ['sDev', null],
              ['percRank', null],
              ['percValue', null],
              ['uom', null],
              ['coordinateReferenceSystem', null],
            ],
          ],
        ],
      ],
    ],
  ],
];

const TOP_LEVEL_IGNORED = new Set(['recordTime', 'eventID', 'type', 'errorDeclaration']);
const NO_SORT_NAMES = new Set(['bizTransaction', 'source', 'destination']);

function sortStrings(values: string[]): void {
  if (values.length > 1) values.sort(compareCodePoints);
}

function removeNode(list: HashNode[], node: HashNode): void {
  const i = list.indexOf(node);
  if (i >= 0) list.splice(i, 1);
}

function isTimeName(name: string): boolean {
  const l = name.toLowerCase();
  return l.includes('time') && !l.includes('offset');
}

function nodeString(node: HashNode, sub: PropOrder | null): string {
  const grand = sub !== null ? ordered(node.children, sub) : '';
  let text = '';
  if (node.text) {
    text = strip(node.text);
    text = isTimeName(node.name) ? (hashTimestamp(text) ?? text) : canonValue(text);
    if (text) text = '=' + text;
  }
  return text || grand ? node.name + text + grand : '';
}

/** Nested user extensions (`{…/}name`) of a non-top-level element, hashed after its standard fields. */
function takeUserExtensions(list: HashNode[]): HashNode[] {
  if (list.length <= 1) return [];
  for (const c of list) if (c.name.includes('eventTime') || c.name.includes('action')) return [];
  const ext = list.filter((x) => x.pair !== true && x.name.includes('{') && x.name.includes('/}'));
  for (const e of ext) removeNode(list, e);
  return ext;
}

/** Standard fields in order; consumed leaves (and emptied elements) leave `list`. */
function ordered(list: HashNode[], order: PropOrder): string {
  let pre = '';
  const ext = takeUserExtensions(list);
  const present = new Set<string>();
  for (const c of list) present.add(c.name);
  for (const [name, sub] of order) {
    if (!present.has(name)) continue;
    let values: string[] | undefined;
    let consumed = 0;
    for (const child of list) {
      if (child.name !== name) continue;
      const s = nodeString(child, sub);
      if (s) (values ??= []).push(s);
      if (child.children.length === 0) {
        child.consumed = true;
        consumed++;
      }
    }
    if (consumed > 0) {
      // Consumed leaves (and emptied elements) leave the list, in one pass (large epcLists).
      let w = 0;
      for (const c of list) if (c.consumed !== true) list[w++] = c;
      list.length = w;
    }
    if (values) {
      sortStrings(values);
      pre += values.join('');
    }
  }
  if (ext.length > 0) pre += generic(ext);
  return pre;
}

/** Everything not in the property order, as sorted `name=value` strings. */
function generic(children: readonly HashNode[]): string {
  const values: string[] = [];
  let sort = children.length > 1;
  for (const c of children) {
    if (NO_SORT_NAMES.has(c.name)) sort = false;
    if (c.pair === true) {
      values.push(generic(c.children));
      continue;
    }
    let text = strip(c.text);
    if (text) text = '=' + canonValue(text);
    values.push(c.name + text + generic(c.children));
  }
  if (sort) sortStrings(values);
  return values.join('');
}

/** The pre-hash string of one event (for diagnosis; the ID is SHA-256 of its UTF-8 bytes). */
export function eventPrehash(event: JsonObject, context: HashContext = EMPTY_HASH_CONTEXT): string {
  let prefixes = context.prefixes;
  const own = event['@context'];
  if (own !== undefined) prefixes = prefixesOfContext(own, new Map(prefixes));
  const vocab = vocabUrisOf(event, prefixes);
  const builder = new TreeBuilder(prefixes, vocab);
  const children = builder.children(event, context.ignoreFields.length > 0 ? context.ignoreFields : undefined);
  const t = event['type'];
  const typeName = typeof t === 'string' ? builder.value(t) : '';
  const head = ordered(children, PROPERTY_ORDER);
  const rest = children.filter((c) => !TOP_LEVEL_IGNORED.has(c.name));
  return `eventType=${typeName}${head}${rest.length > 0 ? generic(rest) : ''}`;
}

export function hashPrehash(prehash: string): string {
  return `ni:///sha-256;${createHash('sha256').update(prehash, 'utf8').digest('hex')}?ver=CBV2.0`;
}

/** CBV 2.0 event hash ID of one event. */
export function eventHash(event: JsonObject, context: HashContext = EMPTY_HASH_CONTEXT): string {
  return hashPrehash(eventPrehash(event, context));
}

/** The event list of an EPCISDocument (`epcisBody.eventList`) or EPCISQueryDocument. */
export function eventsOfDocument(doc: JsonObject): unknown[] | undefined {
  const body = doc['epcisBody'];
  if (!isObject(body)) return undefined;
  if (Array.isArray(body['eventList'])) return body['eventList'];
  const qr = body['queryResults'];
  if (isObject(qr)) {
    const rb = qr['resultsBody'];
    if (isObject(rb) && Array.isArray(rb['eventList'])) return rb['eventList'];
  }
  if (isObject(body['event'])) return [body['event']];
  return undefined;
}

/** Event hash IDs of every event of a document, in document order (no validation). */
export function documentEventHashes(doc: JsonObject): string[] {
  const context = hashContextOf(doc);
  const events = eventsOfDocument(doc) ?? [];
  return events.map((e) => eventHash(isObject(e) ? e : {}, context));
}
