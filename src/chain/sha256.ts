/** SHA-256 helpers (one-off and double hashes). node:crypto (OpenSSL, SHA extensions); pure computation. */
import { createHash, hash } from 'node:crypto';

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * SHA-256 of the UTF-8 bytes of strings (concatenated), hashed straight from the strings: no
 * encoded copy of a large text is made first (one string: one-shot crypto.hash).
 */
export function sha256Text(...parts: string[]): Uint8Array {
  let d: Buffer;
  if (parts.length === 1) d = hash('sha256', parts[0] as string, 'buffer');
  else {
    const h = createHash('sha256');
    for (const p of parts) h.update(p, 'utf8');
    d = h.digest();
  }
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** SHA-256(SHA-256(data)): the block hash. */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}
