import { describe, expect, it } from 'vitest';
import { checkEventRules, validateDocument, TraceError } from '../../../src/trace/index.js';
import { doc, errorOf, objectEvent } from './helpers.js';

describe('validateDocument', () => {
  it('accepts a valid document and returns its events', () => {
    const v = validateDocument(doc([objectEvent(), objectEvent({ bizStep: 'cbv:BizStep-shipping', disposition: 'https://ref.gs1.org/cbv/Disp-in_transit' })]));
    expect(v.events).toHaveLength(2);
    expect(v.kind).toBe('EPCISDocument');
  });

  it('rejects a missing eventTimeZoneOffset', () => {
    const e = objectEvent();
    delete e['eventTimeZoneOffset'];
    const err = errorOf(() => validateDocument(doc([e])));
    expect(err).toBeInstanceOf(TraceError);
    expect(err.code).toBe('MISSING_TIMEZONE');
    expect(err.problems[0]?.path).toBe('/epcisBody/eventList/0/eventTimeZoneOffset');
  });

  it('rejects an eventTime without offset', () => {
    expect(checkEventRules(objectEvent({ eventTime: '2024-03-01T10:00:00' }))[0]?.code).toBe('MISSING_TIMEZONE');
  });

  it('rejects an unknown event type', () => {
    const err = errorOf(() => validateDocument(doc([objectEvent({ type: 'SensorEvent' })])));
    expect(err.code).toBe('UNKNOWN_EVENT_TYPE');
    expect(err.message).toContain('SensorEvent');
  });

  it('rejects ilmd with action OBSERVE (ILMD only with ADD)', () => {
    const err = errorOf(() => validateDocument(doc([objectEvent({ ilmd: { 'cbvmda:lotNumber': 'L1' } })])));
    expect(err.code).toBe('ILMD_NOT_ADD');
    expect(() => validateDocument(doc([objectEvent({ action: 'ADD', bizStep: 'commissioning', ilmd: { 'cbvmda:lotNumber': 'L1' } })]))).not.toThrow();
  });

  it('rejects an invalid GTIN check digit and a malformed EPC URN', () => {
    const err = errorOf(() =>
      validateDocument(doc([objectEvent({ epcList: ['https://id.gs1.org/01/10614141073465/21/2017', 'urn:epc:id:sgtin:0614141.10734.1'] })])),
    );
    expect(err.problems.map((p) => p.code)).toEqual(['BAD_CHECK_DIGIT', 'BAD_EPC']);
    expect(err.problems[0]?.path).toBe('/epcisBody/eventList/0/epcList/0');
  });

  it('rejects unknown CBV words but allows non-GS1 URIs as extensions', () => {
    expect(checkEventRules(objectEvent({ bizStep: 'teleporting' }))[0]?.code).toBe('UNKNOWN_VOCABULARY');
    expect(checkEventRules(objectEvent({ bizStep: 'https://ref.gs1.org/cbv/BizStep-teleporting' }))[0]?.code).toBe('UNKNOWN_VOCABULARY');
    expect(checkEventRules(objectEvent({ bizStep: 'cbv:BizStep-teleporting' }))[0]?.code).toBe('UNKNOWN_VOCABULARY');
    expect(checkEventRules(objectEvent({ disposition: 'shipping' }))[0]?.code).toBe('UNKNOWN_VOCABULARY');
    expect(checkEventRules(objectEvent({ bizStep: 'http://epcis.example.com/user/vocab/bizstep/exampling' }))).toEqual([]);
    expect(checkEventRules(objectEvent({ bizStep: 'urn:epcglobal:cbv:bizstep:shipping' }))).toEqual([]);
    expect(checkEventRules(objectEvent({ bizTransactionList: [{ type: 'pox', bizTransaction: 'urn:x:1' }] }))[0]?.code).toBe('UNKNOWN_VOCABULARY');
  });

  it('refuses 10,001 events in one document (TOO_MANY_EVENTS) and accepts 10,000', () => {
    const e = objectEvent();
    expect(errorOf(() => validateDocument(doc(Array.from({ length: 10_001 }, () => e)))).code).toBe('TOO_MANY_EVENTS');
    expect(validateDocument(doc(Array.from({ length: 10_000 }, () => e))).events).toHaveLength(10_000);
    expect(errorOf(() => validateDocument(doc([e, e, e]), { maxEvents: 2 })).code).toBe('TOO_MANY_EVENTS');
  });

  it('lists every problem, with paths', () => {
    const bad1 = objectEvent({ bizStep: 'teleporting', eventTimeZoneOffset: '+25:00' });
    const bad2 = objectEvent({ type: 'Nope', ilmd: { a: 1 } });
    const err = errorOf(() => validateDocument(doc([objectEvent(), bad1, bad2])));
    const paths = err.problems.map((p) => p.path);
    expect(paths).toContain('/epcisBody/eventList/1/bizStep');
    expect(paths).toContain('/epcisBody/eventList/1/eventTimeZoneOffset');
    expect(paths).toContain('/epcisBody/eventList/2/type');
    expect(paths).toContain('/epcisBody/eventList/2/ilmd');
    expect(err.problems.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses events nested absurdly deep (before any recursive processing)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = { 'example:n': deep };
    const problems = checkEventRules(objectEvent({ 'example:deep': deep }));
    expect(problems.map((p) => p.code)).toEqual(['BAD_EVENT']);
    expect(checkEventRules(objectEvent({ 'example:ok': { 'example:a': [{ 'example:b': [1] }] } }))).toEqual([]);
  });

  it('reports JSON Schema problems with code SCHEMA', () => {
    const d = doc([objectEvent({ epcList: 'not-a-list' })]);
    const err = errorOf(() => validateDocument(d));
    expect(err.code).toBe('SCHEMA');
    expect(err.problems.some((p) => p.path === '/epcisBody/eventList/0/epcList')).toBe(true);
    const noDate = doc([objectEvent()]);
    delete noDate['creationDate'];
    expect(errorOf(() => validateDocument(noDate)).code).toBe('SCHEMA');
  });

  it('takes EPCISDocument for capture; EPCISQueryDocument only when asked', () => {
    const q = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISQueryDocument',
      schemaVersion: '2.0',
      creationDate: '2024-01-01T00:00:00Z',
      epcisBody: { queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: [objectEvent()] } } },
    };
    expect(errorOf(() => validateDocument(q)).code).toBe('BAD_DOCUMENT');
    expect(validateDocument(q, { allowQueryDocument: true }).events).toHaveLength(1);
    expect(errorOf(() => validateDocument([])).code).toBe('BAD_DOCUMENT');
  });
});
