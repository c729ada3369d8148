/**
 * Write a JSON answer straight into bytes, splicing in slices of stored canonical JSON without
 * parsing them and re-serialising them. The result is byte-for-byte what `JSON.stringify` of the
 * equivalent object gives (the tests check this), but a large /trace answer is never held as a
 * JS string.
 */
import { isAscii } from 'node:buffer';

export class JsonBytes {
  private buf: Buffer;
  private len = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(256, initialBytes));
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Bytes that are already JSON text (e.g. a canonical event), copied as they are. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
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

  /** JSON text given as a JS string (written as UTF-8). */
  text(text: string): this {
    const n = Buffer.byteLength(text, 'utf8');
    this.reserve(n);
    this.len += this.buf.write(text, this.len, 'utf8');
    return this;
  }

  /**
   * UTF-8 bytes (valid UTF-8, e.g. a stored canonical tx) as a JSON string: as
   * `value(utf8Decode(bytes))`. Read the bytes as latin1 (one JS char per byte), `JSON.stringify`
   * that (it escapes `"`, `\` and control characters, all ASCII, and leaves every other char
   * alone: outside ASCII it escapes only lone surrogates, which valid UTF-8 cannot encode), and
   * write the result back as latin1. (Native all the way: faster than escaping byte by byte in JS.)
   */
  stringOfUtf8(bytes: Uint8Array): this {
    const escaped = JSON.stringify(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
    this.reserve(escaped.length);
    this.len += this.buf.write(escaped, this.len, 'latin1');
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
}

/** The length in UTF-16 code units of the string these (valid UTF-8) bytes decode to: what `string.length` would say. */
export function utf16Length(bytes: Uint8Array): number {
  if (isAscii(bytes)) return bytes.length;
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if ((b & 0xc0) !== 0x80) n += b >= 0xf0 ? 2 : 1; // a lead byte (or ASCII); 4-byte sequences are surrogate pairs
  }
  return n;
}
