import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../../src/common/bytes.js';
import { BlockError } from '../../../src/common/errors.js';
import { decodeCompact } from '../../../src/consensus/target.js';
import {
  addWork,
  bitsForWork,
  chainworkOf,
  compareWork,
  decodeWork,
  encodeWork,
  workFromBits,
  workFromTarget,
} from '../../../src/consensus/work.js';

const MAX = (1n << 256n) - 1n;

describe('work', () => {
  it('is floor(2^256 / (target + 1))', () => {
    expect(workFromTarget(MAX)).toBe(1n);
    expect(workFromTarget(1n)).toBe(1n << 255n);
    expect(workFromTarget((1n << 255n) - 1n)).toBe(2n);
    // Bitcoin's genesis: 0x1d00ffff → 0x100010001 hashes
    expect(workFromBits(0x1d00ffff)).toBe(0x100010001n);
    // regtest
    expect(workFromBits(0x207fffff)).toBe(2n);
  });

  it('harder targets have at least as much work', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX }), fc.bigInt({ min: 1n, max: MAX }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(workFromTarget(lo) >= workFromTarget(hi)).toBe(true);
      }),
    );
  });

  it('rejects invalid targets and bits', () => {
    expect(() => workFromTarget(0n)).toThrow(RangeError);
    expect(() => workFromTarget(1n << 256n)).toThrow(RangeError);
    expect(() => workFromBits(0x04923456)).toThrow(BlockError);
  });

  it('accumulates chainwork', () => {
    expect(addWork(0n, 0x1d00ffff)).toBe(0x100010001n);
    expect(chainworkOf([0x1d00ffff, 0x1d00ffff, 0x207fffff])).toBe(2n * 0x100010001n + 2n);
    expect(chainworkOf([0x207fffff], 10n)).toBe(12n);
    expect(() => addWork(-1n, 0x1d00ffff)).toThrow(RangeError);
    expect(() => addWork(MAX, 0x207fffff)).toThrow(RangeError);
  });

  it('compares work for fork choice', () => {
    expect(compareWork(2n, 1n)).toBe(1);
    expect(compareWork(1n, 2n)).toBe(-1);
    expect(compareWork(3n, 3n)).toBe(0);
  });

  it('encodes 32 bytes big-endian: byte order is numeric order, round trip', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: MAX }), (a, b) => {
        const ea = encodeWork(a);
        expect(ea.length).toBe(32);
        expect(decodeWork(ea)).toBe(a);
        expect(Math.sign(compareBytes(ea, encodeWork(b)))).toBe(compareWork(a, b));
      }),
    );
    expect(() => encodeWork(1n << 256n)).toThrow(RangeError);
    expect(() => encodeWork(-1n)).toThrow(RangeError);
    expect(() => decodeWork(new Uint8Array(31))).toThrow(RangeError);
  });

  it('bitsForWork gives the easiest canonical bits with at least that much work', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 200n }), (h) => {
        const bits = bitsForWork(h);
        const w = workFromBits(bits);
        expect(w >= h).toBe(true);
        // within the compact rounding (2^-15) plus integer rounding
        expect(w <= h + h / 16384n + 2n).toBe(true);
      }),
    );
    // 2^234 itself would give floor(2^256 / (2^234 + 1)) = 2^22 − 1 hashes, one short
    expect(bitsForWork(1n << 22n)).toBe(0x1e03ffff);
    expect(workFromBits(0x1e040000)).toBe((1n << 22n) - 1n);
    expect(bitsForWork(1n)).toBe(0x2100ffff);
    expect(decodeCompact(bitsForWork(1n)).target).toBe(0xffffn << 240n);
  });
});
