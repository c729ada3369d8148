/**
 * Transactions: canonical bytes (RFC 8785 JCS), tx ID = SHA-256(JCS(body)), Ed25519
 * signature over "tracechain/tx/v1" ‖ txid, and a strict decoder that throws TxError codes.
 */
import canonicalize from 'canonicalize';
import { TxError } from '../common/errors.js';
import { sha256 } from './hash.js';
import { concatBytes, equalBytes, fromHex, fromUtf8, isHex, toHex, utf8 } from '../common/bytes.js';
import { sign, verify } from './keys.js';
import type { SignedTx, TxBody } from './types.js';

export const TX_DOMAIN = utf8.encode('tracechain/tx/v1');
export const EVENT_ID_PATTERN = /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/;

export function jcs(value: unknown): string {
  const s = canonicalize(value);
  if (s === undefined) throw new TxError('MALFORMED', 'value has no JSON form');
  return s;
}

export function txBodyOf(tx: SignedTx | TxBody): TxBody {
  return { v: tx.v, chain: tx.chain, kind: tx.kind, submitter: tx.submitter, time: tx.time, events: tx.events, eventIds: tx.eventIds };
}

/** Tx ID: SHA-256 of the body's JCS bytes. */
export function txId(tx: SignedTx | TxBody): Uint8Array {
  return sha256(utf8.encode(jcs(txBodyOf(tx))));
}

export interface CanonicalTx {
  /** SHA-256(JCS(body)). */
  id: Uint8Array;
  /** JCS(body + sig): the bytes carried in blocks and gossip. */
  bytes: Uint8Array;
}

/**
 * Tx ID and canonical signed bytes from ONE canonicalisation of the body. JCS sorts keys, so
 * the signed form is the body's JCS with `"sig":"…"` between `kind` and `submitter`; the
 * body's top-level tail after `events` has a fixed shape built from checked fields, so it is
 * located exactly, never searched for inside event data.
 */
export function canonicalTx(tx: SignedTx): CanonicalTx {
  const body = jcs(txBodyOf(tx));
  const tail = `,"kind":${JSON.stringify(tx.kind)},"submitter":${JSON.stringify(tx.submitter)},"time":${String(tx.time)},"v":${String(tx.v)}}`;
  if (!body.endsWith(tail)) throw new TxError('MALFORMED', 'tx body has an unexpected canonical form');
  const signed = `${body.slice(0, body.length - tail.length)},"kind":${JSON.stringify(tx.kind)},"sig":${JSON.stringify(tx.sig)},"submitter":${JSON.stringify(tx.submitter)},"time":${String(tx.time)},"v":${String(tx.v)}}`;
  return { id: sha256(utf8.encode(body)), bytes: utf8.encode(signed) };
}

export function txSigningMessage(id: Uint8Array): Uint8Array {
  return concatBytes(TX_DOMAIN, id);
}

export function signTx(body: TxBody, secretKey: Uint8Array): SignedTx {
  const id = txId(body);
  return { ...txBodyOf(body), sig: toHex(sign(secretKey, txSigningMessage(id))) };
}

export function verifyTxSignature(tx: SignedTx, publicKey: Uint8Array, id: Uint8Array = txId(tx)): boolean {
  return isHex(tx.sig, 64) && verify(publicKey, txSigningMessage(id), fromHex(tx.sig));
}

/** Canonical bytes of a signed tx as carried in blocks and gossip: JCS of body + sig. */
export function encodeTx(tx: SignedTx): Uint8Array {
  return utf8.encode(jcs(tx));
}

const TX_KEYS = new Set(['v', 'chain', 'kind', 'submitter', 'time', 'events', 'eventIds', 'sig']);

export interface TxLimits {
  maxTxBytes: number;
  maxEventsPerTx: number;
}

/** Structural check of a parsed tx object; throws TxError. Does not verify signature or events. */
export function checkTxShape(value: unknown, limits: TxLimits): SignedTx {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TxError('MALFORMED', 'tx is not a JSON object');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TX_KEYS.has(k)) throw new TxError('MALFORMED', `unexpected tx field "${k}"`);
  if (o.v !== 1) throw new TxError('MALFORMED', 'tx version must be 1');
  if (!isHex(o.chain, 32)) throw new TxError('MALFORMED', 'chain must be 32 bytes of lowercase hex');
  if (o.kind !== 'epcis') throw new TxError('MALFORMED', 'kind must be "epcis"');
  if (!isHex(o.submitter, 20)) throw new TxError('MALFORMED', 'submitter must be a 20-byte member key ID in lowercase hex');
  if (typeof o.time !== 'number' || !Number.isSafeInteger(o.time) || o.time < 0) throw new TxError('MALFORMED', 'time must be a non-negative integer (ms)');
  if (!isHex(o.sig, 64)) throw new TxError('MALFORMED', 'sig must be 64 bytes of lowercase hex');
  if (!Array.isArray(o.events) || !Array.isArray(o.eventIds)) throw new TxError('MALFORMED', 'events and eventIds must be arrays');
  if (o.events.length === 0) throw new TxError('NO_EVENTS', 'a tx carries at least one event');
  if (o.events.length > limits.maxEventsPerTx) {
    throw new TxError('TOO_MANY_EVENTS', `a tx carries at most ${limits.maxEventsPerTx} events, this one ${o.events.length}`);
  }
  if (o.events.length !== o.eventIds.length) throw new TxError('MALFORMED', 'events and eventIds differ in length');
  for (const e of o.events) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new TxError('MALFORMED', 'each event must be a JSON object');
  }
  const seen = new Set<string>();
  for (const id of o.eventIds) {
    if (typeof id !== 'string' || !EVENT_ID_PATTERN.test(id)) throw new TxError('MALFORMED', 'each event ID must be a CBV 2.0 ni:///sha-256 URI');
    if (seen.has(id)) throw new TxError('DUPLICATE_EVENT', `event ${id} appears twice in the tx`, { eventId: id });
    seen.add(id);
  }
  return o as unknown as SignedTx;
}

/**
 * Decode bytes that must be a tx in canonical form: shape checks, then the canonical bytes
 * recomputed (one JCS pass) must equal the input, so a tx has exactly one encoding.
 */
export function decodeCanonicalTx(bytes: Uint8Array, limits: TxLimits): { tx: SignedTx } & CanonicalTx {
  const tx = decodeTx(bytes, limits);
  const c = canonicalTx(tx);
  if (!equalBytes(c.bytes, bytes)) throw new TxError('MALFORMED', 'tx is not in canonical (RFC 8785) form');
  return { tx, ...c };
}

/** Decode tx bytes (JSON) with size and shape checks. Throws TxError, never crashes. */
export function decodeTx(bytes: Uint8Array, limits: TxLimits): SignedTx {
  if (bytes.length > limits.maxTxBytes) throw new TxError('OVERSIZE', `tx is ${bytes.length} bytes, limit ${limits.maxTxBytes}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8.decode(bytes));
  } catch (err) {
    throw new TxError('MALFORMED', `tx is not UTF-8 JSON: ${(err as Error).message}`);
  }
  return checkTxShape(parsed, limits);
}
