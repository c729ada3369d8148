/**
 * A Bloom filter of the event IDs on the main chain, so a capture of new events (the common
 * case) skips the store read that looks for duplicates. "Not in the filter" is certain; "maybe"
 * falls back to the read, so the filter never changes an answer, only how often the store is
 * asked. Event IDs are SHA-256 digests already: the filter takes its bit positions from the
 * digest's hex (double hashing), no hashing of its own. Fixed size (default 8 MiB): as the chain
 * grows past its design load the false-positive rate rises and more captures read the store.
 * Events of a disconnected block stay in it (a stale "maybe" is harmless).
 */
const HEX_START = 'ni:///sha-256;'.length;

export class EventIdFilter {
  private readonly words: Uint32Array;
  private readonly mask: number;
  private count = 0;

  /** `log2Bits`: the filter has 2^log2Bits bits (default 2^26 = 8 MiB); `hashes` bit positions per ID. */
  constructor(
    log2Bits = 26,
    private readonly hashes = 4,
  ) {
    if (!Number.isInteger(log2Bits) || log2Bits < 5 || log2Bits > 31) throw new RangeError('log2Bits must be an integer from 5 to 31');
    this.words = new Uint32Array(2 ** (log2Bits - 5));
    this.mask = 2 ** log2Bits - 1;
  }

  /** IDs added (with repeats). */
  get size(): number {
    return this.count;
  }

  add(eventId: string): void {
    const h = this.positions(eventId);
    if (h !== undefined) this.set(h);
  }

  /** Add by the 32-byte SHA-256 digest of the event ID (as the store keys it): no string parsing. */
  addDigest(digest: Uint8Array): void {
    if (digest.length < 8) return;
    const a = ((digest[0] as number) * 2 ** 24 + ((digest[1] as number) << 16) + ((digest[2] as number) << 8) + (digest[3] as number)) >>> 0;
    const b = ((digest[4] as number) * 2 ** 24 + ((digest[5] as number) << 16) + ((digest[6] as number) << 8) + (digest[7] as number)) >>> 0;
    this.set([a, (b | 1) >>> 0]);
  }

  private set(h: [number, number]): void {
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h[0] + i * h[1]) & this.mask;
      this.words[bit >>> 5] = (this.words[bit >>> 5] as number) | (1 << (bit & 31));
    }
    this.count++;
  }

  /** False: certainly never added. True: maybe added (or not an ID this filter can place). */
  mightContain(eventId: string): boolean {
    const h = this.positions(eventId);
    if (h === undefined) return true;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h[0] + i * h[1]) & this.mask;
      if (((this.words[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** Two 32-bit values from the digest's hex, or undefined if it is not a CBV 2.0 event ID. */
  private positions(eventId: string): [number, number] | undefined {
    if (eventId.length < HEX_START + 16 || !eventId.startsWith('ni:///sha-256;')) return undefined;
    const a = Number.parseInt(eventId.slice(HEX_START, HEX_START + 8), 16);
    const b = Number.parseInt(eventId.slice(HEX_START + 8, HEX_START + 16), 16);
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return [a >>> 0, (b | 1) >>> 0];
  }
}
