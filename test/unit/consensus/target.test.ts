import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToBigIntBE } from '../../../src/common/bytes.js';
import { BlockError } from '../../../src/common/errors.js';
import {
  decodeCompact,
  encodeCompact,
  hashMeetsTarget,
  hashMeetsTargetBytes,
  isCanonicalBits,
  targetFromBits,
  targetToBytes32BE,
} from '../../../src/consensus/target.js';

const MAX = (1n << 256n) - 1n;
const target256 = fc.bigInt({ min: 1n, max: MAX });
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof BlockError ? e.code : `not a BlockError: ${String(e)}`;
  }
  return undefined;
}

describe('compact target', () => {
  it('encode then decode rounds the target down to a 23-bit mantissa', () => {
    fc.assert(
      fc.property(target256, (t) => {
        const bits = encodeCompact(t);
        const d = decodeCompact(bits);
        expect(d.negative).toBe(false);
        expect(d.overflow).toBe(false);
        expect(d.target <= t).toBe(true);
        // mantissa ≥ 0x8000 whenever size > 3, so the loss is below 2^-15 of the target
        expect((t - d.target) * 32768n <= t).toBe(true);
        expect(encodeCompact(d.target)).toBe(bits); // idempotent
        expect(isCanonicalBits(bits)).toBe(true);
      }),
    );
  });

  it('small targets are exact', () => {
    for (const t of [1n, 0x7fn, 0x80n, 0xffffn, 0x7fffffn, 0x800000n]) expect(decodeCompact(encodeCompact(t)).target).toBe(t);
  });

  it('canonical bits survive decode then encode; others do not', () => {
    expect(isCanonicalBits(0x1d00ffff)).toBe(true);
    expect(isCanonicalBits(0x207fffff)).toBe(true);
    expect(isCanonicalBits(0x1e040000)).toBe(true);
    expect(isCanonicalBits(0x04000080)).toBe(false); // mantissa could be shorter
    expect(isCanonicalBits(0x04923456)).toBe(false); // negative
    expect(isCanonicalBits(0)).toBe(false);
  });

  it('encodeCompact sets the sign bit only for a non-zero mantissa', () => {
    expect(encodeCompact(0n, true)).toBe(0);
    expect(encodeCompact(0x12345600n, true)).toBe(0x04923456);
  });

  it('rejects out-of-range input', () => {
    expect(() => encodeCompact(-1n)).toThrow(RangeError);
    expect(() => encodeCompact(1n << 256n)).toThrow(RangeError);
    expect(() => decodeCompact(-1)).toThrow(RangeError);
    expect(() => decodeCompact(2 ** 32)).toThrow(RangeError);
    expect(() => decodeCompact(1.5)).toThrow(RangeError);
  });
});

describe('targetFromBits', () => {
  it('returns the target of valid bits', () => {
    expect(targetFromBits(0x1d00ffff)).toBe(0xffffn << 208n);
    expect(targetFromBits(0x01010000)).toBe(1n);
  });
  it('BAD_BITS for negative, zero, overflowing or non-u32 bits', () => {
    expect(codeOf(() => targetFromBits(0x04923456))).toBe('BAD_BITS'); // negative
    expect(codeOf(() => targetFromBits(0x00000000))).toBe('BAD_BITS'); // zero
    expect(codeOf(() => targetFromBits(0x01003456))).toBe('BAD_BITS'); // zero after shift
    expect(codeOf(() => targetFromBits(0x21010000))).toBe('BAD_BITS'); // overflow
    expect(codeOf(() => targetFromBits(0xff123456))).toBe('BAD_BITS'); // overflow
    expect(codeOf(() => targetFromBits(-1))).toBe('BAD_BITS');
    expect(codeOf(() => targetFromBits(2 ** 32))).toBe('BAD_BITS');
  });
});

describe('hashMeetsTarget', () => {
  it('is digest (big-endian) ≤ target', () => {
    fc.assert(
      fc.property(bytes32, fc.bigInt({ min: 0n, max: MAX }), (h, t) => {
        expect(hashMeetsTarget(h, t)).toBe(bytesToBigIntBE(h) <= t);
        expect(hashMeetsTargetBytes(h, targetToBytes32BE(t))).toBe(bytesToBigIntBE(h) <= t);
      }),
    );
  });
  it('boundary: equal meets, one above does not; byte order is big-endian', () => {
    const t = 0x00000000ffff0000000000000000000000000000000000000000000000000000n;
    const eq = targetToBytes32BE(t);
    expect(hashMeetsTarget(eq, t)).toBe(true);
    const above = targetToBytes32BE(t + 1n);
    expect(hashMeetsTarget(above, t)).toBe(false);
    const low = new Uint8Array(32);
    low[31] = 0xff; // 255 read big-endian
    expect(hashMeetsTarget(low, 255n)).toBe(true);
    expect(hashMeetsTarget(low, 254n)).toBe(false);
  });
  it('rejects a digest that is not 32 bytes', () => {
    expect(() => hashMeetsTarget(new Uint8Array(31), 1n)).toThrow(RangeError);
  });
  it('targetToBytes32BE is fixed width, big-endian', () => {
    expect(Array.from(targetToBytes32BE(1n))).toEqual([...new Array<number>(31).fill(0), 1]);
    expect(() => targetToBytes32BE(1n << 256n)).toThrow(RangeError);
    expect(() => targetToBytes32BE(-1n)).toThrow(RangeError);
  });
});
