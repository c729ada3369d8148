/**
 * Plain TypeScript SHA-256d kernel: the reference and the fallback where WebAssembly SIMD is
 * missing. Midstate of the first 64-byte chunk per header; per high nonce word, the first 10
 * rounds of the second chunk, the nonce-independent half of round 10 and the schedule words
 * W16, W18, W20, W22 (which do not depend on W10, the nonce's low word); per nonce, rounds
 * 10..63 of the second chunk and the outer compression. Nothing is allocated per nonce.
 */
import { SegmentedKernel, checkHeader } from './types.js';

export const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
export const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const bswap32 = (x: number): number => ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) | 0;
const sig0 = (x: number): number => ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
const sig1 = (x: number): number => ((x >>> 17) | (x << 15)) ^ ((x >>> 19) | (x << 13)) ^ (x >>> 10);
const Sig0 = (x: number): number => ((x >>> 2) | (x << 30)) ^ ((x >>> 13) | (x << 19)) ^ ((x >>> 22) | (x << 10));
const Sig1 = (x: number): number => ((x >>> 6) | (x << 26)) ^ ((x >>> 11) | (x << 21)) ^ ((x >>> 25) | (x << 7));

/** Extends w[0..16) to the 64-word schedule, computing only the words in [from, 64) not in `skip`. */
function expand(w: Int32Array, from = 16, skip = 0): void {
  for (let t = from; t < 64; t++) {
    if (t < 32 && ((skip >>> (t - 16)) & 1) === 1) continue;
    w[t] = (sig1(w[t - 2] as number) + (w[t - 7] as number) + sig0(w[t - 15] as number) + (w[t - 16] as number)) | 0;
  }
}

/** Rounds [from, to) on the working variables s (a..h in s[0..8)) with schedule w, in place. */
function rounds(s: Int32Array, w: Int32Array, from: number, to: number): void {
  let a = s[0] as number;
  let b = s[1] as number;
  let c = s[2] as number;
  let d = s[3] as number;
  let e = s[4] as number;
  let f = s[5] as number;
  let g = s[6] as number;
  let h = s[7] as number;
  for (let t = from; t < to; t++) {
    const t1 = (h + Sig1(e) + ((e & f) ^ (~e & g)) + (K[t] as number) + (w[t] as number)) | 0;
    const t2 = (Sig0(a) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[0] = a;
  s[1] = b;
  s[2] = c;
  s[3] = d;
  s[4] = e;
  s[5] = f;
  s[6] = g;
  s[7] = h;
}

/** One full SHA-256 compression of block w[0..16) on `state` (updated in place). w is clobbered. */
export function compress(state: Int32Array, w: Int32Array, work: Int32Array = new Int32Array(8)): void {
  expand(w);
  work.set(state);
  rounds(work, w, 0, 64);
  for (let i = 0; i < 8; i++) state[i] = ((state[i] as number) + (work[i] as number)) | 0;
}

export const TS_KERNEL_NAME = 'ts-midstate';

// schedule words of the second chunk that do not depend on W10: 16, 18, 20, 22
const CONST_SCHEDULE = (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6);

export class TsKernel extends SegmentedKernel {
  readonly name = TS_KERNEL_NAME;
  private readonly hw = new Int32Array(28); // header as big-endian words
  private readonly mid = new Int32Array(8); // state after the first chunk
  private readonly w2 = new Int32Array(64); // second chunk schedule
  private readonly s10 = new Int32Array(8); // second-chunk state after rounds 0..9
  private t1c = 0; // round 10's T1 without W10
  private t2c = 0; // round 10's T2
  private readonly s = new Int32Array(8);
  private readonly w3 = new Int32Array(64); // outer schedule
  private readonly out = new Uint32Array(8);
  private hi = -1;

  setHeader(header112: Uint8Array): void {
    checkHeader(header112);
    const dv = new DataView(header112.buffer, header112.byteOffset, header112.byteLength);
    for (let i = 0; i < 28; i++) this.hw[i] = dv.getInt32(4 * i, false);
    const w = new Int32Array(64);
    w.set(this.hw.subarray(0, 16));
    this.mid.set(IV);
    compress(this.mid, w);
    this.hi = -1;
    this.hasHeader = true;
  }

  private prepareHigh(hi: number): void {
    const w = this.w2;
    w.set(this.hw.subarray(16, 26));
    w[10] = 0;
    w[11] = bswap32(hi);
    w[12] = 0x80000000 | 0;
    w[13] = 0;
    w[14] = 0;
    w[15] = 112 * 8;
    for (let t = 16; t < 24; t += 2) w[t] = (sig1(w[t - 2] as number) + (w[t - 7] as number) + sig0(w[t - 15] as number) + (w[t - 16] as number)) | 0;
    const s = this.s10;
    s.set(this.mid);
    rounds(s, w, 0, 10);
    const a = s[0] as number;
    const b = s[1] as number;
    const c = s[2] as number;
    const e = s[4] as number;
    const f = s[5] as number;
    const g = s[6] as number;
    const h = s[7] as number;
    this.t1c = (h + Sig1(e) + ((e & f) ^ (~e & g)) + (K[10] as number)) | 0;
    this.t2c = (Sig0(a) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    this.hi = hi;
  }

  /** Digest words of nonce (current hi, lo) into this.out. */
  private hashNonce(lo: number): void {
    const w = this.w2;
    const w10 = bswap32(lo);
    w[10] = w10;
    expand(w, 17, CONST_SCHEDULE);
    const s = this.s;
    const s10 = this.s10;
    const t1 = (this.t1c + w10) | 0;
    // round 10 from the precomputed halves
    s[0] = (t1 + this.t2c) | 0;
    s[1] = s10[0] as number;
    s[2] = s10[1] as number;
    s[3] = s10[2] as number;
    s[4] = ((s10[3] as number) + t1) | 0;
    s[5] = s10[4] as number;
    s[6] = s10[5] as number;
    s[7] = s10[6] as number;
    rounds(s, w, 11, 64);
    const w3 = this.w3;
    for (let i = 0; i < 8; i++) w3[i] = ((this.mid[i] as number) + (s[i] as number)) | 0;
    w3[8] = 0x80000000 | 0;
    w3[9] = 0;
    w3[10] = 0;
    w3[11] = 0;
    w3[12] = 0;
    w3[13] = 0;
    w3[14] = 0;
    w3[15] = 256;
    expand(w3);
    s.set(IV);
    rounds(s, w3, 0, 64);
    const out = this.out;
    for (let i = 0; i < 8; i++) out[i] = ((IV[i] as number) + (s[i] as number)) | 0;
  }

  protected scanRun(hi: number, lo: number, n: number, tw: Uint32Array): number {
    if (hi !== this.hi) this.prepareHigh(hi);
    const out = this.out;
    const tw0 = tw[0] as number;
    for (let i = 0; i < n; i++) {
      this.hashNonce((lo + i) | 0);
      const d0 = out[0] as number;
      if (d0 > tw0) continue;
      if (d0 < tw0) return i;
      let j = 1;
      while (j < 8 && out[j] === tw[j]) j++;
      if (j === 8 || (out[j] as number) < (tw[j] as number)) return i;
    }
    return -1;
  }

  protected digestWords(hi: number, lo: number, out: Uint32Array): void {
    if (hi !== this.hi) this.prepareHigh(hi);
    this.hashNonce(lo | 0);
    out.set(this.out);
  }
}
