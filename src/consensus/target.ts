/**
 * Compact target ("nBits") with Bitcoin Core's `arith_uint256::SetCompact` / `GetCompact`
 * semantics (DESIGN.md, Formats and Consensus). Pure, integer-only.
 *
 * Layout of the 32-bit compact form: the top byte is a size in bytes; the low 23 bits are a
 * mantissa; bit 0x00800000 is a sign bit. target = mantissa * 256^(size - 3).
 */
import { BlockError } from '../common/errors.js';
import { bigIntToBytesBE, compareBytes } from '../common/bytes.js';

/** 2^256: one more than the largest 256-bit value. */
export const TWO_256 = 1n << 256n;
const MASK_256 = TWO_256 - 1n;

export interface DecodedCompact {
  /** The magnitude, truncated to 256 bits as Bitcoin Core's arith_uint256 does. */
  target: bigint;
  /** Sign bit set with a non-zero mantissa. */
  negative: boolean;
  /** The value does not fit in 256 bits. */
  overflow: boolean;
}

function checkU32(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw new RangeError(`bits ${String(bits)} is not a u32`);
}

/** `arith_uint256::SetCompact`: never throws for a u32; see the flags. */
export function decodeCompact(bits: number): DecodedCompact {
  checkU32(bits);
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    // As in Core, the word is shifted first, so the flags below see what is left of it.
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MASK_256;
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * `arith_uint256::GetCompact`: the canonical compact form of a 256-bit target (rounding the
 * target down to 23 bits of mantissa). `negative` sets the sign bit when the mantissa is non-zero.
 */
export function encodeCompact(target: bigint, negative = false): number {
  if (typeof target !== 'bigint' || target < 0n || target > MASK_256) throw new RangeError('target must be a 256-bit unsigned integer');
  let size = Math.floor((bitLength(target) + 7) / 8);
  let compact: number;
  if (size <= 3) {
    compact = Number(target) * 2 ** (8 * (3 - size));
  } else {
    compact = Number(target >> BigInt(8 * (size - 3)));
  }
  if (compact & 0x00800000) {
    compact >>>= 8;
    size += 1;
  }
  let out = (compact | (size << 24)) >>> 0;
  if (negative && (compact & 0x007fffff) !== 0) out = (out | 0x00800000) >>> 0;
  return out;
}

/** The target a header's bits stand for; BlockError BAD_BITS if negative, zero or overflowing. */
export function targetFromBits(bits: number): bigint {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw new BlockError('BAD_BITS', 'bits is not a u32', { bits });
  const d = decodeCompact(bits);
  if (d.negative) throw new BlockError('BAD_BITS', 'negative target', { bits });
  if (d.overflow) throw new BlockError('BAD_BITS', 'target overflows 256 bits', { bits });
  if (d.target === 0n) throw new BlockError('BAD_BITS', 'zero target', { bits });
  return d.target;
}

/** True when bits is the canonical (GetCompact) encoding of a valid target. */
export function isCanonicalBits(bits: number): boolean {
  try {
    return encodeCompact(targetFromBits(bits)) === bits;
  } catch {
    return false;
  }
}

/** The target as 32 big-endian bytes (the form a digest is compared against). */
export function targetToBytes32BE(target: bigint): Uint8Array {
  if (typeof target !== 'bigint' || target < 0n || target > MASK_256) throw new RangeError('target must be a 256-bit unsigned integer');
  return bigIntToBytesBE(target, 32);
}

/**
 * Proof of work: the 32-byte digest read as a big-endian 256-bit unsigned integer is ≤ target.
 */
export function hashMeetsTarget(hash: Uint8Array, target: bigint): boolean {
  return hashMeetsTargetBytes(hash, targetToBytes32BE(target));
}

/** As hashMeetsTarget, with the target already as 32 big-endian bytes (the miner's hot path). */
export function hashMeetsTargetBytes(hash: Uint8Array, target32: Uint8Array): boolean {
  if (hash.length !== 32 || target32.length !== 32) throw new RangeError('hash and target must be 32 bytes');
  return compareBytes(hash, target32) <= 0;
}
