/**
 * The baseline the benchmark compares against: @noble/hashes `sha256(sha256(header))` per
 * nonce, on a header copy with the nonce written in. A correct but slow HashKernel.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { SegmentedKernel, checkHeader, NONCE_OFFSET } from './types.js';

export const NOBLE_KERNEL_NAME = 'noble-sha256d';

export class NobleKernel extends SegmentedKernel {
  readonly name = NOBLE_KERNEL_NAME;
  private readonly header = new Uint8Array(112);
  private readonly dv = new DataView(this.header.buffer);

  setHeader(header112: Uint8Array): void {
    checkHeader(header112);
    this.header.set(header112);
    this.hasHeader = true;
  }

  private hash(hi: number, lo: number): Uint8Array {
    this.dv.setUint32(NONCE_OFFSET, lo >>> 0, true);
    this.dv.setUint32(NONCE_OFFSET + 4, hi >>> 0, true);
    return sha256(sha256(this.header));
  }

  protected scanRun(hi: number, lo: number, n: number, tw: Uint32Array): number {
    for (let i = 0; i < n; i++) {
      const d = this.hash(hi, lo + i);
      const dv = new DataView(d.buffer, d.byteOffset, 32);
      let j = 0;
      while (j < 8 && dv.getUint32(4 * j, false) === tw[j]) j++;
      if (j === 8 || dv.getUint32(4 * j, false) < (tw[j] as number)) return i;
    }
    return -1;
  }

  protected digestWords(hi: number, lo: number, out: Uint32Array): void {
    const d = this.hash(hi, lo);
    const dv = new DataView(d.buffer, d.byteOffset, 32);
    for (let j = 0; j < 8; j++) out[j] = dv.getUint32(4 * j, false);
  }
}
