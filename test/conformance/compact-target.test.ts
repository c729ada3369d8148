/** Conformance: every case of shared/vectors/compact-target.json (Bitcoin Core SetCompact/GetCompact). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BlockError } from '../../src/common/errors.js';
import { decodeCompact, encodeCompact, targetFromBits } from '../../src/consensus/target.js';

interface DecodeCase {
  bits: string;
  negative: boolean;
  overflow: boolean;
  target?: string;
  recompact?: string;
}
interface EncodeCase {
  target: string;
  bits: string;
}
interface Vectors {
  decode: DecodeCase[];
  encode: EncodeCase[];
}

const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/compact-target.json', import.meta.url), 'utf8')) as Vectors;

describe('compact-target.json', () => {
  it('has cases', () => {
    expect(vectors.decode.length).toBeGreaterThan(20);
    expect(vectors.encode.length).toBeGreaterThan(5);
  });

  describe.each(vectors.decode)('decode $bits', (c) => {
    const bits = Number(c.bits);
    it('flags and target', () => {
      const d = decodeCompact(bits);
      expect(d.negative).toBe(c.negative);
      expect(d.overflow).toBe(c.overflow);
      if (c.target !== undefined) expect(d.target).toBe(BigInt(c.target));
    });
    if (c.recompact !== undefined) {
      const recompact = Number(c.recompact);
      it('re-encodes (GetCompact with the sign flag)', () => {
        const d = decodeCompact(bits);
        expect(encodeCompact(d.target, d.negative)).toBe(recompact);
      });
    }
    it('targetFromBits accepts exactly the valid PoW targets', () => {
      const valid = !c.negative && !c.overflow && c.target !== undefined && BigInt(c.target) !== 0n;
      if (valid) {
        expect(targetFromBits(bits)).toBe(BigInt(c.target as string));
      } else {
        let err: unknown;
        try {
          targetFromBits(bits);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(BlockError);
        expect((err as BlockError).code).toBe('BAD_BITS');
      }
    });
  });

  describe.each(vectors.encode)('encode $target', (c) => {
    it('GetCompact', () => {
      expect(encodeCompact(BigInt(c.target))).toBe(Number(c.bits));
    });
    it('decodes back to the target rounded down to the compact precision', () => {
      const d = decodeCompact(Number(c.bits));
      expect(d.negative).toBe(false);
      expect(d.overflow).toBe(false);
      expect(d.target <= BigInt(c.target)).toBe(true);
    });
  });
});
