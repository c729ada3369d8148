/** Splitting the u64 nonce space between workers, and checking jobs and results. */
import { sha256 } from '@noble/hashes/sha2.js';
import { HEADER_BYTES, MAX_NONCE, MAX_TARGET, NONCE_OFFSET, digestMeetsTarget, targetToBytes } from '../kernel/index.js';
import { KernelError } from '../kernel/errors.js';
import type { MineJob } from './types.js';

/** Default nonces per worker: 2^56, so with base 0 worker i's nonces have i as their top byte. */
export const DEFAULT_RANGE_SIZE = 1n << 56n;

export interface NonceRange {
  /** First nonce. */
  start: bigint;
  /** One past the last nonce. */
  end: bigint;
}

/** Worker i's range: [base + i·size, base + (i+1)·size); pairwise disjoint, all within u64. */
export function workerRanges(workers: number, nonceBase = 0n, rangeSize = DEFAULT_RANGE_SIZE): NonceRange[] {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError('workers must be a positive integer');
  if (typeof nonceBase !== 'bigint' || nonceBase < 0n) throw new RangeError('nonceBase must be a non-negative bigint');
  if (typeof rangeSize !== 'bigint' || rangeSize < 1n) throw new RangeError('rangeSize must be a positive bigint');
  if (nonceBase + BigInt(workers) * rangeSize > MAX_NONCE + 1n) {
    throw new RangeError(`${workers} ranges of ${rangeSize} nonces from ${nonceBase} run past the last u64 nonce`);
  }
  const out: NonceRange[] = [];
  for (let i = 0; i < workers; i++) {
    const start = nonceBase + BigInt(i) * rangeSize;
    out.push({ start, end: start + rangeSize });
  }
  return out;
}

export interface CheckedJob {
  header: Uint8Array;
  target: Uint8Array;
  ranges: NonceRange[];
}

/** Validates a job and splits it for `workers`; copies the header. */
export function checkJob(job: MineJob, workers: number): CheckedJob {
  if (job === null || typeof job !== 'object') throw new TypeError('job must be an object');
  if (!(job.header instanceof Uint8Array) || job.header.length !== HEADER_BYTES) throw new RangeError(`job.header must be ${HEADER_BYTES} bytes`);
  if (typeof job.target !== 'bigint' || job.target < 0n || job.target > MAX_TARGET) throw new RangeError('job.target must be a bigint in [0, 2^256)');
  return {
    header: job.header.slice(),
    target: targetToBytes(job.target),
    ranges: workerRanges(workers, job.nonceBase ?? 0n, job.rangeSize ?? DEFAULT_RANGE_SIZE),
  };
}

export function headerWithNonce(header: Uint8Array, nonce: bigint): Uint8Array {
  const h = header.slice();
  new DataView(h.buffer, h.byteOffset, h.byteLength).setBigUint64(NONCE_OFFSET, nonce, true);
  return h;
}

/**
 * Re-checks a nonce reported by a kernel with the reference hash (@noble/hashes) on the
 * calling thread; throws KernelError BAD_NONCE when it does not meet the target (a kernel bug,
 * never ignored).
 */
export function verifyNonce(header: Uint8Array, nonce: bigint, target: Uint8Array, kernel: string): { header: Uint8Array; hash: Uint8Array } {
  const h = headerWithNonce(header, nonce);
  const hash = sha256(sha256(h));
  if (!digestMeetsTarget(hash, target)) {
    throw new KernelError('BAD_NONCE', `kernel ${kernel} reported nonce ${nonce} whose hash ${Buffer.from(hash).toString('hex')} does not meet the target`);
  }
  return { header: h, hash };
}

export function rangeIndexOf(ranges: readonly NonceRange[], nonce: bigint): number {
  return ranges.findIndex((r) => nonce >= r.start && nonce < r.end);
}
