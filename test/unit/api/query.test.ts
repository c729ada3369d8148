import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, isQueryParameter, matches, MAX_COVER_TERMS, parseQuery, QUERY_PARAMS, timeCover } from '../../../src/api/query.js';
import { FAMILY_NAMES } from '../../../src/api/query-families.js';
import { queryTermsOf } from '../../../src/trace/query-terms.js';
import { HttpProblem } from '../../../src/api/problem.js';
import { eventIdOf } from '../../../src/trace/index.js';

const event = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
  type: 'ObjectEvent',
  eventTime: '2024-05-01T10:00:00Z',
  epcList: ['urn:epc:id:sgtin:0614141.107346.2017'],
  action: 'OBSERVE',
  bizStep: 'shipping',
  disposition: 'in_transit',
  bizLocation: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
};

describe('EPCIS query parameters', () => {
  it('match EPC URN and Digital Link alike, CBV words and URIs alike', () => {
    expect(matches(parseQuery({ MATCH_epc: 'https://id.gs1.org/01/10614141073464/21/2017' }), event)).toBe(true);
    expect(matches(parseQuery({ MATCH_anyEPC: 'urn:epc:id:sgtin:0614141.107346.9|urn:epc:id:sgtin:0614141.107346.2017' }), event)).toBe(true);
    expect(matches(parseQuery({ MATCH_epc: 'urn:epc:id:sgtin:0614141.107346.9' }), event)).toBe(false);
    expect(matches(parseQuery({ EQ_bizStep: 'urn:epcglobal:cbv:bizstep:shipping' }), event)).toBe(true);
    expect(matches(parseQuery({ EQ_bizStep: ['receiving', 'https://ref.gs1.org/cbv/BizStep-shipping'] }), event)).toBe(true);
    expect(matches(parseQuery({ EQ_disposition: 'active' }), event)).toBe(false);
    expect(matches(parseQuery({ EQ_bizLocation: 'urn:epc:id:sgln:0614141.07346.1234' }), event)).toBe(true);
    expect(matches(parseQuery({ eventType: 'AggregationEvent' }), event)).toBe(false);
    expect(matches(parseQuery({ GE_eventTime: '2024-05-01T10:00:00Z', LT_eventTime: '2024-05-01T10:00:01Z' }), event)).toBe(true);
    expect(matches(parseQuery({ LT_eventTime: '2024-05-01T12:00:00+02:00' }), event)).toBe(false);
  });

  it('uses the history index only when every EPC value is a GS1 key', () => {
    expect(parseQuery({ MATCH_anyEPC: 'urn:epc:id:sgtin:0614141.107346.2017' }).indexKeys).toEqual(['https://id.gs1.org/01/10614141073464/21/2017']);
    expect(parseQuery({ MATCH_anyEPC: 'urn:example:thing:1' }).indexKeys).toBeUndefined();
    expect(parseQuery({}).indexKeys).toBeUndefined();
  });

  it('refuses bad values and tokens of another query', () => {
    expect(() => parseQuery({ GE_eventTime: 'yesterday' })).toThrow(HttpProblem);
    expect(() => parseQuery({ perPage: 0 })).toThrow(HttpProblem);
    const q = parseQuery({ EQ_bizStep: 'shipping' });
    const hash = 'ab'.repeat(32);
    const token = encodePageToken(q.fingerprint, { height: 5, txIndex: 1, eventIndex: 2 }, hash);
    expect(decodePageToken(token, q.fingerprint)).toEqual({ height: 5, txIndex: 1, eventIndex: 2, hash, given: 0 });
    expect(() => decodePageToken(token, parseQuery({ EQ_bizStep: 'receiving' }).fingerprint)).toThrow(/other parameters/);
    expect(() => decodePageToken('garbage!', q.fingerprint)).toThrow(HttpProblem);
  });
});

// ---------------------------------------------------------------------------------------------
// Every parameter against a brute-force filter written here, over random corpora (property).

