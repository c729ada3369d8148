/**
 * Stored (self-contained JSON-LD) events → an EPCIS 2.0 XML `EPCISQueryDocument`, valid against
 * EPCglobal-epcis-query-2_0.xsd: standard fields in the XSD's sequence order, sensor data as
 * attributes, bare CBV words written as their web URIs (the same meaning, and the same event
 * hash), user extensions as namespaced elements declared on their event (from its @context).
 */
import { isObject, type JsonObject } from '../common/json.js';
import { prefixesOfContext } from './event-hash.js';
import { STANDARD_PREFIXES, vocabularyWords, type VocabularyKind } from './vocabulary.js';

const BASE = ['eventTime', 'recordTime', 'eventTimeZoneOffset', 'eventID', 'errorDeclaration', 'certificationInfo'];
const TAIL = ['sourceList', 'destinationList', 'sensorElementList', 'persistentDisposition'];
/** The XSD's sequence of each event type after the base fields. */
const ORDER: Readonly<Record<string, readonly string[]>> = {
  ObjectEvent: ['epcList', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', 'quantityList', ...TAIL, 'ilmd'],
  AggregationEvent: ['parentID', 'childEPCs', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', 'childQuantityList', ...TAIL],
  TransactionEvent: ['bizTransactionList', 'parentID', 'epcList', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'quantityList', ...TAIL],
  TransformationEvent: ['inputEPCList', 'inputQuantityList', 'outputEPCList', 'outputQuantityList', 'transformationID', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', ...TAIL, 'ilmd'],
  AssociationEvent: ['parentID', 'childEPCs', 'childQuantityList', 'action', 'bizStep', 'disposition', 'readPoint', 'bizLocation', 'bizTransactionList', ...TAIL],
};
const EPC_LISTS = new Set(['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList']);
const QUANTITY_LISTS = new Set(['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']);
const PAIR_LISTS: Readonly<Record<string, [string, VocabularyKind]>> = {
  bizTransactionList: ['bizTransaction', 'bizTransactionType'],
  sourceList: ['source', 'sourceDestType'],
  destinationList: ['destination', 'sourceDestType'],
};
const VOCAB_FIELDS: Readonly<Record<string, VocabularyKind>> = { bizStep: 'bizStep', disposition: 'disposition' };
const SENSOR_VOCAB: Readonly<Record<string, VocabularyKind>> = { type: 'measurementType', exception: 'sensorAlertType', component: 'component' };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;')).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function vocab(kind: VocabularyKind, v: unknown): string {
  const s = text(v);
  return vocabularyWords(kind).get(s) ?? s;
}

/** Writes one event; collects the namespaces its extensions use. */
class EventWriter {
  private readonly out: string[] = [];
  /** Namespace → prefix declared on the event element. */
  private readonly declared = new Map<string, string>();

  constructor(private readonly prefixes: ReadonlyMap<string, string>) {}

  private qname(key: string): string {
    const i = key.indexOf(':');
    if (i > 0 && !key.includes('/')) {
      const p = key.slice(0, i);
      // The event's own prefixes, then the EPCIS context's (cbvmda:, gs1:, …); a prefix declared
      // nowhere (the validator lets JSON-LD keys through as written) gets a namespace naming it.
      const ns = this.prefixes.get(p) ?? STANDARD_PREFIXES.get(p) ?? `urn:tracechain:undeclared-prefix:${p}:`;
      return this.declare(ns, p, key.slice(i + 1));
    }
    const cut = Math.max(key.lastIndexOf('/'), key.lastIndexOf('#'));
    if (cut > 0 && /^[a-z][a-z0-9+.-]*:/i.test(key)) return this.declare(key.slice(0, cut + 1), 'ext', key.slice(cut + 1));
    return key;
  }

  private declare(ns: string, wanted: string, local: string): string {
    let p = this.declared.get(ns);
    if (p === undefined) {
      const taken = new Set(this.declared.values());
      p = /^[A-Za-z_][\w.-]*$/.test(wanted) && !/^xml/i.test(wanted) ? wanted : 'ext';
      if (taken.has(p)) {
        let n = 1;
        while (taken.has(`${p}${n}`)) n++;
        p = `${p}${n}`;
      }
      this.declared.set(ns, p);
    }
    return `${p}:${local}`;
  }

  private leaf(name: string, value: string): void {
    this.out.push(`<${name}>${escapeXml(value)}</${name}>`);
  }

  /** A user extension member (any JSON value) as element(s). */
  private extension(key: string, value: unknown): void {
    if (Array.isArray(value)) {
      for (const v of value) this.extension(key, v);
      return;
    }
    const name = this.qname(key);
    if (isObject(value)) {
      this.out.push(`<${name}>`);
      const t = value['#text'];
      if (t !== undefined) this.out.push(escapeXml(text(t)));
      for (const [k, v] of Object.entries(value)) if (k !== '#text' && k !== '@context') this.extension(k, v);
      this.out.push(`</${name}>`);
    } else this.leaf(name, text(value));
  }

  private extensionsOf(obj: JsonObject, known: ReadonlySet<string>): void {
    for (const [k, v] of Object.entries(obj)) if (!known.has(k) && k !== '@context' && k !== 'type') this.extension(k, v);
  }

  private attrs(obj: JsonObject, vocabOf: Readonly<Record<string, VocabularyKind>>): string {
    let s = '';
    for (const [k, v] of Object.entries(obj)) {
      if (k === '@context' || isObject(v) || Array.isArray(v)) continue;
      const kind = vocabOf[k];
      s += ` ${this.qname(k)}="${escapeXml(kind !== undefined ? vocab(kind, v) : text(v))}"`;
    }
    return s;
  }

  private field(name: string, v: unknown): void {
    if (EPC_LISTS.has(name) && Array.isArray(v)) {
      this.out.push(`<${name}>`);
      for (const e of v) this.leaf('epc', text(e));
      this.out.push(`</${name}>`);
    } else if (QUANTITY_LISTS.has(name) && Array.isArray(v)) {
      this.out.push(`<${name}>`);
      for (const q of v) {
        if (!isObject(q)) continue;
        this.out.push('<quantityElement>');
        this.leaf('epcClass', text(q['epcClass']));
        if (q['quantity'] !== undefined) this.leaf('quantity', text(q['quantity']));
        if (q['uom'] !== undefined) this.leaf('uom', text(q['uom']));
        this.out.push('</quantityElement>');
      }
      this.out.push(`</${name}>`);
    } else if (PAIR_LISTS[name] !== undefined && Array.isArray(v)) {
      const [item, kind] = PAIR_LISTS[name] as [string, VocabularyKind];
      this.out.push(`<${name}>`);
      for (const p of v) {
        if (!isObject(p)) continue;
        const type = p['type'] !== undefined ? ` type="${escapeXml(vocab(kind, p['type']))}"` : '';
        this.out.push(`<${item}${type}>${escapeXml(text(p[item]))}</${item}>`);
      }
      this.out.push(`</${name}>`);
    } else if ((name === 'readPoint' || name === 'bizLocation') && isObject(v)) {
      this.out.push(`<${name}>`);
      this.leaf('id', text(v['id']));
      this.extensionsOf(v, new Set(['id']));
      this.out.push(`</${name}>`);
    } else if (name === 'sensorElementList' && Array.isArray(v)) {
      this.out.push('<sensorElementList>');
      for (const se of v) {
        if (!isObject(se)) continue;
        this.out.push('<sensorElement>');
        const md = se['sensorMetadata'];
        if (isObject(md)) this.out.push(`<sensorMetadata${this.attrs(md, {})}/>`);
        const reports = se['sensorReport'];
        if (Array.isArray(reports)) for (const r of reports) if (isObject(r)) this.out.push(`<sensorReport${this.attrs(r, SENSOR_VOCAB)}/>`);
        this.extensionsOf(se, new Set(['sensorMetadata', 'sensorReport']));
        this.out.push('</sensorElement>');
      }
      this.out.push('</sensorElementList>');
    } else if (name === 'persistentDisposition' && isObject(v)) {
      this.out.push('<persistentDisposition>');
      for (const k of ['unset', 'set']) {
        const list = v[k];
        if (Array.isArray(list)) for (const d of list) this.leaf(k, vocab('disposition', d));
      }
      this.out.push('</persistentDisposition>');
    } else if (name === 'errorDeclaration' && isObject(v)) {
      this.out.push('<errorDeclaration>');
      this.leaf('declarationTime', text(v['declarationTime']));
      if (v['reason'] !== undefined) this.leaf('reason', vocab('errorReason', v['reason']));
      const ids = v['correctiveEventIDs'];
      if (Array.isArray(ids)) {
        this.out.push('<correctiveEventIDs>');
        for (const id of ids) this.leaf('correctiveEventID', text(id));
        this.out.push('</correctiveEventIDs>');
      }
      this.extensionsOf(v, new Set(['declarationTime', 'reason', 'correctiveEventIDs']));
      this.out.push('</errorDeclaration>');
    } else if (name === 'ilmd' && isObject(v)) {
      this.out.push('<ilmd>');
      this.extensionsOf(v, new Set());
      this.out.push('</ilmd>');
    } else {
      const kind = VOCAB_FIELDS[name];
      this.leaf(name, kind !== undefined ? vocab(kind, v) : text(v));
    }
  }

  write(event: JsonObject): string {
    const type = text(event['type']);
    const order = ORDER[type] ?? [];
    const known = new Set([...BASE, ...order]);
    for (const f of [...BASE, ...order]) if (event[f] !== undefined) this.field(f, event[f]);
    this.extensionsOf(event, known);
    let ns = '';
    for (const [uri, p] of this.declared) ns += ` xmlns:${p}="${escapeXml(uri)}"`;
    return `<${type}${ns}>${this.out.join('')}</${type}>`;
  }
}

/** One stored event as an EPCIS 2.0 XML event element. */
export function eventToXml(event: JsonObject): string {
  return new EventWriter(prefixesOfContext(event['@context'])).write(event);
}

/** An EPCISQueryDocument (SimpleEventQuery results) of stored events. */
export function queryDocumentXml(events: readonly JsonObject[], creationDate: string, queryName = 'SimpleEventQuery'): string {
  const body = events.map(eventToXml).join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<epcisq:EPCISQueryDocument xmlns:epcisq="urn:epcglobal:epcis-query:xsd:2" schemaVersion="2.0" creationDate="${escapeXml(creationDate)}">` +
    `<EPCISBody><epcisq:QueryResults><queryName>${escapeXml(queryName)}</queryName><resultsBody><EventList>${body}</EventList></resultsBody></epcisq:QueryResults></EPCISBody>` +
    '</epcisq:EPCISQueryDocument>'
  );
}

/** An EPCISDocument (for capture) of events, in EPCIS 2.0 XML. */
export function epcisDocumentXml(events: readonly JsonObject[], creationDate: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="${escapeXml(creationDate)}">` +
    `<EPCISBody><EventList>${events.map(eventToXml).join('')}</EventList></EPCISBody></epcis:EPCISDocument>`
  );
}
