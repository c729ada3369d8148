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
 * Documents with a DOCTYPE internal subset are refused (no entity declarations are processed);
 * only the XML predefined entities and character references are decoded.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { JsonObject } from '../common/json.js';
import { TraceError, type TraceProblem } from './errors.js';
import { IGNORE_FIELDS_NAMESPACE } from './event-hash.js';
import { cbvWord, type VocabularyKind } from './vocabulary.js';

type Json = JsonObject[string];

/** A parsed element with resolved namespace. */
interface XNode {
  /** Namespace URI ('' for none). */
  ns: string;
  /** Local name. */
  local: string;
  /** The prefix it was written with ('' for none). */
  prefix: string;
  attrs: { ns: string; local: string; prefix: string; value: string }[];
  children: XNode[];
  text: string;
  path: string;
}

export const EPCIS_NS_2 = 'urn:epcglobal:epcis:xsd:2';
export const EPCIS_NS_1 = 'urn:epcglobal:epcis:xsd:1';
export const EPCIS_QUERY_NS_2 = 'urn:epcglobal:epcis-query:xsd:2';
export const EPCIS_QUERY_NS_1 = 'urn:epcglobal:epcis-query:xsd:1';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

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
/** Unqualified wrappers of EPCIS 1.2 (and 2.0's extension points) whose content belongs to the parent. */
const WRAPPERS = new Set(['extension', 'baseExtension']);

export interface XmlDocumentResult {
  /** The document as EPCIS 2.0 JSON-LD (EPCISDocument or EPCISQueryDocument). */
  doc: JsonObject;
  /** The XML's namespace: 2.0 or 1.x. */
  schemaVersion: '2.0' | '1.x';
}

/** Well-formedness problem, with line and column. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

const CDATA = '#cdata';
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The predefined entities and character references of a text or attribute value. */
function decodeEntities(s: string, where: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{0,12});/g, (_m, name: string) => {
    const named = PREDEFINED[name];
    if (named !== undefined) return named;
    const hex = /^#x([0-9a-fA-F]{1,6})$/.exec(name);
    const dec = /^#([0-9]{1,7})$/.exec(name);
    const cp = hex !== null ? parseInt(hex[1] as string, 16) : dec !== null ? Number(dec[1]) : undefined;
    if (cp === undefined || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new XmlSyntaxError(`${where}: unknown entity &${name}; (no DTD: only &lt; &gt; &amp; &quot; &apos; and character references)`);
    return String.fromCodePoint(cp);
  });
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Entities are decoded here (decodeEntities), not by the parser: its entity pass costs three
  // times the rest of the parse, and only the five predefined ones and character references exist
  // in a document without a DTD.
  processEntities: false,
  htmlEntities: false,
  cdataPropName: CDATA,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
});

type Ordered = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new TraceError('BAD_DOCUMENT', `${path}: ${message}`, [{ path, message, code: 'BAD_DOCUMENT' }]);
}