// The last two: another company prefix, and a Digital Link (GTIN 10614141073464 = 0614141.107346).
const SGTIN = ['urn:epc:id:sgtin:0614141.107346.1', 'urn:epc:id:sgtin:0614141.107346.2', 'urn:epc:id:sgtin:0614141.107346.3', 'urn:epc:id:sgtin:0614141.107346.4', 'urn:epc:id:sgtin:0614141.107347.5', 'urn:epc:id:sgtin:0614142.107346.6', 'https://id.gs1.org/01/10614141073464/21/77'];
/** EPC patterns of one class (every instance of that GTIN), of a company prefix, of a scheme. */
const PATTERNS = ['urn:epc:idpat:sgtin:0614141.107346.*', 'urn:epc:idpat:sgtin:0614141.107347.*', 'urn:epc:idpat:sgtin:0614141.*.*', 'urn:epc:idpat:sgtin:0614142.*.*', 'urn:epc:idpat:sgtin:*.*.*'];
const SSCC = ['urn:epc:id:sscc:0614141.1234567890', 'urn:epc:id:sscc:0614142.1234567891'];
const SSCC_PATTERNS = ['urn:epc:idpat:sscc:0614141.*', 'urn:epc:idpat:sscc:*.*'];
const CLASSES = ['urn:epc:class:lgtin:0614141.107346.LOT1', 'urn:epc:class:lgtin:0614141.107346.LOT2', 'urn:epc:class:lgtin:0614141.107347.LOT1', 'urn:epc:class:lgtin:0614142.107346.LOT1', 'https://id.gs1.org/01/10614141073464/10/LOT9'];
const CLASS_PATTERNS = ['urn:epc:idpat:sgtin:0614141.*.*', 'urn:epc:idpat:sgtin:*.*.*'];
/** Each EPC's and class's company prefix and item reference, written out by hand. */
const KEY_PARTS: Record<string, { cp: string; ir?: string }> = {
  'urn:epc:id:sgtin:0614141.107346.1': { cp: '0614141', ir: '107346' },
  'urn:epc:id:sgtin:0614141.107346.2': { cp: '0614141', ir: '107346' },
  'urn:epc:id:sgtin:0614141.107346.3': { cp: '0614141', ir: '107346' },
  'urn:epc:id:sgtin:0614141.107346.4': { cp: '0614141', ir: '107346' },
  'urn:epc:id:sgtin:0614141.107347.5': { cp: '0614141', ir: '107347' },
  'urn:epc:id:sgtin:0614142.107346.6': { cp: '0614142', ir: '107346' },
  'https://id.gs1.org/01/10614141073464/21/77': { cp: '0614141', ir: '107346' },
  'urn:epc:id:sscc:0614141.1234567890': { cp: '0614141' },
  'urn:epc:id:sscc:0614142.1234567891': { cp: '0614142' },
  'urn:epc:class:lgtin:0614141.107346.LOT1': { cp: '0614141' },
  'urn:epc:class:lgtin:0614141.107346.LOT2': { cp: '0614141' },
  'urn:epc:class:lgtin:0614141.107347.LOT1': { cp: '0614141' },
  'urn:epc:class:lgtin:0614142.107346.LOT1': { cp: '0614142' },
  'https://id.gs1.org/01/10614141073464/10/LOT9': { cp: '0614141' },
};
const SGLN = ['urn:epc:id:sgln:0614141.07346.1', 'urn:epc:id:sgln:0614141.07346.2', 'urn:epc:id:sgln:0614141.07346.3'];
const PGLN = ['urn:epc:id:pgln:0614141.00001', 'urn:epc:id:pgln:0614141.00002'];
const STEPS = ['shipping', 'receiving', 'packing', 'commissioning'];
const DISPS = ['in_transit', 'in_progress', 'active'];
const BTS = ['urn:epcglobal:cbv:bt:0614141073467:1', 'urn:epcglobal:cbv:bt:0614141073467:2'];
const TIMES = ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z', '2024-01-04T00:00:00Z'];
const REASONS = ['incorrect_data', 'did_not_occur'];
const CORRECTIVE = ['urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'ni:///sha-256;c6407ffcac52ec159528f2b556ba4ac3844c5aa48485c1fd61643e94f0a2d678?ver=CBV2.0'];

type Ev = Record<string, unknown> & { id: string };

const sub = <T>(xs: readonly T[]): fc.Arbitrary<T[]> => fc.subarray([...xs], { minLength: 1 });
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const qty = (classes: string[], n = 1, uom?: string): Record<string, unknown>[] => classes.map((c, i) => ({ epcClass: c, quantity: ((n + i) % 5) + 1, ...(uom !== undefined ? { uom } : {}) }));

const DEVICES = ['urn:epc:id:giai:4000001.111', 'https://id.gs1.org/8004/4000001111', 'urn:epc:id:giai:4000001.112'];
const URIS = ['https://example.org/1', 'https://example.org/2'];
const MEASUREMENT_TYPES = ['Temperature', 'gs1:Temperature', 'Humidity', 'example:Abc'];
/** Sensor readings in units of one quantity (and one of another): CEL, FAH and KEL convert into each other. */
const reportArb = fc
  .record({
    type: fc.constantFrom(...MEASUREMENT_TYPES),
    c: fc.integer({ min: 0, max: 40 }),
    uom: fc.constantFrom('CEL', 'FAH', 'KEL', 'P1', undefined),
    deviceID: opt(fc.constantFrom(...DEVICES)),
    time: opt(fc.constantFrom(...TIMES)),
    percRank: opt(fc.integer({ min: 0, max: 100 })),
    stringValue: opt(fc.constantFrom('s1', 's2')),
    booleanValue: opt(fc.boolean()),
    hexBinaryValue: opt(fc.constantFrom('f0f0', 'F0F0', 'abcd')),
    uriValue: opt(fc.constantFrom(...URIS)),
    microorganism: opt(fc.constantFrom(...URIS)),
    chemicalSubstance: opt(fc.constantFrom(...URIS)),
    dataProcessingMethod: opt(fc.constantFrom(...URIS)),
    cv: opt(fc.constantFrom('x', 'y')),
  })
  .map((r) => {
    // The same temperature written in the report's unit.
    const value = r.uom === 'FAH' ? (r.c * 9) / 5 + 32 : r.uom === 'KEL' ? r.c + 273.15 : r.c;
    const out: Record<string, unknown> = { type: r.type, value, minValue: value, maxValue: value };
    if (r.uom !== undefined) out['uom'] = r.uom;
    for (const k of ['deviceID', 'time', 'percRank', 'stringValue', 'booleanValue', 'hexBinaryValue', 'uriValue', 'microorganism', 'chemicalSubstance', 'dataProcessingMethod'] as const) if (r[k] !== undefined) out[k] = r[k];
    if (r.cv !== undefined) out['example:cv'] = r.cv;
    return out;
  });
const metadataArb = fc.record(
  { time: fc.constantFrom(...TIMES), startTime: fc.constantFrom(...TIMES), endTime: fc.constantFrom(...TIMES), deviceID: fc.constantFrom(...DEVICES), bizRules: fc.constantFrom(...URIS), dataProcessingMethod: fc.constantFrom(...URIS), 'example:meta': fc.constantFrom('m1', 'm2') },
  { requiredKeys: [] },
);
const sensorElementArb = fc
  .record({ sensorMetadata: opt(metadataArb), sensorReport: fc.array(reportArb, { minLength: 1, maxLength: 2 }), el: opt(fc.constantFrom('e1', 'e2')) })
  .map((s) => ({ ...(s.sensorMetadata ? { sensorMetadata: s.sensorMetadata } : {}), sensorReport: s.sensorReport, ...(s.el !== undefined ? { 'example:el': s.el } : {}) }));

const evArb: fc.Arbitrary<Ev> = fc
  .record({
    type: fc.constantFrom('ObjectEvent', 'AggregationEvent', 'TransformationEvent'),
    epcs: sub(SGTIN),
    outs: sub(SGTIN),
    parent: fc.constantFrom(...SSCC),
    classes: opt(sub(CLASSES)),
    outClasses: opt(sub(CLASSES)),
    action: fc.constantFrom('ADD', 'OBSERVE', 'DELETE'),
    bizStep: opt(fc.constantFrom(...STEPS)),
    disposition: opt(fc.constantFrom(...DISPS)),
    readPoint: opt(fc.constantFrom(...SGLN)),
    bizLocation: opt(fc.constantFrom(...SGLN)),
    bt: opt(fc.tuple(fc.constantFrom('po', 'inv'), fc.constantFrom(...BTS))),
    source: opt(fc.tuple(fc.constantFrom('owning_party', 'possessing_party'), fc.constantFrom(...PGLN))),
    ilmd: fc.boolean(),
    tid: opt(fc.constantFrom('t1', 't2')),
    time: fc.integer({ min: Date.parse(TIMES[0] as string), max: Date.parse(TIMES[3] as string) }),
    n: fc.nat(),
    q: fc.nat({ max: 4 }),
    lot: fc.constantFrom('LOT1', 'LOT2'),
    temp: opt(fc.integer({ min: 0, max: 40 })),
    rt: fc.integer({ min: Date.parse(TIMES[0] as string), max: Date.parse(TIMES[3] as string) }),
    declared: opt(fc.record({ reason: opt(fc.constantFrom(...REASONS)), time: fc.constantFrom(...TIMES), corrective: fc.subarray([...CORRECTIVE]) })),
    edNote: opt(fc.constantFrom('n1', 'n2')),
    sensors: opt(fc.array(sensorElementArb, { minLength: 1, maxLength: 2 })),
    pd: opt(fc.record({ set: opt(sub(DISPS)), unset: opt(sub(DISPS)) })),
    quantityUom: fc.constantFrom(undefined, 'KGM', 'GRM'),
    inner: opt(fc.record({ a: fc.integer({ min: 0, max: 9 }), b: opt(fc.integer({ min: 0, max: 9 })) })),
    ilmdInner: opt(fc.integer({ min: 0, max: 9 })),
    dock: opt(fc.constantFrom('d1', 'd2')),
  })
  .map((r) => {
    // rt: the record time the test hands to matches (the block time); not an event field.
    const e: Ev = { id: `ni:///sha-256;${r.n.toString(16).padStart(64, '0')}?ver=CBV2.0`, rt: r.rt, type: r.type, eventTime: new Date(r.time).toISOString(), eventTimeZoneOffset: '+00:00' };
    if (r.temp !== undefined) e['example:temp'] = r.temp;
    // Nested extension fields (INNER_): a number as XML gives it (text), and one deeper in a list.
    if (r.inner) e['example:ext'] = { 'example:wrap': { 'example:inner': String(r.inner.a) }, ...(r.inner.b !== undefined ? { 'example:list': [{ 'example:inner': r.inner.b }] } : {}) };
    if (r.sensors) e['sensorElementList'] = r.sensors;
    if (r.pd && (r.pd.set || r.pd.unset)) e['persistentDisposition'] = { ...(r.pd.set ? { set: r.pd.set } : {}), ...(r.pd.unset ? { unset: r.pd.unset } : {}) };
    if (r.type === 'ObjectEvent') {
      e['epcList'] = r.epcs;
      e['action'] = r.action;
      if (r.classes) e['quantityList'] = qty(r.classes, r.q, r.quantityUom);
      if (r.ilmd) e['ilmd'] = { 'cbvmda:lotNumber': r.lot, ...(r.ilmdInner !== undefined ? { 'example:lotInfo': { 'example:inner': r.ilmdInner } } : {}) };
    } else if (r.type === 'AggregationEvent') {
      e['parentID'] = r.parent;
      e['childEPCs'] = r.epcs;
      e['action'] = r.action;
      if (r.classes) e['childQuantityList'] = qty(r.classes, r.q);
    } else {
      e['inputEPCList'] = r.epcs;
      e['outputEPCList'] = r.outs;
      if (r.classes) e['inputQuantityList'] = qty(r.classes, r.q);
      if (r.outClasses) e['outputQuantityList'] = qty(r.outClasses, r.q + 2);
      if (r.tid) e['transformationID'] = r.tid;
    }
    if (r.bizStep) e['bizStep'] = r.bizStep;
    if (r.disposition) e['disposition'] = r.disposition;
    if (r.readPoint) e['readPoint'] = { id: r.readPoint, ...(r.dock !== undefined ? { 'example:dock': r.dock } : {}) };
    if (r.bizLocation) e['bizLocation'] = { id: r.bizLocation };
    if (r.bt) e['bizTransactionList'] = [{ type: r.bt[0], bizTransaction: r.bt[1] }];
    if (r.source) e['sourceList'] = [{ type: r.source[0], source: r.source[1] }];
    if (r.declared) {
      e['errorDeclaration'] = {
        declarationTime: r.declared.time,
        ...(r.declared.reason ? { reason: r.declared.reason } : {}),
        ...(r.declared.corrective.length > 0 ? { correctiveEventIDs: r.declared.corrective } : {}),
        ...(r.edNote !== undefined ? { 'example:note': r.edNote } : {}),
      };
    }
    return e;
  });

const list = (e: Ev, k: string): string[] => (Array.isArray(e[k]) ? (e[k] as string[]) : []);
const classesOf = (e: Ev, ks: string[]): string[] => ks.flatMap((k) => (Array.isArray(e[k]) ? (e[k] as { epcClass: string }[]).map((q) => q.epcClass) : []));
const some = (xs: string[], vs: string[]): boolean => xs.some((x) => vs.includes(x));
/** The scheme of a corpus EPC. */
const schemeOf = (x: string): string => (x.includes(':sscc:') ? 'sscc' : 'sgtin');
/** Whether an EPC is an instance a pattern names: `…:CP.IR.*` its class, `…:CP.*.*` / `sscc:CP.*` its company, `…:*.*.*` its scheme (KEY_PARTS, by hand). */
const inPattern = (x: string, v: string): boolean => {
  const m = /^urn:epc:idpat:(sgtin|sscc):(.*)$/.exec(v);
  const parts = KEY_PARTS[x];
  if (m === null || parts === undefined || schemeOf(x) !== m[1]) return false;
  const [cp, ir] = (m[2] as string).split('.');
  return (cp === '*' || cp === parts.cp) && (ir === undefined || ir === '*' || ir === parts.ir);
};
/** An EPC among the values, or an instance of a pattern among them. */
const epcIn = (x: string, vs: string[]): boolean => vs.includes(x) || vs.some((v) => inPattern(x, v));
/** A class among the values, or a class of trade items of a company-prefix or scheme pattern among them. */
const classIn = (c: string, vs: string[]): boolean => vs.includes(c) || vs.some((v) => v.endsWith('.*.*') && (v === 'urn:epc:idpat:sgtin:*.*.*' || v === `urn:epc:idpat:sgtin:${KEY_PARTS[c]?.cp}.*.*`));
const someClass = (xs: string[], vs: string[]): boolean => xs.some((x) => classIn(x, vs));
type Obj = Record<string, unknown>;
const objs = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const reports = (e: Ev): Obj[] => objs(e['sensorElementList']).flatMap((el) => objs(el['sensorReport']));
const metadata = (e: Ev): Obj[] => objs(e['sensorElementList']).flatMap((el) => (el['sensorMetadata'] !== undefined ? [el['sensorMetadata'] as Obj] : []));
/** Every value of a field named `name` at any depth below `v`. */
const deep = (v: unknown, name: string): unknown[] => {
  if (Array.isArray(v)) return v.flatMap((x) => deep(x, name));
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => [...(k === name ? [x] : []), ...deep(x, name)]);
};
/** Nested (INNER_) values of a field inside an object's extension fields. */
const innerOf = (o: unknown, name: string): unknown[] => (typeof o === 'object' && o !== null ? Object.entries(o).filter(([k]) => k.includes(':')).flatMap(([, x]) => deep(x, name)) : []);
/** A temperature in CEL, from CEL, FAH or KEL. */
const celsius = (r: Obj): number | undefined => {
  const v = r['value'] as number;
  return r['uom'] === 'CEL' ? v : r['uom'] === 'FAH' ? ((v - 32) * 5) / 9 : r['uom'] === 'KEL' ? v - 273.15 : undefined;
};
const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;
const kilograms = (q: Obj): number | undefined => (q['uom'] === 'KGM' ? (q['quantity'] as number) : q['uom'] === 'GRM' ? (q['quantity'] as number) / 1000 : undefined);
const quantityEls = (e: Ev): Obj[] => ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'].flatMap((k) => objs(e[k]));
const sameDevice = (a: unknown, b: string): boolean => {
  const id = (x: unknown): unknown => (x === 'https://id.gs1.org/8004/4000001111' ? 'urn:epc:id:giai:4000001.111' : x);
  return id(a) === id(b);
};
const bareType = (t: unknown): unknown => (typeof t === 'string' ? t.replace(/^(gs1:|https:\/\/gs1\.org\/voc\/)/, '') : t);
const bareDisp = (d: string): string => d.replace(/^urn:epcglobal:cbv:disp:/, '');
const sensorTime = (e: Ev, field: string, test: (t: number) => boolean): boolean => [...metadata(e), ...reports(e)].some((p) => typeof p[field] === 'string' && test(Date.parse(p[field] as string)));
const someEpc = (xs: string[], vs: string[]): boolean => xs.some((x) => epcIn(x, vs));
const idOfPlace = (v: unknown): string | undefined => (v as { id?: string } | undefined)?.id;
const quantities = (e: Ev): number[] => classesOfQ(e).map((q) => q.quantity);
const classesOfQ = (e: Ev): { quantity: number }[] => ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'].flatMap((k) => (Array.isArray(e[k]) ? (e[k] as { quantity: number }[]) : []));
const typed = (e: Ev, l: string, m: string, type: string, vs: string[]): boolean => (Array.isArray(e[l]) ? (e[l] as Record<string, string>[]) : []).some((x) => x['type'] === type && vs.includes(x[m] as string));

