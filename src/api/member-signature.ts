/**
 * A member's signature on a request, instead of a token, for the routes that accept one (the
 * verification requests: `config.alwaysToken`): a pharmacy's system signs with its member key
 * what it asks, and the node checks the key against the member registry (an active member's
 * current key) and the time against its clock. Headers:
 *
 *   Tracechain-Key: <key ID, 40 hex>      Tracechain-Date: <ISO 8601 time>
 *   Tracechain-Signature: <128 hex: Ed25519 over requestSigningBytes(method, url, date)>
 *
 * The signature covers the method, the URL as sent (path and query) and the date; a request more
 * than SIGNATURE_WINDOW_MS away from the node's clock is refused. A verification request is a
 * read, so a replay within the window tells the replayer nothing new; no nonce is kept.
 */
import type { FastifyRequest } from 'fastify';
import { fromHex, toHex } from '../common/bytes.js';
import { sign, verify } from '../chain/keys.js';
import type { MemberRegistry } from '../chain/registry.js';
import { HttpProblem } from './problem.js';

export const KEY_HEADER = 'tracechain-key';
export const DATE_HEADER = 'tracechain-date';
export const SIGNATURE_HEADER = 'tracechain-signature';
export const SIGNATURE_WINDOW_MS = 300_000;

const DOMAIN = 'tracechain/request/v1';

/** The bytes a member signs: domain, method, URL (path and query as sent) and date, one per line. */
export function requestSigningBytes(method: string, url: string, date: string): Uint8Array {
  return new TextEncoder().encode(`${DOMAIN}\n${method.toUpperCase()}\n${url}\n${date}`);
}

/** The headers of a request signed by a member key (for clients and tests). */
export function signRequest(secretKey: Uint8Array, keyIdHex: string, method: string, url: string, date: string): Record<string, string> {
  return { [KEY_HEADER]: keyIdHex, [DATE_HEADER]: date, [SIGNATURE_HEADER]: toHex(sign(secretKey, requestSigningBytes(method, url, date))) };
}

function one(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function refused(detail: string): HttpProblem {
  return new HttpProblem('BAD_TOKEN', `member signature refused: ${detail}`);
}

/**
 * The signing member of a request, or undefined when it carries no member signature; throws
 * 401 naming why a signature it carries is refused.
 */
export function memberSigner(registry: MemberRegistry, req: FastifyRequest, now: number): { name: string } | undefined {
  const keyId = one(req, KEY_HEADER);
  const date = one(req, DATE_HEADER);
  const signature = one(req, SIGNATURE_HEADER);
  if (keyId === undefined && signature === undefined) return undefined;
  if (keyId === undefined || date === undefined || signature === undefined) throw refused(`send all of ${KEY_HEADER}, ${DATE_HEADER} and ${SIGNATURE_HEADER}`);
  if (!/^[0-9a-f]{40}$/.test(keyId)) throw refused(`${KEY_HEADER} must be a key ID (40 lowercase hex)`);
  if (!/^[0-9a-f]{128}$/.test(signature)) throw refused(`${SIGNATURE_HEADER} must be 128 lowercase hex (an Ed25519 signature)`);
  const at = Date.parse(date);
  if (!Number.isFinite(at)) throw refused(`${DATE_HEADER} is not a date`);
  if (Math.abs(at - now) > SIGNATURE_WINDOW_MS) throw refused(`${DATE_HEADER} is more than ${SIGNATURE_WINDOW_MS / 1000} s from this node's clock (${new Date(now).toISOString()})`);
  const standing = registry.signer(keyId);
  if ('error' in standing) throw refused(`key ${keyId}: ${standing.error.message}`);
  const publicKey = registry.publicKey(keyId);
  if (publicKey === undefined || !verify(publicKey, requestSigningBytes(req.method, req.url, date), fromHex(signature, 64))) throw refused('the signature does not verify');
  return { name: `member:${standing.member.name}` };
}
