import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventHash, eventPrehash, formatUtcMillis, hashTimestamp, parseEpcUrn, type JsonObject } from '../../../src/trace/index.js';

const digits = (n: number): fc.Arbitrary<string> => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((a) => a.join(''));
const serial = fc.array(fc.constantFrom(...'ABCXYZabcxyz0123456789-._'.split('')), { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
const sgtin = fc.integer({ min: 6, max: 12 }).chain((n) => fc.tuple(digits(n), digits(13 - n), serial)).map(([cp, ir, s]) => `urn:epc:id:sgtin:${cp}.${ir}.${s}`);
const BIZSTEPS = ['commissioning', 'shipping', 'receiving', 'dispensing', 'inspecting', 'packing'];
const DISPS = ['active', 'in_transit', 'in_progress', 'dispensed', 'recalled'];
const OFFSETS = ['+00:00', '+01:00', '-06:00', '+05:30', '-03:30', '+14:00'];

interface Spec {
  epcs: string[];
  bizStep: string;
  disposition: string;
  instant: number;
  offset: string;
  action: 'ADD' | 'OBSERVE' | 'DELETE';
  readPoint: string;
  btt: string;
}

const spec: fc.Arbitrary<Spec> = fc.record({
  epcs: fc.uniqueArray(sgtin, { minLength: 1, maxLength: 6 }),
  bizStep: fc.constantFrom(...BIZSTEPS),
  disposition: fc.constantFrom(...DISPS),
  instant: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2090, 0, 1) }),
  offset: fc.constantFrom(...OFFSETS),
  action: fc.constantFrom('ADD' as const, 'OBSERVE' as const, 'DELETE' as const),
  readPoint: fc.integer({ min: 6, max: 12 }).chain((n) => fc.tuple(digits(n), digits(12 - n), fc.oneof(fc.constant('0'), digits(3)))).map(([cp, lr, e]) => `urn:epc:id:sgln:${cp}.${lr}.${e}`),
  btt: fc.constantFrom('po', 'desadv', 'inv'),
});

function localTime(instant: number, offset: string): string {
  const sign = offset[0] === '-' ? -1 : 1;
  const mins = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  const local = formatUtcMillis(instant + mins * 60_000);
  return local.slice(0, -1) + (offset === '+00:00' ? 'Z' : offset);
}

