import { describe, expect, it } from 'vitest';
import { gs1Date, verifyProductIdentifier, VerificationRequestError } from '../../../src/trace/verification.js';
import type { ItemRecord } from '../../../src/trace/status.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');

describe('GS1 dates (YYMMDD)', () => {
  it('puts the year within 49 years before and 50 after now; day 00 is the last day of the month', () => {
    expect(gs1Date('280630', NOW)).toBe('2028-06-30');
    expect(gs1Date('760101', NOW)).toBe('2076-01-01');
    expect(gs1Date('770101', NOW)).toBe('1977-01-01');
    expect(gs1Date('280200', NOW)).toBe('2028-02-29');
    expect(gs1Date('270200', NOW)).toBe('2027-02-28');
  });
  it('refuses what is not a date', () => {
    for (const bad of ['2806', '281301', '280632', '280230', 'abcdef']) expect(() => gs1Date(bad, NOW)).toThrow(VerificationRequestError);
  });
});

describe('product identifier verification', () => {
  const item: ItemRecord = { key: 'k', status: 'active', lifecycle: 'active', custodian: 'm', manufacturer: 'm', gtin: 'g', lot: 'L1', expiry: '2028-06-30', parent: null, alerts: [], lastEventId: 'e' };
  const v = (over: Partial<ItemRecord> | undefined, lot = 'L1', expiry = '2028-06-30', lotRecalled = false) =>
    verifyProductIdentifier({ item: over === undefined ? undefined : { ...item, ...over }, lotRecalled, lot, expiry, nowMs: NOW });
  it('names every failure reason and every additional info', () => {
    expect(v({})).toEqual({ verified: true });
    expect(v(undefined)).toEqual({ verified: false, verificationFailureReason: 'No_match_GTIN_Serial' });
    expect(v({ manufacturer: null })).toEqual({ verified: false, verificationFailureReason: 'No_match_GTIN_Serial' });
    expect(v({}, 'L2')).toEqual({ verified: false, verificationFailureReason: 'No_match_GTIN_Serial_Lot' });
    expect(v({}, 'L1', '2028-06-29')).toEqual({ verified: false, verificationFailureReason: 'No_match_GTIN_Serial_Expiry' });
    expect(v({}, 'L2', '2028-06-29')).toEqual({ verified: false, verificationFailureReason: 'No_match_GTIN_Serial_Lot_Expiry' });
    expect(v({}, 'L1', '2028-06-30', true)).toEqual({ verified: true, additionalInfo: 'Recalled' });
    expect(v({ status: 'suspect' })).toEqual({ verified: true, additionalInfo: 'Suspect' });
    expect(v({ expiry: '2026-12-06' }, 'L1', '2026-12-06')).toEqual({ verified: true, additionalInfo: 'Expired' });
    expect(v({ expiry: '2026-12-07' }, 'L1', '2026-12-07')).toEqual({ verified: true });
    expect(v({ status: 'suspect', expiry: '2020-01-01' }, 'L1', '2020-01-01', true)).toEqual({ verified: true, additionalInfo: 'Recalled,Suspect,Expired' });
  });
});
