/**
 * EPCIS XML (2.0, and 1.2 where it maps) → the EPCIS 2.0 JSON-LD document the rest of the node
 * works on. The result goes through the same validation, hashing and storage as a JSON capture,
 * so an event captured as XML and as JSON gets one event ID and one stored form.
 *
 * The mapping is the XML binding read backwards (EPCIS 2.0 §9 and the JSON-LD binding):
 * - standard fields are the unqualified elements; lists (`epcList`/`epc`,
 *   `quantityList`/`quantityElement`, `bizTransactionList`/`bizTransaction type="…"`, …) become
 *   JSON arrays, `readPoint`/`bizLocation` objects with `id`;
 * - `sensorMetadata` and `sensorReport` attributes become members (numbers and booleans typed
 *   as the JSON schema says);
 * - EPCIS 1.2 `extension` and `baseExtension` wrappers are flattened into their parent (and a
 *   `TransformationEvent` inside `EventList/extension` is an event);
 * - a namespaced element is a user extension: `prefix:local`, with the prefix declared in the
 *   document's `@context` (a prefix bound to two namespaces, or a default namespace, gets a fresh
 *   one); its element children become members, repeated ones arrays, its attributes members, its
 *   text `#text` when it has members too.
 *
 * The text is read in one pass into an element tree (xml-node.ts), which the mapping walks: by
 * xml-plain.ts when it is plain XML (as producers write it), else by saxes (xml-saxes.ts), which
 * also names every well-formedness error. Documents with a DOCTYPE internal subset are refused
 * (no entity declarations are processed); only the XML predefined entities and character
 * references are decoded.
 */
import type { JsonObject } from '../common/json.js';
import { TraceError, type TraceProblem } from './errors.js';
import { IGNORE_FIELDS_NAMESPACE } from './event-hash.js';
import { cbvWord, type VocabularyKind } from './vocabulary.js';
import { pathOf, XML_NS, type XNode } from './xml-node.js';
import { readPlainXml } from './xml-plain.js';
import { readXmlWithSaxes } from './xml-saxes.js';

export { XmlSyntaxError } from './xml-node.js';

type Json = JsonObject[string];

export const EPCIS_NS_2 = 'urn:epcglobal:epcis:xsd:2';
export const EPCIS_NS_1 = 'urn:epcglobal:epcis:xsd:1';
export const EPCIS_QUERY_NS_2 = 'urn:epcglobal:epcis-query:xsd:2';
export const EPCIS_QUERY_NS_1 = 'urn:epcglobal:epcis-query:xsd:1';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

const EVENT_TYPES = new Set(['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent']);
const EPC_LISTS = new Set(['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList']);
const QUANTITY_LISTS = new Set(['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']);
const PAIR_LISTS: Readonly<Record<string, string>> = { bizTransactionList: 'bizTransaction', sourceList: 'source', destinationList: 'destination' };
const STRING_FIELDS = new Set(['eventTime', 'recordTime', 'eventTimeZoneOffset', 'eventID', 'certificationInfo', 'parentID', 'action', 'bizStep', 'disposition', 'transformationID']);
const VOCAB_FIELDS: Readonly<Record<string, VocabularyKind>> = { bizStep: 'bizStep', disposition: 'disposition' };
const PAIR_VOCAB: Readonly<Record<string, VocabularyKind>> = { bizTransaction: 'bizTransactionType', source: 'sourceDestType', destination: 'sourceDestType' };
const SENSOR_VOCAB: Readonly<Record<string, VocabularyKind>> = { type: 'measurementType', exception: 'sensorAlertType', component: 'component' };

/**
 * A vocabulary value as the JSON binding writes it: a standard CBV / GS1 term as its bare word
 * (`urn:epcglobal:cbv:bizstep:shipping`, `cbv:BizStep-shipping` → `shipping`), which the EPCIS
 * JSON schema requires and which hashes the same; anything else as written.
 */
function word(kind: VocabularyKind, value: string): string {
  return cbvWord(kind, value) ?? value;
}

