/** One item's status from its clear-key record (public events) and its tag-key record (private events). */
import { describe, expect, it } from 'vitest';
import { mergeItemRecords } from '../../../src/trace/private-status.js';
import type { ItemRecord } from '../../../src/trace/index.js';

const rec = (over: Partial<ItemRecord>): ItemRecord => ({
  key: 'k',
  status: 'active',
  lifecycle: 'active',
  custodian: null,
  manufacturer: null,
  gtin: null,
  lot: null,
  expiry: null,
  parent: null,
  alerts: [],
  lastEventId: 'e',
  ...over,
});

describe('mergeItemRecords', () => {
  it('one record: that record', () => {
    const a = rec({ key: 'clear' });
    expect(mergeItemRecords(a, undefined)).toBe(a);
    expect(mergeItemRecords(undefined, a)).toBe(a);
    expect(mergeItemRecords(undefined, undefined)).toBeUndefined();
  });

  it('commissioned in public, traded in private: the public lifecycle and lot, the private holder, the clear key', () => {
    const clear = rec({ key: 'https://id.gs1.org/01/1/21/1', lifecycle: 'active', status: 'active', custodian: 'maker', manufacturer: 'maker', gtin: '1', lot: 'L1', expiry: '2027-01-01' });
    const tagged = rec({ key: 'tag:ab', lifecycle: 'unknown', status: 'unknown', custodian: 'wholesaler' });
    expect(mergeItemRecords(clear, tagged)).toMatchObject({ key: clear.key, status: 'active', custodian: 'wholesaler', manufacturer: 'maker', lot: 'L1', expiry: '2027-01-01' });
  });

  it('a known private lifecycle leads; a conflict in either record makes the item suspect; alerts of both', () => {
    const clear = rec({ key: 'c', lifecycle: 'active', manufacturer: 'maker', alerts: [{ code: 'A', message: 'a', eventId: 'e1', at: 1 } as never] });
    const tagged = rec({ key: 't', lifecycle: 'dispensed', status: 'suspect', custodian: 'pharmacy', alerts: [{ code: 'DOUBLE_DISPENSE', message: 'b', eventId: 'e2', at: 2 } as never] });
    const m = mergeItemRecords(clear, tagged);
    expect(m).toMatchObject({ key: 'c', lifecycle: 'dispensed', status: 'suspect', custodian: 'pharmacy', manufacturer: 'maker' });
    expect(m?.alerts.map((a) => a.code)).toEqual(['A', 'DOUBLE_DISPENSE']);
  });
});
