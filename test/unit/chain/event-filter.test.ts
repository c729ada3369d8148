import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventIdFilter } from '../../../src/chain/event-filter.js';

const id = (hex: string): string => `ni:///sha-256;${hex}?ver=CBV2.0`;
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

describe('EventIdFilter', () => {
  it('never forgets an added ID (property)', () => {
    fc.assert(
      fc.property(fc.array(hex64, { maxLength: 300 }), (hexes) => {
        const f = new EventIdFilter(12);
        for (const h of hexes) f.add(id(h));
        for (const h of hexes) expect(f.mightContain(id(h))).toBe(true);
      }),
    );
  });

  it('says no to most IDs it never saw (false positives near the Bloom estimate)', () => {
    const f = new EventIdFilter(16); // 65,536 bits
    const rnd = (): string => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    for (let i = 0; i < 2_000; i++) f.add(id(rnd()));
    let fp = 0;
    for (let i = 0; i < 10_000; i++) if (f.mightContain(id(rnd()))) fp++;
    // k = 4, n/m = 2,000/65,536: (1 - e^(-4n/m))^4 ≈ 0.0002
    expect(fp).toBeLessThan(50);
    expect(f.size).toBe(2_000);
  });

  it('an ID added by its digest bytes is found by its ni: string, and the reverse (property)', () => {
    fc.assert(
      fc.property(hex64, hex64, (h1, h2) => {
        const f = new EventIdFilter(12);
        f.addDigest(Uint8Array.from(Buffer.from(h1, 'hex')));
        f.add(id(h2));
        expect(f.mightContain(id(h1))).toBe(true);
        const g = new EventIdFilter(12);
        g.addDigest(Uint8Array.from(Buffer.from(h2, 'hex')));
        expect(g.mightContain(id(h2))).toBe(true);
      }),
    );
  });

  it('answers "maybe" for what it cannot place, so the caller reads the store', () => {
    const f = new EventIdFilter(10);
    expect(f.mightContain('not an event id')).toBe(true);
    expect(f.mightContain('ni:///sha-256;zzzzzzzzzzzzzzzz?ver=CBV2.0')).toBe(true);
    f.add('garbage'); // ignored
    expect(f.size).toBe(0);
  });

  it('refuses impossible sizes', () => {
    expect(() => new EventIdFilter(4)).toThrow(RangeError);
    expect(() => new EventIdFilter(32)).toThrow(RangeError);
  });
});
