/** SHA-256 helpers (one-off and double hashes). node:crypto (OpenSSL, SHA extensions); pure computation. */
import { createHash } from 'node:crypto';

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** SHA-256(SHA-256(data)): the block hash. */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}
