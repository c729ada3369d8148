import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, matches, MAX_COVER_TERMS, parseQuery, QUERY_PARAMS, timeCover } from '../../../src/api/query.js';
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

const SGTIN = ['urn:epc:id:sgtin:0614141.107346.1', 'urn:epc:id:sgtin:0614141.107346.2', 'urn:epc:id:sgtin:0614141.107346.3', 'urn:epc:id:sgtin:0614141.107346.4', 'urn:epc:id:sgtin:0614141.107347.5'];
/** EPC patterns of one class: every instance of that GTIN. */
const PATTERNS = ['urn:epc:idpat:sgtin:0614141.107346.*', 'urn:epc:idpat:sgtin:0614141.107347.*'];
const SSCC = ['urn:epc:id:sscc:0614141.1234567890', 'urn:epc:id:sscc:0614141.1234567891'];
const CLASSES = ['urn:epc:class:lgtin:0614141.107346.LOT1', 'urn:epc:class:lgtin:0614141.107346.LOT2', 'urn:epc:class:lgtin:0614141.107347.LOT1'];
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
const qty = (classes: string[], n = 1): Record<string, unknown>[] => classes.map((c, i) => ({ epcClass: c, quantity: ((n + i) % 5) + 1 }));

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
  })
  .map((r) => {
    // rt: the record time the test hands to matches (the block time); not an event field.
    const e: Ev = { id: `ni:///sha-256;${r.n.toString(16).padStart(64, '0')}?ver=CBV2.0`, rt: r.rt, type: r.type, eventTime: new Date(r.time).toISOString(), eventTimeZoneOffset: '+00:00' };
    if (r.temp !== undefined) e['example:temp'] = r.temp;
    if (r.type === 'ObjectEvent') {
      e['epcList'] = r.epcs;
      e['action'] = r.action;
      if (r.classes) e['quantityList'] = qty(r.classes, r.q);
      if (r.ilmd) e['ilmd'] = { 'cbvmda:lotNumber': r.lot };
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
    if (r.readPoint) e['readPoint'] = { id: r.readPoint };
    if (r.bizLocation) e['bizLocation'] = { id: r.bizLocation };
    if (r.bt) e['bizTransactionList'] = [{ type: r.bt[0], bizTransaction: r.bt[1] }];
    if (r.source) e['sourceList'] = [{ type: r.source[0], source: r.source[1] }];
    if (r.declared) {
      e['errorDeclaration'] = { declarationTime: r.declared.time, ...(r.declared.reason ? { reason: r.declared.reason } : {}), ...(r.declared.corrective.length > 0 ? { correctiveEventIDs: r.declared.corrective } : {}) };
    }
    return e;
  });

const list = (e: Ev, k: string): string[] => (Array.isArray(e[k]) ? (e[k] as string[]) : []);
const classesOf = (e: Ev, ks: string[]): string[] => ks.flatMap((k) => (Array.isArray(e[k]) ? (e[k] as { epcClass: string }[]).map((q) => q.epcClass) : []));
const some = (xs: string[], vs: string[]): boolean => xs.some((x) => vs.includes(x));
/** An EPC among the values, or an instance of a pattern among them (`urn:epc:idpat:sgtin:CP.IR.*`: the URNs `urn:epc:id:sgtin:CP.IR.…`). */
const epcIn = (x: string, vs: string[]): boolean => vs.includes(x) || vs.some((v) => v.startsWith('urn:epc:idpat:sgtin:') && x.startsWith(`urn:epc:id:sgtin:${v.slice('urn:epc:idpat:sgtin:'.length, -1)}`));
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
  MATCH_epcClass: (e, vs) => some(classesOf(e, ['quantityList', 'childQuantityList']), vs),
  MATCH_inputEPCClass: (e, vs) => some(classesOf(e, ['inputQuantityList']), vs),
  MATCH_outputEPCClass: (e, vs) => some(classesOf(e, ['outputQuantityList']), vs),
  MATCH_anyEPCClass: (e, vs) => some(classesOf(e, ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']), vs),
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
};

const DOMAIN: Record<string, readonly string[]> = {
  MATCH_epc: [...SGTIN, ...PATTERNS], MATCH_anyEPC: [...SGTIN, ...SSCC, ...PATTERNS], MATCH_parentID: SSCC, MATCH_inputEPC: [...SGTIN, ...PATTERNS], MATCH_outputEPC: [...SGTIN, ...PATTERNS],
  MATCH_epcClass: CLASSES, MATCH_inputEPCClass: CLASSES, MATCH_outputEPCClass: CLASSES, MATCH_anyEPCClass: CLASSES,
  EQ_bizStep: STEPS, EQ_disposition: DISPS, EQ_readPoint: SGLN, EQ_bizLocation: SGLN, EQ_action: ['ADD', 'OBSERVE', 'DELETE'],
  EQ_transformationID: ['t1', 't2'], eventType: ['ObjectEvent', 'AggregationEvent', 'TransformationEvent'],
  GE_eventTime: TIMES, LT_eventTime: TIMES, EQ_bizTransaction_po: BTS, EQ_source_owning_party: PGLN, EXISTS_ilmd: [''], EXISTS_disposition: [''],
  EQ_errorReason: REASONS, EQ_correctiveEventID: CORRECTIVE, GE_errorDeclaration_Time: TIMES, LT_errorDeclaration_Time: TIMES, EXISTS_errorDeclaration: [''],
  GE_recordTime: TIMES, LT_recordTime: TIMES, WD_readPoint: SGLN, WD_bizLocation: SGLN,
  EQ_quantity: ['1', '2', '3', '4', '5'], GT_quantity: ['1', '3', '5'], GE_quantity: ['1', '3', '5'], LT_quantity: ['1', '3', '5'], LE_quantity: ['1', '3', '5'],
  'EQ_ILMD_cbvmda:lotNumber': ['LOT1', 'LOT2'], 'EXISTS_ILMD_cbvmda:lotNumber': [''], 'EQ_example:temp': ['0', '10', '20'], 'GE_example:temp': ['5', '20', '35'], 'LT_example:temp': ['5', '20', '35'],
};

describe('every query parameter equals a brute-force filter (property)', () => {
  it('covers every parameter the query code accepts', () => {
    expect(Object.keys(BRUTE).filter((k) => !k.includes('EXISTS_') && !k.startsWith('EQ_bizTransaction_') && !k.startsWith('EQ_source_') && !k.includes(':')).sort()).toEqual([...QUERY_PARAMS].sort());
  });

  const single: fc.Arbitrary<[string, string[]]> = fc.constantFrom(...Object.keys(DOMAIN)).chain((p) =>
    /^(GE|LT|GT|LE)_/.test(p) || p.startsWith('EXISTS_') || p === 'EQ_quantity'
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
      { numRuns: 400 },
    );
  });
});

describe('query parameters the query code refuses', () => {
  it('EPC patterns wider than one class, a bad action, a valued EXISTS_ are QueryParameterException, never ignored; a pattern never drives the history index', () => {
    expect(() => parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.*.*' })).toThrow(/one class/);
    expect(() => parseQuery({ MATCH_anyEPC: 'urn:epc:idpat:sscc:0614141.*' })).toThrow(/one class/);
    expect(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*' }).indexKeys).toBeUndefined();
    expect(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*|urn:epc:id:sgtin:0614141.107346.1' }).indexKeys).toBeUndefined();
    // A Digital Link of an instance matches its GTIN's pattern too.
    expect(matches(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*' }), { epcList: ['https://id.gs1.org/01/10614141073464/21/77'] })).toBe(true);
    expect(matches(parseQuery({ MATCH_epc: 'urn:epc:idpat:sgtin:0614141.107346.*' }), { epcList: ['https://id.gs1.org/01/10614141073471/21/77'] })).toBe(false);
    expect(() => parseQuery({ EQ_action: 'SHIP' })).toThrow(/not ADD, OBSERVE or DELETE/);
    expect(() => parseQuery({ EXISTS_ilmd: 'yes' })).toThrow(/takes no value/);
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
