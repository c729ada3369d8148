import { describe, expect, it } from 'vitest';
import { decodeToken, encodeToken, matches, parseQuery } from '../../../src/api/query.js';
import { HttpProblem } from '../../../src/api/problem.js';

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
    const token = encodeToken(q.fingerprint, { height: 5, txIndex: 1, eventIndex: 2 });
    expect(decodeToken(token, q.fingerprint)).toEqual({ height: 5, txIndex: 1, eventIndex: 2 });
    expect(() => decodeToken(token, parseQuery({ EQ_bizStep: 'receiving' }).fingerprint)).toThrow(/other parameters/);
    expect(() => decodeToken('garbage!', q.fingerprint)).toThrow(HttpProblem);
  });
});
