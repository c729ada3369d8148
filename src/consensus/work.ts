/**
 * Proof-of-work accounting (DESIGN.md, Consensus: fork choice by most cumulative work).
 * work(target) = floor(2^256 / (target + 1)): the expected number of hashes to meet target.
 * Pure, integer-only.
 */
import { bigIntToBytesBE, bytesToBigIntBE } from '../common/bytes.js';
import { targetFromBits, encodeCompact, TWO_256 } from './target.js';

/** Width of a stored work / chainwork value. */
export const WORK_BYTES = 32;
const MAX_U256 = TWO_256 - 1n;

/** Work of one block with this target: floor(2^256 / (target + 1)). */
export function workFromTarget(target: bigint): bigint {
  if (typeof target !== 'bigint' || target <= 0n || target > MAX_U256) throw new RangeError('target must be in [1, 2^256)');
  return TWO_256 / (target + 1n);
}

/** Work of one block with these bits; BlockError BAD_BITS for an invalid target. */
export function workFromBits(bits: number): bigint {
  return workFromTarget(targetFromBits(bits));
}

/** Chainwork of a block = its parent's chainwork + its own work. RangeError past 2^256 - 1. */
export function addWork(parentChainwork: bigint, bits: number): bigint {
  if (typeof parentChainwork !== 'bigint' || parentChainwork < 0n) throw new RangeError('chainwork must be a non-negative bigint');
  const sum = parentChainwork + workFromBits(bits);
  if (sum > MAX_U256) throw new RangeError('chainwork overflows 256 bits');
  return sum;
}

/** Total work of a sequence of blocks' bits, starting from `start` (default 0). */
export function chainworkOf(bitsList: Iterable<number>, start = 0n): bigint {
  let w = start;
  for (const b of bitsList) w = addWork(w, b);
  return w;
}

/** Fork choice comparison: > 0 when a has more work than b. */
export function compareWork(a: bigint, b: bigint): number {
  return a === b ? 0 : a > b ? 1 : -1;
}

/**
 * Fixed-width 32-byte big-endian encoding, so that byte order of stored keys/values is numeric
 * order. RangeError for a negative value or one of more than 256 bits.
 */
export function encodeWork(work: bigint): Uint8Array {
  if (typeof work !== 'bigint' || work < 0n || work > MAX_U256) throw new RangeError('work must be a 256-bit unsigned integer');
  return bigIntToBytesBE(work, WORK_BYTES);
}

export function decodeWork(bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== WORK_BYTES) throw new RangeError(`work must be ${WORK_BYTES} bytes`);
  return bytesToBigIntBE(bytes);
}

/**
 * The largest target whose work is at least `expectedHashes`, as canonical compact bits: how a
 * genesis picks its bits from (hash rate × block interval). RangeError unless 1 ≤ hashes ≤ 2^256.
 */
export function bitsForWork(expectedHashes: bigint): number {
  if (typeof expectedHashes !== 'bigint' || expectedHashes < 1n || expectedHashes > TWO_256) throw new RangeError('expected hashes must be in [1, 2^256]');
  let target = TWO_256 / expectedHashes - 1n;
  if (target < 1n) target = 1n;
  if (target > MAX_U256) target = MAX_U256;
  return encodeCompact(target);
}
