/**
 * Proof-of-work hash kernels for the 112-byte header (DESIGN.md, Formats/Consensus):
 * block hash = SHA-256(SHA-256(header)), the nonce is a u64 little-endian at bytes 104..111,
 * and PoW holds when the 32-byte digest, read as a big-endian integer, is <= the target.
 * Pure computation, no I/O.
 */

/** Outcome of scanning a nonce range: the first nonce (in increasing order) meeting the target. */
export type ScanResult =
  | { readonly found: true; readonly nonce: bigint; readonly hashes: number }
  | { readonly found: false; readonly hashes: number };

/**
 * A SHA-256d kernel specialised for one header at a time. Not thread-safe; one per thread.
 * `hashes` counts the nonces examined in order, up to and including the one found, so all
 * kernels return identical results for identical inputs.
 */
export interface HashKernel {
  /** e.g. `wasm-simd128`, `ts-midstate`, `noble-sha256d`. */
  readonly name: string;
  /** Sets the header to mine (112 bytes; the nonce bytes 104..111 are ignored). Copies it. */
  setHeader(header112: Uint8Array): void;
  /**
   * Tests nonces start, start+1, ..., start+count-1 (count <= 2^32, start+count <= 2^64) against
   * `target` (32 bytes, big-endian) and returns at the first digest <= target.
   */
  scan(startNonce: bigint, count: number, target: Uint8Array): ScanResult;
  /** SHA-256d of the current header with `nonce`, into `out` (32 bytes) if given. */
  digest(nonce: bigint, out?: Uint8Array): Uint8Array;
}

export const HEADER_BYTES = 112;
export const NONCE_OFFSET = 104;
export const MAX_NONCE = (1n << 64n) - 1n;
export const MAX_TARGET = (1n << 256n) - 1n;
/** Largest `count` one scan call accepts. */
export const MAX_SCAN_COUNT = 2 ** 32;

/** The 32-byte big-endian form of a target, as kernels take it. */
export function targetToBytes(target: bigint): Uint8Array {
  if (typeof target !== 'bigint' || target < 0n || target > MAX_TARGET) throw new RangeError('target must be an integer in [0, 2^256)');
  const out = new Uint8Array(32);
  let v = target;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Reads a 32-byte big-endian target into 8 unsigned words (word 0 most significant). */
export function targetWords(target: Uint8Array, out: Uint32Array = new Uint32Array(8)): Uint32Array {
  if (!(target instanceof Uint8Array) || target.length !== 32) throw new RangeError('target must be 32 bytes');
  const dv = new DataView(target.buffer, target.byteOffset, 32);
  for (let i = 0; i < 8; i++) out[i] = dv.getUint32(4 * i, false);
  return out;
}

/** True when `digest` (32 bytes) read big-endian is <= `target` (32 bytes, big-endian). */
export function digestMeetsTarget(digest: Uint8Array, target: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    const d = digest[i] as number;
    const t = target[i] as number;
    if (d !== t) return d < t;
  }
  return true;
}

export function checkHeader(header: Uint8Array): void {
  if (!(header instanceof Uint8Array) || header.length !== HEADER_BYTES) throw new RangeError(`header must be ${HEADER_BYTES} bytes`);
}

export function checkScanRange(start: bigint, count: number): void {
  if (typeof start !== 'bigint' || start < 0n || start > MAX_NONCE) throw new RangeError('startNonce must be a u64');
  if (!Number.isInteger(count) || count < 0 || count > MAX_SCAN_COUNT) throw new RangeError(`count must be an integer in [0, 2^32]`);
  if (start + BigInt(count) > MAX_NONCE + 1n) throw new RangeError('scan range runs past the last nonce');
}

/**
 * Shared scan driver: splits [start, start+count) into runs with a constant high nonce word
 * (kernels precompute per high word) and delegates each run.
 */
export abstract class SegmentedKernel implements HashKernel {
  abstract readonly name: string;
  protected hasHeader = false;
  private readonly tw = new Uint32Array(8);

  abstract setHeader(header112: Uint8Array): void;

  /**
   * Tests nonces (hi << 32) | (lo + i) for i in [0, n), lo + n <= 2^32. Returns the first i whose
   * digest words are <= tw, or -1.
   */
  protected abstract scanRun(hi: number, lo: number, n: number, tw: Uint32Array): number;

  /** Digest words (big-endian order) of nonce (hi, lo) into out[0..8). */
  protected abstract digestWords(hi: number, lo: number, out: Uint32Array): void;

  scan(startNonce: bigint, count: number, target: Uint8Array): ScanResult {
    if (!this.hasHeader) throw new Error(`${this.name}: setHeader before scan`);
    checkScanRange(startNonce, count);
    const tw = targetWords(target, this.tw);
    let hi = Number(startNonce >> 32n);
    let lo = Number(startNonce & 0xffffffffn);
    let remaining = count;
    let hashes = 0;
    while (remaining > 0) {
      const n = Math.min(remaining, 2 ** 32 - lo);
      const i = this.scanRun(hi, lo, n, tw);
      if (i >= 0) return { found: true, nonce: (BigInt(hi) << 32n) | BigInt(lo + i), hashes: hashes + i + 1 };
      hashes += n;
      remaining -= n;
      lo += n;
      if (lo === 2 ** 32) {
        lo = 0;
        hi++;
      }
    }
    return { found: false, hashes };
  }

  private readonly dw = new Uint32Array(8);

  digest(nonce: bigint, out: Uint8Array = new Uint8Array(32)): Uint8Array {
    if (!this.hasHeader) throw new Error(`${this.name}: setHeader before digest`);
    if (typeof nonce !== 'bigint' || nonce < 0n || nonce > MAX_NONCE) throw new RangeError('nonce must be a u64');
    if (out.length !== 32) throw new RangeError('out must be 32 bytes');
    this.digestWords(Number(nonce >> 32n), Number(nonce & 0xffffffffn), this.dw);
    const dv = new DataView(out.buffer, out.byteOffset, 32);
    for (let i = 0; i < 8; i++) dv.setUint32(4 * i, this.dw[i] as number, false);
    return out;
  }
}
