/**
 * The GS1-Signature of a webhook delivery: HMAC-SHA256 over the exact body bytes, keyed with the
 * subscription's signatureToken (as UTF-8), sent as `sha256=<64 lowercase hex>`. The binding
 * leaves the scheme to the implementation and names HMAC-SHA256 as its example.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'GS1-Signature';

export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A receiver's check: does `header` sign `body` under `secret`? (Constant time in the digest.) */
export function verifySignature(secret: string, body: string | Uint8Array, header: string | undefined): boolean {
  if (header === undefined) return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header.trim());
  return got.length === want.length && timingSafeEqual(got, want);
}