const NUMBER_ATTRS = new Set(['value', 'minValue', 'maxValue', 'meanValue', 'sDev', 'percRank', 'percValue']);
/** An unqualified wrapper of EPCIS 1.2 (and 2.0's extension points) whose content belongs to the parent. */
function isWrapper(n: XNode): boolean {
  return n.ns === '' && (n.local === 'extension' || n.local === 'baseExtension');
}

export interface XmlDocumentResult {
  /** The document as EPCIS 2.0 JSON-LD (EPCISDocument or EPCISQueryDocument). */
  doc: JsonObject;
  /** The XML's namespace: 2.0 or 1.x. */
  schemaVersion: '2.0' | '1.x';
}

function fail(path: string, message: string): never {
  throw new TraceError('BAD_DOCUMENT', `${path}: ${message}`, [{ path, message, code: 'BAD_DOCUMENT' }]);
}

/** Namespace → JSON-LD prefix for the document's extensions. */
class Prefixes {
  private readonly byNs = new Map<string, string>();
  private readonly byPrefix = new Map<string, string>();

  /**
   * @param reserved prefixes that string values of the document start with (`example:x`): XML
   * never expands a value, but a JSON-LD prefix of that name would (in the event hash too), so
   * such a namespace gets another prefix.
   */
  constructor(private readonly reserved: ReadonlySet<string>) {}

  of(ns: string, wanted: string): string {
    const known = this.byNs.get(ns);
    if (known !== undefined) return known;
    let p = wanted !== '' && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(wanted) ? wanted : 'ns';
    if (this.byPrefix.has(p) || this.reserved.has(p) || p === 'ns') {
      let i = 1;
      while (this.byPrefix.has(`${p}${i}`) || this.reserved.has(`${p}${i}`)) i++;
      p = `${p}${i}`;
    }
    this.byNs.set(ns, p);
    this.byPrefix.set(p, ns);
    return p;
  }

  context(): JsonObject | undefined {
    if (this.byPrefix.size === 0) return undefined;
    const out: JsonObject = {};
    for (const [p, ns] of this.byPrefix) out[p] = ns;
    return out;
  }
}

function isStandard(n: XNode): boolean {
  return n.ns === '';
}

class Mapper {
  readonly prefixes: Prefixes;
  readonly problems: TraceProblem[] = [];

  constructor(reserved: ReadonlySet<string>) {
    this.prefixes = new Prefixes(reserved);
  }

  /** word() of each vocabulary value met in this document, which repeats a few. */
  private readonly words = new Map<VocabularyKind, Map<string, string>>();

  private word(kind: VocabularyKind, value: string): string {
    let known = this.words.get(kind);
    if (known === undefined) this.words.set(kind, (known = new Map()));
    let w = known.get(value);
    if (w === undefined) known.set(value, (w = word(kind, value)));
    return w;
  }

  private problem(path: string, message: string): void {
    this.problems.push({ path, message, code: 'BAD_DOCUMENT' });
  }

  /** The element's children with 1.2-style `extension` / `baseExtension` wrappers flattened. */
  private flat(n: XNode): readonly XNode[] {
    if (!n.children.some(isWrapper)) return n.children;
    const out: XNode[] = [];
    for (const c of n.children) {
      if (isWrapper(c)) for (const w of this.flat(c)) out.push(w); // (no spread: a wrapper may hold more than a call's arguments)
      else out.push(c);
    }
    return out;
  }

  extKey(ns: string, prefix: string, local: string): string {
    return `${this.prefixes.of(ns, prefix)}:${local}`;
  }

  /** A user extension element's value. */
  extension(n: XNode): Json {
    const members: JsonObject = {};
    for (const a of n.attrs) {
      if (a.uri === XSI_NS || a.uri === XML_NS) continue;
      members[a.uri === '' ? a.local : this.extKey(a.uri, a.prefix, a.local)] = a.value;
    }
    for (const c of n.children) {
      const key = c.ns === '' ? c.local : this.extKey(c.ns, c.prefix, c.local);
      add(members, key, this.extension(c));
    }
    if (Object.keys(members).length === 0) return n.text;
    if (n.text !== '') members['#text'] = n.text;
    return members;
  }

  private epcs(n: XNode, item: string): string[] {
    const out: string[] = [];
    for (const c of this.flat(n)) {
      if (isStandard(c) && c.local === item) out.push(c.text);
      else this.problem(pathOf(c), `unexpected element in ${n.local} (expected ${item})`);
    }
    return out;
  }

