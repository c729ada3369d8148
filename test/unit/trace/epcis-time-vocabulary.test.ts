import { describe, expect, it } from 'vitest';
import { cbvWord, formatUtcMillis, parseOffset, parseTime, resolveVocabulary, vocabularyWords } from '../../../src/trace/index.js';

describe('time', () => {
  it('parses date-times with offsets to epoch milliseconds', () => {
    expect(parseTime('2024-03-01T10:00:00+01:00')).toEqual({ ms: Date.UTC(2024, 2, 1, 9), offsetMinutes: 60 });
    expect(parseTime('2024-03-01T10:00:00.5Z')).toEqual({ ms: Date.UTC(2024, 2, 1, 10, 0, 0, 500), offsetMinutes: 0 });
    expect(parseTime('2024-03-01T10:00:00')?.offsetMinutes).toBeUndefined();
    expect(parseTime('2024-02-30T10:00:00Z')).toBeUndefined();
    expect(parseTime('2024-03-01T24:00:00Z')).toBeUndefined();
    expect(parseTime('yesterday')).toBeUndefined();
    expect(formatUtcMillis(Date.UTC(2024, 2, 1, 9, 8, 7, 6))).toBe('2024-03-01T09:08:07.006Z');
  });
  it('reads eventTimeZoneOffset values within ±14:00', () => {
    expect(parseOffset('+05:30')).toBe(330);
    expect(parseOffset('-06:00')).toBe(-360);
    expect(parseOffset('+14:00')).toBe(840);
    expect(parseOffset('+14:30')).toBeUndefined();
    expect(parseOffset('+0100')).toBeUndefined();
  });
});

describe('CBV vocabularies (from the EPCIS 2.0 context)', () => {
  it('knows the CBV 2.0 words', () => {
    expect(vocabularyWords('bizStep').get('dispensing')).toBe('https://ref.gs1.org/cbv/BizStep-dispensing');
    expect(vocabularyWords('disposition').get('recalled')).toBe('https://ref.gs1.org/cbv/Disp-recalled');
    expect(vocabularyWords('bizTransactionType').get('po')).toBe('https://ref.gs1.org/cbv/BTT-po');
    expect(vocabularyWords('sourceDestType').get('owning_party')).toBe('https://ref.gs1.org/cbv/SDT-owning_party');
    expect(vocabularyWords('measurementType').get('Temperature')).toBe('https://gs1.org/voc/Temperature');
    expect(vocabularyWords('bizStep').size).toBeGreaterThanOrEqual(40);
  });
  it('resolves bare words, CURIEs, web URIs and CBV 1.x URNs to one word; extensions stay extensions', () => {
    for (const v of ['shipping', 'cbv:BizStep-shipping', 'https://ref.gs1.org/cbv/BizStep-shipping', 'urn:epcglobal:cbv:bizstep:shipping']) {
      expect(cbvWord('bizStep', v), v).toBe('shipping');
    }
    expect(cbvWord('bizStep', 'x:BizStep-shipping', new Map([['x', 'https://ref.gs1.org/cbv/']]))).toBe('shipping');
    expect(resolveVocabulary('bizStep', 'https://example.com/steps/curing')).toEqual({ kind: 'extension', uri: 'https://example.com/steps/curing' });
    expect(resolveVocabulary('bizStep', 'curing').kind).toBe('unknown');
    expect(resolveVocabulary('bizStep', 'https://gs1.org/voc/curing').kind).toBe('unknown');
    expect(resolveVocabulary('disposition', 'cbv:BizStep-shipping').kind).toBe('unknown');
  });
});