/** Parse the XML text into namespace-resolved nodes (root element). */
function parseTree(text: string): XNode {
  const doctype = /<!DOCTYPE[^>[]*\[/i.exec(text);
  if (doctype !== null) throw new XmlSyntaxError('a DOCTYPE with an internal subset (entity declarations) is refused');
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) throw new XmlSyntaxError(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  let top: Ordered[];
  try {
    top = parser.parse(text) as Ordered[];
  } catch (err) {
    // What the validator lets through and the parser still refuses (e.g. nesting deeper than its
    // limit) is the document's fault too.
    throw new XmlSyntaxError(err instanceof Error ? err.message : String(err));
  }
  const roots = top.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1) throw new XmlSyntaxError('the document must have exactly one root element');
  return resolve(roots[0] as Ordered, new Map([['xml', XML_NS]]), '');
}

function elementName(n: Ordered): string | undefined {
  for (const k of Object.keys(n)) if (k !== ':@' && !k.startsWith('#') && !k.startsWith('?') && !k.startsWith('!')) return k;
  return undefined;
}

function splitName(qname: string): [string, string] {
  const i = qname.indexOf(':');
  return i < 0 ? ['', qname] : [qname.slice(0, i), qname.slice(i + 1)];
}

function resolve(n: Ordered, scope: ReadonlyMap<string, string>, parentPath: string): XNode {
  const qname = elementName(n) as string;
  const rawAttrs = (n[':@'] ?? {}) as Record<string, string>;
  let inScope = scope;
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (inScope === scope) inScope = new Map(scope);
      (inScope as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), v);
    }
  }
  const [prefix, local] = splitName(qname);
  const ns = inScope.get(prefix);
  const path = `${parentPath}/${qname}`;
  if (ns === undefined && prefix !== '') throw new XmlSyntaxError(`${path}: prefix "${prefix}" is not declared`);
  const attrs: XNode['attrs'] = [];
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    const [ap, al] = splitName(k);
    const ans = ap === '' ? '' : inScope.get(ap);
    if (ans === undefined) throw new XmlSyntaxError(`${path}/@${k}: prefix "${ap}" is not declared`);
    attrs.push({ ns: ans, local: al, prefix: ap, value: decodeEntities(String(v), `${path}/@${k}`) });
  }
  const node: XNode = { ns: ns ?? '', local, prefix, attrs, children: [], text: '', path };
  const kids = n[qname];
  const counts = new Map<string, number>();
  if (Array.isArray(kids)) {
    for (const k of kids as Ordered[]) {
      if (typeof k['#text'] === 'string' || typeof k['#text'] === 'number') {
        node.text += decodeEntities(String(k['#text']), path);
        continue;
      }
      const cdata = k[CDATA];
      if (Array.isArray(cdata)) {
        for (const c of cdata as Ordered[]) if (c['#text'] !== undefined) node.text += String(c['#text']);
        continue;
      }
      const name = elementName(k);
      if (name === undefined) continue;
      const i = (counts.get(name) ?? 0) + 1;
      counts.set(name, i);
      node.children.push(resolve(k, inScope, `${path}`.concat(i > 1 ? `[${i}]` : '')));
    }
  }
  return node;
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

  private problem(path: string, message: string): void {
    this.problems.push({ path, message, code: 'BAD_DOCUMENT' });
  }

  /** The element's children with 1.2-style `extension` / `baseExtension` wrappers flattened. */
  private flat(n: XNode): XNode[] {
    const out: XNode[] = [];
    for (const c of n.children) {
      if (isStandard(c) && WRAPPERS.has(c.local)) out.push(...this.flat(c));
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
      if (a.ns === XSI_NS || a.ns === XML_NS) continue;
      members[a.ns === '' ? a.local : this.extKey(a.ns, a.prefix, a.local)] = a.value;
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
      else this.problem(c.path, `unexpected element in ${n.local} (expected ${item})`);
    }
    return out;
  }

  private quantities(n: XNode): JsonObject[] {
    const out: JsonObject[] = [];
    for (const q of this.flat(n)) {
      if (!isStandard(q) || q.local !== 'quantityElement') {
        this.problem(q.path, `unexpected element in ${n.local} (expected quantityElement)`);
        continue;
      }
      const el: JsonObject = {};
      for (const f of this.flat(q)) {
        if (isStandard(f) && f.local === 'quantity') {
          if (f.text === '' && f.attrs.some((a) => a.ns === XSI_NS && a.local === 'nil' && a.value === 'true')) continue;
          const x = Number(f.text);
          if (f.text === '' || !Number.isFinite(x)) this.problem(f.path, `quantity must be a decimal number, got "${f.text}"`);
          else el['quantity'] = x;
        } else if (isStandard(f) && (f.local === 'epcClass' || f.local === 'uom')) el[f.local] = f.text;
        else if (!isStandard(f)) add(el, this.extKey(f.ns, f.prefix, f.local), this.extension(f));
        else this.problem(f.path, `unexpected element in quantityElement`);
      }
      out.push(el);
    }
    return out;
  }

  private pairs(n: XNode, item: string): JsonObject[] {
    const out: JsonObject[] = [];
    for (const c of this.flat(n)) {
      if (!isStandard(c) || c.local !== item) {
        this.problem(c.path, `unexpected element in ${n.local} (expected ${item})`);
        continue;
      }
      const el: JsonObject = {};
      const type = c.attrs.find((a) => a.ns === '' && a.local === 'type');
      if (type !== undefined) el['type'] = word(PAIR_VOCAB[item] as VocabularyKind, type.value);
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
      else this.problem(c.path, `unexpected element in ${n.local}`);
    }
    return out;
  }

  private attributes(n: XNode, vocab: Readonly<Record<string, VocabularyKind>> = {}): JsonObject {
    const out: JsonObject = {};
    for (const a of n.attrs) {
      if (a.ns === XSI_NS || a.ns === XML_NS) continue;
      if (a.ns !== '') {
        out[this.extKey(a.ns, a.prefix, a.local)] = a.value;
      } else if (NUMBER_ATTRS.has(a.local)) {
        const x = Number(a.value);
        if (a.value.trim() === '' || !Number.isFinite(x)) this.problem(`${n.path}/@${a.local}`, `must be a number, got "${a.value}"`);
        else out[a.local] = x;
      } else if (a.local === 'booleanValue') {
        if (a.value === 'true' || a.value === '1') out[a.local] = true;
        else if (a.value === 'false' || a.value === '0') out[a.local] = false;
        else this.problem(`${n.path}/@${a.local}`, `must be true or false, got "${a.value}"`);
      } else {
        const kind = vocab[a.local];
        out[a.local] = kind !== undefined ? word(kind, a.value) : a.value;
      }
    }
    return out;
  }

  private sensorElements(n: XNode): JsonObject[] {
    const out: JsonObject[] = [];
    for (const se of this.flat(n)) {
      if (!isStandard(se) || se.local !== 'sensorElement') {
        this.problem(se.path, 'unexpected element in sensorElementList (expected sensorElement)');
        continue;
      }
      const el: JsonObject = {};
      const reports: JsonObject[] = [];
      for (const c of this.flat(se)) {
        if (isStandard(c) && c.local === 'sensorMetadata') el['sensorMetadata'] = this.attributes(c);
        else if (isStandard(c) && c.local === 'sensorReport') reports.push(this.attributes(c, SENSOR_VOCAB));
        else if (!isStandard(c)) add(el, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
        else this.problem(c.path, 'unexpected element in sensorElement');
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
      else if (isStandard(c) && c.local === 'reason') out[c.local] = word('errorReason', c.text);
      else if (isStandard(c) && c.local === 'correctiveEventIDs') out['correctiveEventIDs'] = this.epcs(c, 'correctiveEventID');
      else if (!isStandard(c)) add(out, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
      else this.problem(c.path, 'unexpected element in errorDeclaration');
    }
    return out;
  }

  private persistentDisposition(n: XNode): JsonObject {
    const out: JsonObject = {};
    for (const c of this.flat(n)) {
      if (isStandard(c) && (c.local === 'set' || c.local === 'unset')) {
        const list = (out[c.local] as string[] | undefined) ?? [];
        list.push(word('disposition', c.text));
        out[c.local] = list;
      } else if (!isStandard(c)) add(out, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
      else this.problem(c.path, 'unexpected element in persistentDisposition');
    }
    return out;
  }

  private objectOfExtensions(n: XNode): JsonObject {
    const out: JsonObject = {};
    for (const c of this.flat(n)) {
      if (!isStandard(c)) add(out, this.extKey(c.ns, c.prefix, c.local), this.extension(c));
      else this.problem(c.path, `unexpected unqualified element in ${n.local} (its fields must be namespaced)`);
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
        this.problem(c.path, `${f} given twice`);
        continue;
      }
      if (VOCAB_FIELDS[f] !== undefined) e[f] = word(VOCAB_FIELDS[f] as VocabularyKind, c.text);
      else if (STRING_FIELDS.has(f)) e[f] = c.text;
      else if (EPC_LISTS.has(f)) e[f] = this.epcs(c, 'epc');
      else if (QUANTITY_LISTS.has(f)) e[f] = this.quantities(c);
      else if (PAIR_LISTS[f] !== undefined) e[f] = this.pairs(c, PAIR_LISTS[f] as string);
      else if (f === 'readPoint' || f === 'bizLocation') e[f] = this.place(c);
      else if (f === 'sensorElementList') e[f] = this.sensorElements(c);
      else if (f === 'errorDeclaration') e[f] = this.errorDeclaration(c);
      else if (f === 'persistentDisposition') e[f] = this.persistentDisposition(c);
      else if (f === 'ilmd') e[f] = this.objectOfExtensions(c);
      else this.problem(c.path, `${f} is not a field of ${n.local}`);
    }
    return e;
  }

  eventList(n: XNode): JsonObject[] {
    const out: JsonObject[] = [];
    for (const c of this.flat(n)) {
      if (isStandard(c) && EVENT_TYPES.has(c.local)) out.push(this.event(c));
      else if (isStandard(c) && c.local === 'QuantityEvent') this.problem(c.path, 'QuantityEvent (EPCIS 1.x, deprecated) has no EPCIS 2.0 form; send an ObjectEvent with a quantityList');
      else this.problem(c.path, `${c.local} is not an EPCIS event`);
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

/** Prefixes that text and attribute values start with (`example:x`, `gs1:MT-Speed`). */
function valuePrefixes(n: XNode, into: Set<string>): Set<string> {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]*):/.exec(n.text);
  if (m !== null) into.add(m[1] as string);
  for (const a of n.attrs) {
    const am = /^([A-Za-z_][A-Za-z0-9_.-]*):/.exec(a.value);
    if (am !== null) into.add(am[1] as string);
  }
  for (const c of n.children) valuePrefixes(c, into);
  return into;
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
  const root = parseTree(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const isDoc = root.local === 'EPCISDocument' && (root.ns === EPCIS_NS_2 || root.ns === EPCIS_NS_1);
  const isQuery = root.local === 'EPCISQueryDocument' && (root.ns === EPCIS_QUERY_NS_2 || root.ns === EPCIS_QUERY_NS_1);
  if (!isDoc && !isQuery) {
    fail(root.path, `the root must be EPCISDocument (${EPCIS_NS_2}) or EPCISQueryDocument (${EPCIS_QUERY_NS_2}), got {${root.ns}}${root.local}`);
  }
  const v2 = root.ns === EPCIS_NS_2 || root.ns === EPCIS_QUERY_NS_2;
  const m = new Mapper(valuePrefixes(root, new Set()));
  const ignore = ignoreFields(root, m);
  const body = child(root, 'EPCISBody');
  const doc: JsonObject = {};
  let events: JsonObject[] = [];
  let queryResults: JsonObject | undefined;
  if (isDoc) {
    if (body === undefined) fail(root.path, 'EPCISBody is missing');
    const list = child(body, 'EventList');
    events = list === undefined ? [] : m.eventList(list);
  } else {
    // EPCISBody/QueryResults; some producers put QueryResults' content under the root.
    const qr = body !== undefined ? body.children.find((c) => c.local === 'QueryResults' && (c.ns === '' || c.ns === root.ns)) : child(root, 'resultsBody') !== undefined ? root : undefined;
    if (qr === undefined) fail(body?.path ?? root.path, body === undefined ? 'EPCISBody is missing' : 'QueryResults is missing');
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
  const created = root.attrs.find((a) => a.ns === '' && a.local === 'creationDate');
  if (created !== undefined) doc['creationDate'] = created.value;
  if (isDoc) {
    if (ignore !== undefined) doc[ignore[0]] = ignore[1];
    doc['epcisBody'] = { eventList: events };
  } else {
    doc['epcisBody'] = { queryResults: { ...queryResults, ...(ignore !== undefined ? { [ignore[0]]: ignore[1] } : {}), resultsBody: { eventList: events } } };
  }
  return { doc, schemaVersion: v2 ? '2.0' : '1.x' };
}