  private quantities(n: XNode): JsonObject[] {
    const out: JsonObject[] = [];
    for (const q of this.flat(n)) {
      if (!isStandard(q) || q.local !== 'quantityElement') {
        this.problem(pathOf(q), `unexpected element in ${n.local} (expected quantityElement)`);
        continue;
      }
      const el: JsonObject = {};
      for (const f of this.flat(q)) {
        if (isStandard(f) && f.local === 'quantity') {
          if (f.text === '' && f.attrs.some((a) => a.uri === XSI_NS && a.local === 'nil' && a.value === 'true')) continue;
          const x = Number(f.text);
          if (f.text === '' || !Number.isFinite(x)) this.problem(pathOf(f), `quantity must be a decimal number, got "${f.text}"`);
          else el['quantity'] = x;
        } else if (isStandard(f) && (f.local === 'epcClass' || f.local === 'uom')) el[f.local] = f.text;
        else if (!isStandard(f)) add(el, this.extKey(f.ns, f.prefix, f.local), this.extension(f));
        else this.problem(pathOf(f), `unexpected element in quantityElement`);
      }
      out.push(el);
    }
    return out;
  }

  private pairs(n: XNode, item: string): JsonObject[] {
    const out: JsonObject[] = [];
    for (const c of this.flat(n)) {
      if (!isStandard(c) || c.local !== item) {
        this.problem(pathOf(c), `unexpected element in ${n.local} (expected ${item})`);
        continue;
      }
      const el: JsonObject = {};
      const type = c.attrs.find((a) => a.uri === '' && a.local === 'type');
      if (type !== undefined) el['type'] = this.word(PAIR_VOCAB[item] as VocabularyKind, type.value);
      el[item] = c.text;
      out.push(el);
    }
    return out;
  }

