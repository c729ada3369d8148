import { describe, expect, it } from 'vitest';
import { describeKey, describeVia, formatTrace } from '../../../src/node/commands/trace.js';

const CASE = 'https://id.gs1.org/00/006141410000000012';
const PALLET = 'https://id.gs1.org/00/106141410000000019';

describe('tracechain trace: journey lines', () => {
  it('names keys and says what each step came through', () => {
    expect(describeKey(CASE)).toBe('SSCC 006141410000000012');
    expect(describeKey('https://id.gs1.org/01/10614141073464/10/L%2F1')).toBe('GTIN 10614141073464 lot L/1');
    expect(describeKey('https://id.gs1.org/01/10614141073464/21/7')).toBe('GTIN 10614141073464 serial 7');
    expect(describeKey('https://id.gs1.org/01/10614141073464')).toBe('GTIN 10614141073464');
    expect(describeKey('https://id.gs1.org/414/0614141000005')).toBe('https://id.gs1.org/414/0614141000005');
    expect(describeVia({})).toBe('');
    expect(describeVia({ via: CASE, path: [CASE] })).toBe('via SSCC 006141410000000012');
    expect(describeVia({ via: PALLET, path: [CASE, PALLET] })).toBe('via SSCC 106141410000000019 (in SSCC 006141410000000012 on it)');
    expect(describeVia({ via: 'class', path: ['https://id.gs1.org/01/10614141073464/10/L1'] })).toBe('via GTIN 10614141073464 lot L1 (class event)');
    expect(describeVia({ via: 'input', path: ['https://id.gs1.org/01/10614141073464/21/9', CASE] })).toBe('via input GTIN 10614141073464 serial 9, in SSCC 006141410000000012');
  });

  it('prints one line per step, in the order given', () => {
    const ev = (bizStep: string, t: string) => ({ bizStep, eventTime: t, type: 'ObjectEvent' });
    const text = formatTrace({
      epc: 'urn:epc:id:sgtin:0614141.107346.1',
      status: 'recalled',
      alerts: [],
      events: [
        { eventId: 'a', event: ev('commissioning', '2025-01-01T00:00:00Z'), txId: 't', block: { hash: 'h', height: 1 }, confirmations: 3 },
        { eventId: 'b', event: ev('shipping', '2025-01-02T00:00:00Z'), txId: 't', block: { hash: 'h', height: 2 }, confirmations: 2, via: PALLET, path: [CASE, PALLET] },
        { eventId: 'c', event: ev('holding', '2025-01-03T00:00:00Z'), txId: 't', block: { hash: 'h', height: 3 }, confirmations: 1, via: 'class', path: ['https://id.gs1.org/01/10614141073464/10/L1'] },
      ],
    });
    const lines = text.split('\n');
    expect(lines[1]).toBe('status: recalled');
    expect(lines[2]).toMatch(/^2025-01-01T00:00:00Z {2}commissioning {2}\[block 1, 3 conf\.\]$/);
    expect(lines[3]).toMatch(/shipping {2}\[block 2, 2 conf\.\] {2}via SSCC 106141410000000019 \(in SSCC 006141410000000012 on it\)$/);
    expect(lines[4]).toMatch(/holding .* via GTIN 10614141073464 lot L1 \(class event\)$/);
  });
});
