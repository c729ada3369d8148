import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareInUnit, convertUnit, knownUnit } from '../../../src/trace/uom.js';

describe('units of measure (UN/CEFACT codes)', () => {
  it('converts within a quantity, with offsets for temperatures', () => {
    expect(convertUnit(100, 'CEL', 'FAH')).toBeCloseTo(212, 9);
    expect(convertUnit(32, 'FAH', 'CEL')).toBeCloseTo(0, 9);
    expect(convertUnit(0, 'CEL', 'KEL')).toBeCloseTo(273.15, 9);
    expect(convertUnit(1, 'KGM', 'GRM')).toBeCloseTo(1000, 9);
    expect(convertUnit(1, 'LBR', 'GRM')).toBeCloseTo(453.59237, 9);
    expect(convertUnit(1, 'LTR', 'MLT')).toBeCloseTo(1000, 9);
    expect(convertUnit(36, 'KMH', 'MTS')).toBeCloseTo(10, 9);
    expect(convertUnit(1, 'HUR', 'MIN')).toBeCloseTo(60, 9);
  });

  it('refuses units of other quantities, and unknown codes other than themselves', () => {
    expect(convertUnit(1, 'KGM', 'CEL')).toBeUndefined();
    expect(convertUnit(1, 'P1', 'MTR')).toBeUndefined();
    expect(convertUnit(5, 'XYZ', 'XYZ')).toBe(5);
    expect(convertUnit(5, 'XYZ', 'KGM')).toBeUndefined();
    expect(knownUnit('CEL')).toBe(true);
    expect(knownUnit('XYZ')).toBe(false);
  });

  // Values of everyday magnitudes (subnormal numbers lose their relative precision in any product).
  it('a round trip through any unit of the quantity gives the value back (property)', () => {
    const temps = ['CEL', 'FAH', 'KEL'];
    const masses = ['KGM', 'GRM', 'MGM', 'LBR', 'ONZ', 'TNE'];
    fc.assert(
      fc.property(fc.constantFrom(temps, masses), fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((x) => x === 0 || Math.abs(x) > 1e-200), fc.nat(), fc.nat(), (units, v, i, j) => {
        const a = units[i % units.length] as string;
        const b = units[j % units.length] as string;
        const there = convertUnit(v, a, b) as number;
        expect(compareInUnit(there, b, a, v)).toBe(0);
        expect(compareInUnit(there, b, a, v + Math.max(1, Math.abs(v)) * 1e-6)).toBe(-1);
      }),
    );
  });

  it('compares within the rounding of the conversion (98.6 FAH is 37 CEL, 32 FAH is 0 CEL), else by sign', () => {
    expect(compareInUnit(98.6, 'FAH', 'CEL', 37)).toBe(0);
    expect(compareInUnit(32, 'FAH', 'CEL', 0)).toBe(0);
    expect(compareInUnit(273.15, 'KEL', 'CEL', 0)).toBe(0);
    expect(compareInUnit(32.001, 'FAH', 'CEL', 0)).toBe(1);
    expect(compareInUnit(37.001, 'CEL', 'CEL', 37)).toBe(1);
    expect(compareInUnit(1e-12, 'KGM', 'KGM', 2e-12)).toBe(-1);
    expect(compareInUnit(1, 'KGM', 'CEL', 1)).toBeUndefined();
  });
});