/** The brute-force meaning of each parameter, on the corpus' own forms (URNs, CBV words). */
const BRUTE: Record<string, (e: Ev, vs: string[]) => boolean> = {
  MATCH_epc: (e, vs) => someEpc([...list(e, 'epcList'), ...list(e, 'childEPCs')], vs),
  MATCH_anyEPC: (e, vs) => someEpc([...list(e, 'epcList'), ...list(e, 'childEPCs'), ...list(e, 'inputEPCList'), ...list(e, 'outputEPCList'), ...(typeof e['parentID'] === 'string' ? [e['parentID']] : [])], vs),
  MATCH_parentID: (e, vs) => typeof e['parentID'] === 'string' && epcIn(e['parentID'], vs),
  MATCH_inputEPC: (e, vs) => someEpc(list(e, 'inputEPCList'), vs),
  MATCH_outputEPC: (e, vs) => someEpc(list(e, 'outputEPCList'), vs),
  MATCH_epcClass: (e, vs) => someClass(classesOf(e, ['quantityList', 'childQuantityList']), vs),
  MATCH_inputEPCClass: (e, vs) => someClass(classesOf(e, ['inputQuantityList']), vs),
  MATCH_outputEPCClass: (e, vs) => someClass(classesOf(e, ['outputQuantityList']), vs),
  MATCH_anyEPCClass: (e, vs) => someClass(classesOf(e, ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']), vs),
  EQ_bizStep: (e, vs) => vs.includes(e['bizStep'] as string),
  EQ_disposition: (e, vs) => vs.includes(e['disposition'] as string),
  EQ_readPoint: (e, vs) => vs.includes(idOfPlace(e['readPoint']) as string),
  EQ_bizLocation: (e, vs) => vs.includes(idOfPlace(e['bizLocation']) as string),
  EQ_action: (e, vs) => vs.includes(e['action'] as string),
  EQ_transformationID: (e, vs) => vs.includes(e['transformationID'] as string),
  // An error declaration also has the ID of the event it declares: the hash of its content.
  EQ_eventID: (e, vs) => vs.includes(e.id) || (e['errorDeclaration'] !== undefined && vs.includes(eventIdOf(e))),
  EQ_errorReason: (e, vs) => vs.includes((e['errorDeclaration'] as { reason?: string } | undefined)?.reason as string),
  EQ_correctiveEventID: (e, vs) => some(list((e['errorDeclaration'] ?? { id: '' }) as Ev, 'correctiveEventIDs'), vs),
  GE_errorDeclaration_Time: (e, vs) => e['errorDeclaration'] !== undefined && Date.parse((e['errorDeclaration'] as { declarationTime: string }).declarationTime) >= Date.parse(vs[0] as string),
  LT_errorDeclaration_Time: (e, vs) => e['errorDeclaration'] !== undefined && Date.parse((e['errorDeclaration'] as { declarationTime: string }).declarationTime) < Date.parse(vs[0] as string),
  EXISTS_errorDeclaration: (e) => e['errorDeclaration'] !== undefined,
  eventType: (e, vs) => vs.includes(e['type'] as string),
  GE_eventTime: (e, vs) => Date.parse(e['eventTime'] as string) >= Date.parse(vs[0] as string),
  LT_eventTime: (e, vs) => Date.parse(e['eventTime'] as string) < Date.parse(vs[0] as string),
  EQ_bizTransaction_po: (e, vs) => typed(e, 'bizTransactionList', 'bizTransaction', 'po', vs),
  EQ_source_owning_party: (e, vs) => typed(e, 'sourceList', 'source', 'owning_party', vs),
  EXISTS_ilmd: (e) => e['ilmd'] !== undefined,
  EXISTS_disposition: (e) => e['disposition'] !== undefined,
  GE_recordTime: (e, vs) => (e['rt'] as number) >= Date.parse(vs[0] as string),
  LT_recordTime: (e, vs) => (e['rt'] as number) < Date.parse(vs[0] as string),
  // No location master data: a place has no descendants.
  WD_readPoint: (e, vs) => vs.includes(idOfPlace(e['readPoint']) as string),
  WD_bizLocation: (e, vs) => vs.includes(idOfPlace(e['bizLocation']) as string),
  EQ_quantity: (e, vs) => quantities(e).some((n) => n === Number(vs[0])),
  GT_quantity: (e, vs) => quantities(e).some((n) => n > Number(vs[0])),
  GE_quantity: (e, vs) => quantities(e).some((n) => n >= Number(vs[0])),
  LT_quantity: (e, vs) => quantities(e).some((n) => n < Number(vs[0])),
  LE_quantity: (e, vs) => quantities(e).some((n) => n <= Number(vs[0])),
  'EQ_ILMD_cbvmda:lotNumber': (e, vs) => vs.includes((e['ilmd'] as Record<string, string> | undefined)?.['cbvmda:lotNumber'] as string),
  'EXISTS_ILMD_cbvmda:lotNumber': (e) => (e['ilmd'] as Record<string, string> | undefined)?.['cbvmda:lotNumber'] !== undefined,
  'EQ_example:temp': (e, vs) => typeof e['example:temp'] === 'number' && vs.map(Number).includes(e['example:temp']),
  'GE_example:temp': (e, vs) => typeof e['example:temp'] === 'number' && e['example:temp'] >= Number(vs[0]),
  'LT_example:temp': (e, vs) => typeof e['example:temp'] === 'number' && e['example:temp'] < Number(vs[0]),
  // Extension fields nested in extension fields (INNER_), and at the other places the standard names.
  'EQ_INNER_example:inner': (e, vs) => innerOf(e, 'example:inner').some((v) => vs.map(Number).includes(Number(v))),
  'GE_INNER_example:inner': (e, vs) => innerOf(e, 'example:inner').some((v) => Number(v) >= Number(vs[0])),
  'EXISTS_INNER_example:inner': (e) => innerOf(e, 'example:inner').length > 0,
  'EQ_INNER_ILMD_example:inner': (e, vs) => innerOf(e['ilmd'], 'example:inner').some((v) => vs.map(Number).includes(Number(v))),
  'EQ_ERROR_DECLARATION_example:note': (e, vs) => vs.includes((e['errorDeclaration'] as Obj | undefined)?.['example:note'] as string),
  'EXISTS_ERROR_DECLARATION_example:note': (e) => (e['errorDeclaration'] as Obj | undefined)?.['example:note'] !== undefined,
  'EQ_SENSORELEMENT_example:el': (e, vs) => objs(e['sensorElementList']).some((el) => vs.includes(el['example:el'] as string)),
  'EXISTS_SENSORMETADATA_example:meta': (e) => metadata(e).some((m) => m['example:meta'] !== undefined),
  'EQ_SENSORMETADATA_example:meta': (e, vs) => metadata(e).some((m) => vs.includes(m['example:meta'] as string)),
  'EQ_SENSORREPORT_example:cv': (e, vs) => reports(e).some((r) => vs.includes(r['example:cv'] as string)),
  'EQ_readPoint_example:dock': (e, vs) => vs.includes((e['readPoint'] as Obj | undefined)?.['example:dock'] as string),
  // Sensor parameters.
  EXISTS_sensorElementList: (e) => e['sensorElementList'] !== undefined,
  GE_time: (e, vs) => sensorTime(e, 'time', (t) => t >= Date.parse(vs[0] as string)),
  LT_time: (e, vs) => sensorTime(e, 'time', (t) => t < Date.parse(vs[0] as string)),
  GE_startTime: (e, vs) => sensorTime(e, 'startTime', (t) => t >= Date.parse(vs[0] as string)),
  LT_startTime: (e, vs) => sensorTime(e, 'startTime', (t) => t < Date.parse(vs[0] as string)),
  GE_endTime: (e, vs) => sensorTime(e, 'endTime', (t) => t >= Date.parse(vs[0] as string)),
  LT_endTime: (e, vs) => sensorTime(e, 'endTime', (t) => t < Date.parse(vs[0] as string)),
  EQ_type: (e, vs) => reports(e).some((r) => vs.map(bareType).includes(bareType(r['type']))),
  EQ_deviceID: (e, vs) => [...metadata(e), ...reports(e)].some((p) => vs.some((v) => sameDevice(p['deviceID'], v))),
  EQ_dataProcessingMethod: (e, vs) => [...metadata(e), ...reports(e)].some((p) => vs.includes(p['dataProcessingMethod'] as string)),
  EQ_bizRules: (e, vs) => [...metadata(e), ...reports(e)].some((p) => vs.includes(p['bizRules'] as string)),
  EQ_microorganism: (e, vs) => reports(e).some((r) => vs.includes(r['microorganism'] as string)),
  EQ_chemicalSubstance: (e, vs) => reports(e).some((r) => vs.includes(r['chemicalSubstance'] as string)),
  EQ_stringValue: (e, vs) => reports(e).some((r) => vs.includes(r['stringValue'] as string)),
  EQ_hexBinaryValue: (e, vs) => reports(e).some((r) => typeof r['hexBinaryValue'] === 'string' && vs.map((v) => v.toLowerCase()).includes(r['hexBinaryValue'].toLowerCase())),
  EQ_uriValue: (e, vs) => reports(e).some((r) => vs.includes(r['uriValue'] as string)),
  EQ_booleanValue: (e, vs) => reports(e).some((r) => typeof r['booleanValue'] === 'boolean' && String(r['booleanValue']) === vs[0]),
  GT_percRank: (e, vs) => reports(e).some((r) => typeof r['percRank'] === 'number' && r['percRank'] > Number(vs[0])),
  GE_percRank: (e, vs) => reports(e).some((r) => typeof r['percRank'] === 'number' && r['percRank'] >= Number(vs[0])),
  LT_percRank: (e, vs) => reports(e).some((r) => typeof r['percRank'] === 'number' && r['percRank'] < Number(vs[0])),
  LE_percRank: (e, vs) => reports(e).some((r) => typeof r['percRank'] === 'number' && r['percRank'] <= Number(vs[0])),
  EQ_value_CEL: (e, vs) => reports(e).some((r) => celsius(r) !== undefined && vs.some((v) => near(celsius(r) as number, Number(v)))),
  GE_value_CEL: (e, vs) => reports(e).some((r) => celsius(r) !== undefined && ((celsius(r) as number) >= Number(vs[0]) || near(celsius(r) as number, Number(vs[0])))),
  LT_value_FAH: (e, vs) => reports(e).some((r) => celsius(r) !== undefined && ((celsius(r) as number) * 9) / 5 + 32 < Number(vs[0]) && !near(((celsius(r) as number) * 9) / 5 + 32, Number(vs[0]))),
  GT_maxValue_KEL: (e, vs) => reports(e).some((r) => celsius(r) !== undefined && (celsius(r) as number) + 273.15 > Number(vs[0]) && !near((celsius(r) as number) + 273.15, Number(vs[0]))),
  EQ_persistentDisposition_set: (e, vs) => objs([e['persistentDisposition']]).some((pd) => Array.isArray(pd?.['set']) && (pd['set'] as string[]).some((d) => vs.map(bareDisp).includes(d))),
  EQ_persistentDisposition_unset: (e, vs) => objs([e['persistentDisposition']]).some((pd) => Array.isArray(pd?.['unset']) && (pd['unset'] as string[]).some((d) => vs.map(bareDisp).includes(d))),
  GE_quantity_KGM: (e, vs) => quantityEls(e).some((q) => kilograms(q) !== undefined && (kilograms(q) as number) >= Number(vs[0])),
  LT_quantity_GRM: (e, vs) => quantityEls(e).some((q) => kilograms(q) !== undefined && (kilograms(q) as number) * 1000 < Number(vs[0])),
  EQ_quantity_GRM: (e, vs) => quantityEls(e).some((q) => kilograms(q) !== undefined && vs.some((v) => near((kilograms(q) as number) * 1000, Number(v)))),
};

const DOMAIN: Record<string, readonly string[]> = {
  MATCH_epc: [...SGTIN, ...PATTERNS], MATCH_anyEPC: [...SGTIN, ...SSCC, ...PATTERNS, ...SSCC_PATTERNS], MATCH_parentID: [...SSCC, ...SSCC_PATTERNS], MATCH_inputEPC: [...SGTIN, ...PATTERNS], MATCH_outputEPC: [...SGTIN, ...PATTERNS],
  MATCH_epcClass: [...CLASSES, ...CLASS_PATTERNS], MATCH_inputEPCClass: [...CLASSES, ...CLASS_PATTERNS], MATCH_outputEPCClass: [...CLASSES, ...CLASS_PATTERNS], MATCH_anyEPCClass: [...CLASSES, ...CLASS_PATTERNS],
  EQ_bizStep: STEPS, EQ_disposition: DISPS, EQ_readPoint: SGLN, EQ_bizLocation: SGLN, EQ_action: ['ADD', 'OBSERVE', 'DELETE'],
  EQ_transformationID: ['t1', 't2'], eventType: ['ObjectEvent', 'AggregationEvent', 'TransformationEvent'],
  GE_eventTime: TIMES, LT_eventTime: TIMES, EQ_bizTransaction_po: BTS, EQ_source_owning_party: PGLN, EXISTS_ilmd: [''], EXISTS_disposition: [''],
  EQ_errorReason: REASONS, EQ_correctiveEventID: CORRECTIVE, GE_errorDeclaration_Time: TIMES, LT_errorDeclaration_Time: TIMES, EXISTS_errorDeclaration: [''],
  GE_recordTime: TIMES, LT_recordTime: TIMES, WD_readPoint: SGLN, WD_bizLocation: SGLN,
  EQ_quantity: ['1', '2', '3', '4', '5'], GT_quantity: ['1', '3', '5'], GE_quantity: ['1', '3', '5'], LT_quantity: ['1', '3', '5'], LE_quantity: ['1', '3', '5'],
  'EQ_ILMD_cbvmda:lotNumber': ['LOT1', 'LOT2'], 'EXISTS_ILMD_cbvmda:lotNumber': [''], 'EQ_example:temp': ['0', '10', '20'], 'GE_example:temp': ['5', '20', '35'], 'LT_example:temp': ['5', '20', '35'],
  'EQ_INNER_example:inner': ['1', '3', '5', '7'], 'GE_INNER_example:inner': ['2', '5', '8'], 'EXISTS_INNER_example:inner': [''], 'EQ_INNER_ILMD_example:inner': ['1', '4', '6'],
  'EQ_ERROR_DECLARATION_example:note': ['n1', 'n2'], 'EXISTS_ERROR_DECLARATION_example:note': [''], 'EQ_SENSORELEMENT_example:el': ['e1', 'e2'],
  'EXISTS_SENSORMETADATA_example:meta': [''], 'EQ_SENSORMETADATA_example:meta': ['m1', 'm2'], 'EQ_SENSORREPORT_example:cv': ['x', 'y'], 'EQ_readPoint_example:dock': ['d1', 'd2'],
  EXISTS_sensorElementList: [''], GE_time: TIMES, LT_time: TIMES, GE_startTime: TIMES, LT_startTime: TIMES, GE_endTime: TIMES, LT_endTime: TIMES,
  EQ_type: ['Temperature', 'https://gs1.org/voc/Temperature', 'Humidity', 'example:Abc'], EQ_deviceID: DEVICES, EQ_dataProcessingMethod: URIS, EQ_bizRules: URIS, EQ_microorganism: URIS,
  EQ_chemicalSubstance: URIS, EQ_stringValue: ['s1', 's2'], EQ_hexBinaryValue: ['f0f0', 'ABCD'], EQ_uriValue: URIS, EQ_booleanValue: ['true', 'false'],
  GT_percRank: ['10', '50', '90'], GE_percRank: ['10', '50', '90'], LT_percRank: ['10', '50', '90'], LE_percRank: ['10', '50', '90'],
  EQ_value_CEL: ['10', '20', '30'], GE_value_CEL: ['10', '20', '30'], LT_value_FAH: ['50', '68', '86'], GT_maxValue_KEL: ['283.15', '293.15', '303.15'],
  EQ_persistentDisposition_set: [...DISPS, 'urn:epcglobal:cbv:disp:active'], EQ_persistentDisposition_unset: DISPS,
  GE_quantity_KGM: ['1', '3', '0.004'], LT_quantity_GRM: ['2000', '4000'], EQ_quantity_GRM: ['1000', '3000', '5000'],
};

describe('every query parameter equals a brute-force filter (property)', () => {
  it('covers every parameter the query code accepts', () => {
    const named = Object.keys(BRUTE).filter((k) => !k.includes('EXISTS_') && !k.startsWith('EQ_bizTransaction_') && !k.startsWith('EQ_source_') && !k.includes(':') && !/_(value|maxValue|quantity)_[A-Z]+$/.test(k));
    expect(named.sort()).toEqual([...QUERY_PARAMS, ...FAMILY_NAMES].sort());
    for (const k of Object.keys(BRUTE)) expect(isQueryParameter(k), k).toBe(true);
  });

  const single: fc.Arbitrary<[string, string[]]> = fc.constantFrom(...Object.keys(DOMAIN)).chain((p) =>
    /^(GE|LT|GT|LE)_/.test(p) || p.startsWith('EXISTS_') || p === 'EQ_quantity' || p === 'EQ_booleanValue'
      ? fc.constantFrom(...(DOMAIN[p] as string[])).map((v): [string, string[]] => [p, [v]])
      : sub(DOMAIN[p] as string[]).map((vs): [string, string[]] => [p, vs]),
  );

  it('one to three parameters AND-ed, values OR-ed', () => {
    fc.assert(
      fc.property(fc.array(evArb, { maxLength: 40 }), fc.uniqueArray(single, { minLength: 1, maxLength: 3, selector: ([p]) => p }), fc.nat(), (corpus, params, idPick) => {
        const raw: Record<string, string> = {};
        for (const [p, vs] of params) {
          // EQ_eventID draws its values from the corpus.
          // (or, for a declaration, the ID of the event it declares: its hash).
          const picked = corpus[idPick % Math.max(1, corpus.length)];
          const values = p === 'EQ_eventID' ? [picked === undefined ? 'none' : picked['errorDeclaration'] !== undefined && idPick % 2 === 0 ? eventIdOf(picked) : picked.id] : vs;
          raw[p] = values.join('|');
        }
        const q = parseQuery(raw);
        const got = corpus.filter((e) => matches(q, e, e.id, e['rt'] as number)).map((e) => e.id);
        const want = corpus.filter((e) => params.every(([p]) => (BRUTE[p] as (e: Ev, vs: string[]) => boolean)(e, (raw[p] as string).split('|')))).map((e) => e.id);
        expect(got).toEqual(want);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('query parameters the query code refuses', () => {
  it('malformed EPC patterns, master-data parameters, bad values, a valued EXISTS_ are QueryParameterException, never ignored; a pattern never drives the history index', () => {
    // A `*` must stand for the whole field and every field right of it; the field count is the scheme's.
    expect(() => parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.*.5' })).toThrow(/not an EPC pattern this node reads/);
    expect(() => parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.*' })).toThrow(/not an EPC pattern this node reads/);
    expect(() => parseQuery({ MATCH_anyEPC: 'urn:epc:idpat:sscc:06141.*' })).toThrow(/not an EPC pattern this node reads/);
    expect(() => parseQuery({ MATCH_epcClass: 'urn:epc:idpat:sgtin:*.107346.*' })).toThrow(/not an EPC pattern this node reads/);
    expect(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*' }).indexKeys).toBeUndefined();
    expect(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.*.*' }).indexKeys).toBeUndefined();
    expect(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*|urn:epc:id:sgtin:0614141.107346.1' }).indexKeys).toBeUndefined();
    // A class pattern never drives the query index's class terms (its classes have no one term).
    expect(parseQuery({ MATCH_epcClass: 'urn:epc:idpat:sgtin:0614141.*.*' }).termKeys).toBeUndefined();
    expect(parseQuery({ MATCH_epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT1' }).termKeys).toHaveLength(1);
    // A Digital Link of an instance matches its GTIN's and its company's patterns too.
    expect(matches(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*' }), { epcList: ['https://id.gs1.org/01/10614141073464/21/77'] })).toBe(true);
    expect(matches(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*' }), { epcList: ['https://id.gs1.org/01/10614141073471/21/77'] })).toBe(false);
    expect(matches(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.*.*' }), { epcList: ['https://id.gs1.org/01/10614141073471/21/77'] })).toBe(true);
    expect(matches(parseQuery({ MATCH_epc: 'urn:epc:idpat:sscc:*.*' }), { epcList: ['https://id.gs1.org/01/10614141073471/21/77'] })).toBe(false);
    expect(() => parseQuery({ EQ_action: 'SHIP' })).toThrow(/not ADD, OBSERVE or DELETE/);
    expect(() => parseQuery({ EXISTS_ilmd: 'yes' })).toThrow(/takes no value/);
    expect(() => parseQuery({ 'EXISTS_INNER_example:x': 'yes' })).toThrow(/takes no value/);
    expect(() => parseQuery({ 'HASATTR_example:x': 'a' })).toThrow(/master data/);
    expect(() => parseQuery({ EQ_ATTR_bizLocation_example: 'a' })).toThrow(/master data/);
    expect(() => parseQuery({ 'GE_readPoint_example:dock': 'd1' })).toThrow(/EQ_ only/);
    expect(() => parseQuery({ GE_value_CEL: 'warm' })).toThrow(/not a number/);
    expect(() => parseQuery({ GE_value_CEL: ['1', '2'] })).toThrow(/takes one value/);
    expect(() => parseQuery({ EQ_booleanValue: 'yes' })).toThrow(/true or false/);
    expect(() => parseQuery({ GE_time: 'noon' })).toThrow(/ISO 8601/);
    expect(() => parseQuery({ GE_percRank: '' })).toThrow(/give at least one value/);
    // Different families' values change the fingerprint (a page token of one is not the other's).
    expect(parseQuery({ GE_value_CEL: '1' }).fingerprint).not.toBe(parseQuery({ GE_value_CEL: '2' }).fingerprint);
    expect(parseQuery({ 'EQ_INNER_example:x': '1' }).fingerprint).not.toBe(parseQuery({ 'EQ_example:x': '1' }).fingerprint);
    // The fingerprint of the parameters an older build served is unchanged (stored subscription
    // cursors stay valid): the values the build before the field families (a1ffaea) computed.
    expect(parseQuery({ 'EQ_example:temp': '10' }).fingerprint).toBe('GlXMyB59pxJobC-p');
    expect(parseQuery({ 'EXISTS_ILMD_cbvmda:lotNumber': '' }).fingerprint).toBe('TCL-oQ5cIt9XJzOl');
    expect(parseQuery({ EQ_bizStep: 'shipping', 'GE_example:temp': '5' }).fingerprint).toBe('2nzd8msRxyRGZbD6');
  });

  it('EQ_ compares text exactly (lot 0123 is not lot 123), numbers and instants by value; GT_/GE_/LT_/LE_ read a number written as text as a number', () => {
    const lot = { ilmd: { 'cbvmda:lotNumber': '0123' }, 'example:temp': '20', 'example:n': 20, 'example:at': '2024-01-01T01:00:00+01:00' };
    expect(matches(parseQuery({ 'EQ_ILMD_cbvmda:lotNumber': '123' }), lot)).toBe(false);
    expect(matches(parseQuery({ 'EQ_ILMD_cbvmda:lotNumber': '0123' }), lot)).toBe(true);
    expect(matches(parseQuery({ 'EQ_example:temp': '20.0' }), lot)).toBe(false);
    expect(matches(parseQuery({ 'EQ_example:n': '20.0' }), lot)).toBe(true);
    expect(matches(parseQuery({ 'EQ_example:at': '2024-01-01T00:00:00Z' }), lot)).toBe(true);
    // As text '20' < '5'; as numbers 20 > 5.
    expect(matches(parseQuery({ 'GT_example:temp': '5' }), lot)).toBe(true);
    expect(matches(parseQuery({ 'LT_example:temp': '100' }), lot)).toBe(true);
  });

  it('converts a measure or quantity into the query\'s unit, and compares units of one quantity only', () => {
    const hot = { sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 98.6, uom: 'FAH' }] }] };
    expect(matches(parseQuery({ EQ_value_CEL: '37' }), hot)).toBe(true);
    expect(matches(parseQuery({ GE_value_KEL: '310' }), hot)).toBe(true);
    expect(matches(parseQuery({ GE_value_KGM: '0' }), hot)).toBe(false);
    expect(matches(parseQuery({ LT_value_P1: '1000' }), hot)).toBe(false);
    const bag = { quantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT1', quantity: 200, uom: 'GRM' }] };
    expect(matches(parseQuery({ EQ_quantity_KGM: '0.2' }), bag)).toBe(true);
    expect(matches(parseQuery({ GT_quantity_LBR: '0.44' }), bag)).toBe(true);
    expect(matches(parseQuery({ GT_quantity_LBR: '0.45' }), bag)).toBe(false);
    // An unknown unit compares with itself only.
    expect(matches(parseQuery({ EQ_quantity_XYZ: '200' }), { quantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT1', quantity: 200, uom: 'XYZ' }] })).toBe(true);
  });
});

describe('timeCover (the query index terms of an event time range)', () => {
  const DAY = 86_400_000;
  const base = Date.UTC(2025, 0, 1);
  it('every time inside the range has exactly one of the cover terms, a time outside it none unless in an end period', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * DAY }), fc.integer({ min: 1, max: 31 * DAY }), fc.array(fc.integer({ min: -DAY, max: 33 * DAY }), { maxLength: 50 }), (a, len, probes) => {
        const from = base + a;
        const to = from + len;
        const cover = timeCover(from, to, 31);
        if (cover === undefined) return;
        expect(cover.length).toBeLessThanOrEqual(MAX_COVER_TERMS);
        expect(new Set(cover).size).toBe(cover.length);
        for (const p of [from, to - 1, ...probes.map((x) => from + x)]) {
          const terms = queryTermsOf({ eventTime: new Date(p).toISOString() });
          const hits = cover.filter((c) => terms.includes(c)).length;
          if (p >= from && p < to) expect(hits).toBe(1);
          // Outside: only within the ten minutes cut at either end.
          else if (p < Math.floor(from / 600_000) * 600_000 || p >= Math.ceil(to / 600_000) * 600_000) expect(hits).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('uses whole days and hours inside the range and ten minutes at its ends; longer than allowed is no cover', () => {
    const h = 3_600_000;
    // 2025-01-01 23:37 to 2025-01-03 01:12: 23:30, 23:40, 23:50, the day of 01-02, 00:00-01:00 of 01-03, 01:00, 01:10.
    const cover = timeCover(base + 23 * h + 37 * 60_000, base + DAY + DAY + h + 12 * 60_000, 31) as string[];
    expect(cover.map((c) => c.split('=')[0])).toEqual(['?min10', '?min10', '?min10', '?day', '?hour', '?min10', '?min10']);
    expect(timeCover(base, base + 32 * DAY, 31)).toBeUndefined();
    expect(timeCover(base, base, 31)).toEqual([]);
  });
});
