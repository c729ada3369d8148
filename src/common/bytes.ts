/** Byte helpers shared by every codec. Pure, no I/O. */

const HEX = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Lowercase hex of an exact length (in bytes, if given) to bytes; throws RangeError otherwise. */
export function fromHex(hex: string, length?: number): Uint8Array {
  if (typeof hex !== 'string' || !HEX.test(hex)) throw new RangeError('not lowercase hex of whole bytes');
  if (length !== undefined && hex.length !== length * 2) throw new RangeError(`expected ${length} bytes of hex, got ${hex.length / 2}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function isHex(value: unknown, length?: number): value is string {
  return typeof value === 'string' && HEX.test(value) && (length === undefined || value.length === length * 2);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export const utf8 = new TextEncoder();
export const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Big-endian unsigned 256-bit integer from 32 bytes. */
export function bytesToBigIntBE(bytes: Uint8Array): bigint {
  let hex = toHex(bytes);
  if (hex.length === 0) hex = '0';
  return BigInt('0x' + hex);
}

/** Big-endian fixed-width encoding of a non-negative bigint. */
export function bigIntToBytesBE(value: bigint, length: number): Uint8Array {
  if (value < 0n) throw new RangeError('negative');
  const hex = value.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new RangeError('too large');
  return fromHex(hex);
}

export function u32BE(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}