function build(s: Spec): JsonObject {
  return {
    type: 'ObjectEvent',
    eventTime: localTime(s.instant, s.offset),
    eventTimeZoneOffset: s.offset,
    epcList: [...s.epcs],
    action: s.action,
    bizStep: s.bizStep,
    disposition: s.disposition,
    readPoint: { id: s.readPoint },
    bizTransactionList: [{ type: s.btt, bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152' }],
  };
}

/** The same event written another way: DL instead of URN, CURIE/URI instead of bare word, … */
const rewrite = fc.record({
  dl: fc.constantFrom('urn', 'dl', 'other-host', 'short-names'),
  vocab: fc.constantFrom('word', 'curie', 'uri', 'legacy-urn'),
  zone: fc.constantFrom(...OFFSETS, 'Z'),
  fraction: fc.constantFrom('', '.000', '.000000'),
  shuffle: fc.integer({ min: 0, max: 1000 }),
  jcs: fc.boolean(),
});

interface Rewrite {
  dl: string;
  vocab: string;
  zone: string;
  fraction: string;
  shuffle: number;
  jcs: boolean;
}

function variant(s: Spec, r: Rewrite): JsonObject {
  const toDl = (urn: string): string => {
    const dl = parseEpcUrn(urn)?.digitalLink as string;
    if (r.dl === 'dl') return dl;
    if (r.dl === 'other-host') return dl.replace('https://id.gs1.org/', 'https://resolver.example.com/path/');
    if (r.dl === 'short-names') return dl.replace('/01/', '/gtin/').replace('/21/', '/ser/').replace('/414/', '/gln/').replace('/254/', '/254/') + '?linkType=all';
    return urn;
  };
  const word = (kind: 'BizStep' | 'Disp' | 'BTT', w: string, legacy: string): string =>
    r.vocab === 'curie' ? `cbv:${kind}-${w}` : r.vocab === 'uri' ? `https://ref.gs1.org/cbv/${kind}-${w}` : r.vocab === 'legacy-urn' ? `urn:epcglobal:cbv:${legacy}:${w}` : w;
  let time = localTime(s.instant, r.zone === 'Z' ? '+00:00' : r.zone);
  if (s.instant % 1000 === 0 && r.fraction !== '') time = time.replace(/\.000/, r.fraction);
  const epcs = s.epcs.map(toDl);
  for (let i = epcs.length - 1; i > 0; i--) {
    const j = (r.shuffle * (i + 7)) % (i + 1);
    [epcs[i], epcs[j]] = [epcs[j] as string, epcs[i] as string];
  }
  const e: JsonObject = {
    bizTransactionList: [{ bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152', type: word('BTT', s.btt, 'btt') }],
    readPoint: { id: toDl(s.readPoint) },
    disposition: word('Disp', s.disposition, 'disp'),
    bizStep: word('BizStep', s.bizStep, 'bizstep'),
    action: s.action,
    epcList: epcs,
    eventTimeZoneOffset: s.offset,
    eventTime: time,
    type: 'ObjectEvent',
    eventID: 'urn:uuid:0b2c8f4e-0000-4000-8000-000000000000',
    recordTime: '2030-01-01T00:00:00Z',
  };
  return r.jcs ? (JSON.parse(canonicalize(e) as string) as JsonObject) : e;
}

describe('CBV 2.0 event hash properties', () => {
  it('one ID for the same event written two ways (URN/DL, word/CURIE/URI, time zone, list order, key order)', () => {
    fc.assert(
      fc.property(spec, rewrite, (s, r) => {
        expect(eventPrehash(variant(s, r))).toBe(eventPrehash(build(s)));
      }),
      { numRuns: 400 },
    );
  });

  const mutation = fc.constantFrom('serial', 'dropEpc', 'bizStep', 'disposition', 'time', 'offset', 'action', 'readPoint', 'btt', 'extension', 'type');
  it('another ID for any change of content', () => {
    fc.assert(
      fc.property(spec, mutation, (s, m) => {
        const e = build(s);
        const c = structuredClone(e);
        switch (m) {
          case 'serial':
            (c['epcList'] as string[])[0] += 'X';
            break;
          case 'dropEpc':
            (c['epcList'] as string[]).push('urn:epc:id:sgtin:0614141.107346.extra');
            break;
          case 'bizStep':
            c['bizStep'] = s.bizStep === 'storing' ? 'holding' : 'storing';
            break;
          case 'disposition':
            c['disposition'] = s.disposition === 'damaged' ? 'stolen' : 'damaged';
            break;
          case 'time':
            c['eventTime'] = localTime(s.instant + 1, s.offset);
            break;
          case 'offset':
            c['eventTimeZoneOffset'] = s.offset === '+02:00' ? '+03:00' : '+02:00';
            break;
          case 'action':
            c['action'] = s.action === 'ADD' ? 'OBSERVE' : 'ADD';
            break;
          case 'readPoint':
            c['readPoint'] = { id: 'urn:epc:id:sgln:0614141.00777.1' };
            break;
          case 'btt':
            c['bizTransactionList'] = [{ type: s.btt === 'rma' ? 'bol' : 'rma', bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152' }];
            break;
          case 'extension':
            c['example:note'] = 'x';
            c['@context'] = [{ example: 'https://ns.example.com/epcis/' }];
            break;
          case 'type':
            c['type'] = 'TransactionEvent';
            break;
        }
        expect(eventHash(c)).not.toBe(eventHash(e));
      }),
      { numRuns: 300 },
    );
  });
});

describe('hash details', () => {
  it('rounds timestamps half to even at the millisecond, in UTC', () => {
    expect(hashTimestamp('2023-02-02T11:04:03.1415Z')).toBe('2023-02-02T11:04:03.142Z');
    expect(hashTimestamp('2023-02-02T11:04:03.1425Z')).toBe('2023-02-02T11:04:03.142Z');
    expect(hashTimestamp('2022-02-16T20:33:31.116000-06:00')).toBe('2022-02-17T02:33:31.116Z');
    expect(hashTimestamp('2022-12-31T23:59:59.9996+00:00')).toBe('2023-01-01T00:00:00.000Z');
    expect(hashTimestamp('not a time')).toBeUndefined();
  });

  it('canonicalises numbers like the reference (26.0 → 26, 1e-5 → 1e-05, 007 → 7)', () => {
    const e = (v: unknown): JsonObject => ({
      type: 'ObjectEvent',
      eventTime: '2020-01-01T00:00:00Z',
      eventTimeZoneOffset: '+00:00',
      action: 'OBSERVE',
      quantityList: [{ epcClass: 'urn:epc:class:lgtin:4012345.011111.4444', quantity: v, uom: 'KGM' }],
    });
    expect(eventPrehash(e(26.0))).toContain('quantity=26uom');
    expect(eventPrehash(e('26.000'))).toContain('quantity=26uom');
    expect(eventPrehash(e('007'))).toContain('quantity=7uom');
    expect(eventPrehash(e(0.00001))).toContain('quantity=1e-05uom');
    expect(eventPrehash(e(12.5))).toContain('quantity=12.5uom');
    expect(eventPrehash(e(true))).toContain('quantity=Trueuom');
  });

  it('ignores eventID, recordTime, errorDeclaration, comments and the event @context', () => {
    const base: JsonObject = { type: 'ObjectEvent', eventTime: '2020-01-01T00:00:00Z', eventTimeZoneOffset: '+00:00', action: 'OBSERVE', epcList: ['urn:epc:id:sgtin:0614141.107346.1'] };
    const noisy: JsonObject = {
      ...base,
      eventID: 'ni:///sha-256;00?ver=CBV2.0',
      recordTime: '2021-01-01T00:00:00Z',
      errorDeclaration: { declarationTime: '2021-01-01T00:00:00Z', reason: 'incorrect_data' },
      comment: 'hello',
      'rdfs:comment': 'hello',
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    };
    expect(eventHash(noisy)).toBe(eventHash(base));
  });
});
