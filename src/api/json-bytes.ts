/**
 * Write a JSON answer straight into bytes, splicing in slices of stored canonical JSON without
 * parsing them and re-serialising them. The result is byte-for-byte what `JSON.stringify` of the
 * equivalent object gives (the tests check this), but a large /trace answer is never held as a
 * JS string.
 */
import type { BufferPool } from './buffer-pool.js';

/** String.prototype.isWellFormed (ES2024, in Node 20; this build's lib is ES2023). */
type WellFormedCheck = string & { isWellFormed(): boolean };

/** Where string() puts a string's UTF-8 bytes before escaping them (one, grown as needed: the largest tx). */
let scratch = Buffer.allocUnsafe(0);

function scratchFor(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(Math.max(bytes, 64 * 1024));
  return scratch;
}

export class JsonBytes {
  private buf: Buffer;
  private len = 0;

  /** With a pool, the buffer comes from it (and growing swaps it for a larger one); give it back with `release()` once sent. */
  constructor(
    initialBytes = 64 * 1024,
    private readonly pool?: BufferPool,
  ) {
    const n = Math.max(256, initialBytes);
    this.buf = pool !== undefined ? pool.acquire(n) : Buffer.allocUnsafe(n);
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const size = Math.max(this.buf.length * 2, this.len + n);
    const next = this.pool !== undefined ? this.pool.acquire(size) : Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.pool?.release(this.buf);
    this.buf = next;
  }

  /** JSON text given as a JS string that is known to be ASCII (punctuation, keys, numbers, hex). */
  ascii(text: string): this {
    this.reserve(text.length);
    this.len += this.buf.write(text, this.len, 'latin1');
    return this;
  }

  /** Any JS value, as JSON.stringify writes it (UTF-8). */
  value(v: unknown): this {
    return this.text(JSON.stringify(v));
  }

  /**
   * A JS string as a JSON string literal: the bytes of `JSON.stringify(s)`, escaped here in one
   * pass over its UTF-8 bytes. JSON.stringify of a long string full of quotes (a proof's canonical
   * tx: ~45 KB, thousands of quotes) runs at ~120 MB/s and makes a new string the size of the
   * answer's largest part; this was 1.3–4.6× faster in microbenchmarks and allocates nothing. A string with
   * characters this pass does not escape the same way (controls, lone surrogates) goes through
   * JSON.stringify.
   */
  string(s: string): this {
    if (!(s as WellFormedCheck).isWellFormed()) return this.value(s);
    const raw = scratchFor(s.length * 3);
    const n = raw.write(s, 0, 'utf8');
    if (this.len + 2 * n + 2 > this.buf.length) {
      // Room for exactly the escaped length (each quote and backslash gains one), not the worst case.
      let more = 2;
      for (let i = 0; i < n; i++) {
        const b = raw[i] as number;
        if (b === 0x22 || b === 0x5c) more++;
      }
      this.reserve(n + more);
    }
    const out = this.buf;
    const start = this.len;
    let j = start;
    out[j++] = 0x22;
    for (let i = 0; i < n; i++) {
      const b = raw[i] as number;
      if (b === 0x22 || b === 0x5c) {
        out[j++] = 0x5c;
        out[j++] = b;
      } else if (b < 0x20) {
        return this.value(s); // nothing written counts: len is still `start`
      } else out[j++] = b;
    }
    out[j++] = 0x22;
    this.len = j;
    return this;
  }

  /** JSON text given as a JS string (written as UTF-8). */
  text(text: string): this {
    const n = Buffer.byteLength(text, 'utf8');
    this.reserve(n);
    this.len += this.buf.write(text, this.len, 'utf8');
    return this;
  }

  /** Make room for about n more bytes now (one allocation instead of several doublings). */
  expect(n: number): this {
    this.reserve(n);
    return this;
  }

  /** The answer (a view of the internal buffer: do not write more after taking it). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Return the buffer to the pool: only once nothing reads `bytes()` any more (the answer is sent). */
  release(): void {
    this.pool?.release(this.buf);
  }
}