  private place(n: XNode): JsonObject {
    const out: JsonObject = {};
    for (const c of this.flat(n)) {
      if (isStandard(c) && c.local === 'id') out['id'] = c.text;
      else if (!isStandard(c)) add(out, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
      else this.problem(pathOf(c), `unexpected element in ${n.local}`);
    }
    return out;
  }

  private attributes(n: XNode, vocab: Readonly<Record<string, VocabularyKind>> = {}): JsonObject {
    const out: JsonObject = {};
    for (const a of n.attrs) {
      if (a.uri === XSI_NS || a.uri === XML_NS) continue;
      if (a.uri !== '') {
        out[this.extKey(a.uri, a.prefix, a.local)] = a.value;
      } else if (NUMBER_ATTRS.has(a.local)) {
        const x = Number(a.value);
        if (a.value.trim() === '' || !Number.isFinite(x)) this.problem(`${pathOf(n)}/@${a.local}`, `must be a number, got "${a.value}"`);
        else out[a.local] = x;
      } else if (a.local === 'booleanValue') {
        if (a.value === 'true' || a.value === '1') out[a.local] = true;
        else if (a.value === 'false' || a.value === '0') out[a.local] = false;
        else this.problem(`${pathOf(n)}/@${a.local}`, `must be true or false, got "${a.value}"`);
      } else {
        const kind = vocab[a.local];
        out[a.local] = kind !== undefined ? this.word(kind, a.value) : a.value;
      }
    }
    return out;
  }

  private sensorElements(n: XNode): JsonObject[] {
    const out: JsonObject[] = [];
    for (const se of this.flat(n)) {
      if (!isStandard(se) || se.local !== 'sensorElement') {
        this.problem(pathOf(se), 'unexpected element in sensorElementList (expected sensorElement)');
        continue;
      }
      const el: JsonObject = {};
      const reports: JsonObject[] = [];
      for (const c of this.flat(se)) {
        if (isStandard(c) && c.local === 'sensorMetadata') el['sensorMetadata'] = this.attributes(c);
        else if (isStandard(c) && c.local === 'sensorReport') reports.push(this.attributes(c, SENSOR_VOCAB));
        else if (!isStandard(c)) add(el, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
        else this.problem(pathOf(c), 'unexpected element in sensorElement');
      }
      if (reports.length > 0) el['sensorReport'] = reports;
      out.push(el);
    }
    return out;
  }

  private errorDeclaration(n: XNode): JsonObject {
    const out: JsonObject = {};
    for (const c of this.flat(n)) {
      if (isStandard(c) && c.local === 'declarationTime') out[c.local] = c.text;
      else if (isStandard(c) && c.local === 'reason') out[c.local] = this.word('errorReason', c.text);
      else if (isStandard(c) && c.local === 'correctiveEventIDs') out['correctiveEventIDs'] = this.epcs(c, 'correctiveEventID');
      else if (!isStandard(c)) add(out, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
      else this.problem(pathOf(c), 'unexpected element in errorDeclaration');
    }
    return out;
  }

  private persistentDisposition(n: XNode): JsonObject {
    const out: JsonObject = {};
    for (const c of this.flat(n)) {
      if (isStandard(c) && (c.local === 'set' || c.local === 'unset')) {
        const list = (out[c.local] as string[] | undefined) ?? [];
        list.push(this.word('disposition', c.text));
        out[c.local] = list;
      } else if (!isStandard(c)) add(out, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
      else this.problem(pathOf(c), 'unexpected element in persistentDisposition');
    }
    return out;
  }

  private objectOfExtensions(n: XNode): JsonObject {
    const out: JsonObject = {};
    for (const c of this.flat(n)) {
      if (!isStandard(c)) add(out, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
      else this.problem(pathOf(c), `unexpected unqualified element in ${n.local} (its fields must be namespaced)`);
    }
    return out;
  }

  event(n: XNode): JsonObject {
    const e: JsonObject = { type: n.local };
    for (const c of this.flat(n)) {
      if (!isStandard(c)) {
        add(e, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
        continue;
      }
      const f = c.local;
      if (e[f] !== undefined) {
        this.problem(pathOf(c), `${f} given twice`);
        continue;
      }
      if (VOCAB_FIELDS[f] !== undefined) e[f] = this.word(VOCAB_FIELDS[f] as VocabularyKind, c.text);
      else if (STRING_FIELDS.has(f)) e[f] = c.text;
      else if (EPC_LISTS.has(f)) e[f] = this.epcs(c, 'epc');
      else if (QUANTITY_LISTS.has(f)) e[f] = this.quantities(c);
      else if (PAIR_LISTS[f] !== undefined) e[f] = this.pairs(c, PAIR_LISTS[f] as string);
      else if (f === 'readPoint' || f === 'bizLocation') e[f] = this.place(c);
      else if (f === 'sensorElementList') e[f] = this.sensorElements(c);
      else if (f === 'errorDeclaration') e[f] = this.errorDeclaration(c);
      else if (f === 'persistentDisposition') e[f] = this.persistentDisposition(c);
      else if (f === 'ilmd') e[f] = this.objectOfExtensions(c);
      else this.problem(pathOf(c), `${f} is not a field of ${n.local}`);
    }
    return e;
  }

  eventList(n: XNode): JsonObject[] {
    const out: JsonObject[] = [];
    for (const c of this.flat(n)) {
      if (isStandard(c) && EVENT_TYPES.has(c.local)) out.push(this.event(c));
      else if (isStandard(c) && c.local === 'QuantityEvent') this.problem(pathOf(c), 'QuantityEvent (EPCIS 1.x, deprecated) has no EPCIS 2.0 form; send an ObjectEvent with a quantityList');
      else this.problem(pathOf(c), `${c.local} is not an EPCIS event`);
    }
    return out;
  }
}

/** Arrays made from repeated elements (an element whose own value is an array is never one). */
const repeated = new WeakSet<Json[]>();

/** Sets a member; a repeated element makes (or extends) an array. */
function add(obj: JsonObject, key: string, value: Json): void {
  const prev = obj[key];
  if (prev === undefined) {
    obj[key] = value;
  } else if (Array.isArray(prev) && repeated.has(prev)) {
    prev.push(value);
  } else {
    const list: Json[] = [prev, value];
    repeated.add(list);
    obj[key] = list;
  }
}

/**
 * The document's `…:ignoreFields` element (namespace IGNORE_FIELDS_NAMESPACE, the reference's
 * "repository internal" convention): the names of event fields left out of the hash.
 */
function ignoreFields(root: XNode, m: Mapper): [string, string[]] | undefined {
  const el = root.children.find((c) => c.ns === IGNORE_FIELDS_NAMESPACE && c.local === 'ignoreFields');
  if (el === undefined) return undefined;
  const key = m.extKey(el.ns, el.prefix, el.local);
  return [key, el.children.map((c) => (c.ns === '' ? c.local : m.extKey(c.ns, c.prefix, c.local)))];
}

function child(n: XNode, local: string): XNode | undefined {
  return n.children.find((c) => isStandard(c) && c.local === local);
}

/**
 * Parses an EPCIS XML document into its EPCIS 2.0 JSON-LD form. Throws XmlSyntaxError when the
 * text is not well-formed XML, TraceError (BAD_DOCUMENT, every problem listed) when it is XML
 * but not an EPCIS document this binding maps.
 */
export function epcisXmlToJson(text: string): XmlDocumentResult {
  const xml = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const { root, valuePrefixes } = readPlainXml(xml) ?? readXmlWithSaxes(xml);
  const isDoc = root.local === 'EPCISDocument' && (root.ns === EPCIS_NS_2 || root.ns === EPCIS_NS_1);
  const isQuery = root.local === 'EPCISQueryDocument' && (root.ns === EPCIS_QUERY_NS_2 || root.ns === EPCIS_QUERY_NS_1);
  if (!isDoc && !isQuery) {
    fail(pathOf(root), `the root must be EPCISDocument (${EPCIS_NS_2}) or EPCISQueryDocument (${EPCIS_QUERY_NS_2}), got {${root.ns}}${root.local}`);
  }
  const v2 = root.ns === EPCIS_NS_2 || root.ns === EPCIS_QUERY_NS_2;
  const m = new Mapper(valuePrefixes);
  const ignore = ignoreFields(root, m);
  const body = child(root, 'EPCISBody');
  const doc: JsonObject = {};
  let events: JsonObject[] = [];
  let queryResults: JsonObject | undefined;
  if (isDoc) {
    if (body === undefined) fail(pathOf(root), 'EPCISBody is missing');
    const list = child(body, 'EventList');
    events = list === undefined ? [] : m.eventList(list);
  } else {
    // EPCISBody/QueryResults; some producers put QueryResults' content under the root.
    const qr = body !== undefined ? body.children.find((c) => c.local === 'QueryResults' && (c.ns === '' || c.ns === root.ns)) : child(root, 'resultsBody') !== undefined ? root : undefined;
    if (qr === undefined) fail(pathOf(body ?? root), body === undefined ? 'EPCISBody is missing' : 'QueryResults is missing');
    queryResults = {};
    const qn = child(qr, 'queryName');
    const sid = child(qr, 'subscriptionID');
    if (qn !== undefined) queryResults['queryName'] = qn.text;
    if (sid !== undefined) queryResults['subscriptionID'] = sid.text;
    const rb = child(qr, 'resultsBody');
    const list = rb === undefined ? undefined : child(rb, 'EventList');
    events = list === undefined ? [] : m.eventList(list);
  }
  if (m.problems.length > 0) throw TraceError.fromProblems(m.problems, 'BAD_DOCUMENT');
  const ctx = m.prefixes.context();
  doc['@context'] = ctx === undefined ? 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld' : ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', ctx];
  doc['type'] = isDoc ? 'EPCISDocument' : 'EPCISQueryDocument';
  doc['schemaVersion'] = '2.0';
  const created = root.attrs.find((a) => a.uri === '' && a.local === 'creationDate');
  if (created !== undefined) doc['creationDate'] = created.value;
  if (isDoc) {
    if (ignore !== undefined) doc[ignore[0]] = ignore[1];
    doc['epcisBody'] = { eventList: events };
  } else {
    doc['epcisBody'] = { queryResults: { ...queryResults, ...(ignore !== undefined ? { [ignore[0]]: ignore[1] } : {}), resultsBody: { eventList: events } } };
  }
  return { doc, schemaVersion: v2 ? '2.0' : '1.x' };
}
