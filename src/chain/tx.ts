/**
 * Transactions: canonical bytes (RFC 8785 JCS), tx ID = SHA-256(JCS(body)), Ed25519
 * signature over "tracechain/tx/v1" ‖ txid, and a strict decoder that throws TxError codes.
 */
import canonicalize from 'canonicalize';
import { TxError } from '../common/errors.js';
import { sha256, sha256Text } from './sha256.js';
import { concatBytes, equalBytes, fromHex, fromUtf8, isHex, toHex, utf8 } from '../common/bytes.js';
import { sign, verify } from './keys.js';
import { checkGovAction } from './governance.js';
import { checkActionTx } from './alert-tx.js';
import type { AlertAction, GovAction, PackAction, SignedTx, TxBody } from './types.js';

export const TX_DOMAIN = utf8.encode('tracechain/tx/v1');
export const EVENT_ID_PATTERN = /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/;

export function jcs(value: unknown): string {
  const s = canonicalize(value);
  if (s === undefined) throw new TxError('MALFORMED', 'value has no JSON form');
  return s;
}

export function txBodyOf(tx: SignedTx | TxBody): TxBody {
  const body: TxBody = { v: tx.v, chain: tx.chain, kind: tx.kind, submitter: tx.submitter, time: tx.time, events: tx.events, eventIds: tx.eventIds };
  if (tx.gov !== undefined) body.gov = tx.gov;
  if (tx.alert !== undefined) body.alert = tx.alert;
  if (tx.pack !== undefined) body.pack = tx.pack;
  return body;
}

/** The body of an alert tx (a lifecycle change) or a pack tx (docs/alerts.md): one action, no events. */
export function actionTxBody(chain: string, submitter: string, time: number, action: { alert: AlertAction } | { pack: PackAction }): TxBody {
  return 'alert' in action ? { v: 1, chain, kind: 'alert', submitter, time, events: [], eventIds: [], alert: action.alert } : { v: 1, chain, kind: 'pack', submitter, time, events: [], eventIds: [], pack: action.pack };
}

/** The body of a governance tx (docs/governance.md): one action, no events. */
export function governanceTxBody(chain: string, submitter: string, time: number, gov: GovAction): TxBody {
  return { v: 1, chain, kind: 'governance', submitter, time, events: [], eventIds: [], gov };
}

/** Tx ID: SHA-256 of the body's JCS bytes. */
export function txId(tx: SignedTx | TxBody): Uint8Array {
  return sha256Text(jcs(txBodyOf(tx)));
}

export interface CanonicalTx {
  /** SHA-256(JCS(body)). */
  id: Uint8Array;
  /** JCS(body + sig): the bytes carried in blocks and gossip. */
  bytes: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// The signed form. JCS sorts keys, so a signed tx's canonical text is its body's canonical text
// with `"sig":"<hex>",` between "kind" and "submitter". The body's tail from "submitter" on has a
// fixed shape built from checked fields, so "sig" is put (and found) exactly, never searched for
// inside event data. This section is the one place that knows it: capture, decoding and the
// proof readers (api/tx-text.ts, api/provenance.ts) all come here.

/** The body's canonical tail from "submitter" on, for these fields. */
function bodyTail(tx: Pick<TxBody, 'submitter' | 'time' | 'v'>): string {
  return `,"submitter":${JSON.stringify(tx.submitter)},"time":${String(tx.time)},"v":${String(tx.v)}}`;
}

/** The signed tx's canonical text from its body's canonical text and the signature. Throws TxError MALFORMED. */
function withSig(bodyJcs: string, tx: Pick<TxBody, 'submitter' | 'time' | 'v'>, sigHex: string): string {
  const tail = bodyTail(tx);
  if (!bodyJcs.endsWith(tail)) throw new TxError('MALFORMED', 'tx body has an unexpected canonical form');
  return `${bodyJcs.slice(0, bodyJcs.length - tail.length)},"sig":${JSON.stringify(sigHex)}${tail}`;
}

/** Tx ID and canonical signed bytes from ONE canonicalisation of the body. */
export function canonicalTx(tx: SignedTx): CanonicalTx {
  const body = jcs(txBodyOf(tx));
  return { id: sha256Text(body), bytes: utf8.encode(withSig(body, tx, tx.sig)) };
}

/**
 * Build and sign a tx in one JCS pass: the body's canonical text is hashed for the tx ID, signed,
 * and the signature put where JCS puts it. Returns the signed tx's canonical text (what a block
 * and gossip carry, as UTF-8) and its ID.
 */
export function signCanonicalTx(body: TxBody, secretKey: Uint8Array): { id: Uint8Array; text: string } {
  const bodyJcs = jcs(txBodyOf(body));
  const id = sha256Text(bodyJcs);
  return { id, text: withSig(bodyJcs, body, toHex(sign(secretKey, txSigningMessage(id)))) };
}

/**
 * The end of a valid signed tx's canonical text: the comma closing "kind", then sig, submitter,
 * time and v in the only form checkTxShape admits.
 */
const SIGNED_TAIL = /,"sig":"[0-9a-f]{128}","submitter":"[0-9a-f]{40}","time":(?:0|[1-9][0-9]*),"v":1\}$/;
/** `"sig":"<128 hex>",`: the signed text without this member is the body's canonical text. */
const SIG_MEMBER_LENGTH = '"sig":"'.length + 128 + '",'.length;
/** How many chars from its end a signed text's tail (the longest is 223) lies within. */
const SIGNED_TAIL_WINDOW = 256;

/** Where the "sig" member starts in a signed tx's canonical text, read through its last chars (`tailOf(start)`); -1 if it does not end as a valid tx does. */
function sigMemberAt(length: number, tailOf: (start: number) => string): number {
  const start = Math.max(0, length - SIGNED_TAIL_WINDOW);
  const m = SIGNED_TAIL.exec(tailOf(start));
  return m === null ? -1 : start + m.index + 1;
}

/**
 * The tx ID from a signed tx's canonical UTF-8 bytes without parsing them (a block's txs, read in
 * one piece): SHA-256 of the bytes without the sig member. Undefined when they do not end as a
 * valid tx's do (then decode them). Whether the rest is canonical is not checked here: a caller
 * that trusts no one compares the ID with the block's merkle root.
 */
export function txIdOfCanonicalBytes(tx: Uint8Array): Uint8Array | undefined {
  const at = sigMemberAt(tx.length, (start) => Buffer.from(tx.buffer, tx.byteOffset + start, tx.length - start).toString('latin1'));
  if (at < 0) return undefined;
  return sha256(tx.subarray(0, at), tx.subarray(at + SIG_MEMBER_LENGTH));
}

/** As txIdOfCanonicalBytes, from the signed tx's canonical text as a JS string (read from the store as one). */
export function txIdOfCanonicalText(text: string): Uint8Array | undefined {
  const at = sigMemberAt(text.length, (start) => (start === 0 ? text : text.slice(start)));
  if (at < 0) return undefined;
  return sha256Text(text.slice(0, at), text.slice(at + SIG_MEMBER_LENGTH));
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

const TX_KEYS = new Set(['v', 'chain', 'kind', 'submitter', 'time', 'events', 'eventIds', 'gov', 'alert', 'pack', 'sig']);
/** Every tx kind. */
const TX_KINDS: readonly string[] = ['epcis', 'governance', 'alert', 'pack'];

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
  if (typeof o.kind !== 'string' || !TX_KINDS.includes(o.kind)) throw new TxError('MALFORMED', `kind must be one of ${TX_KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (!isHex(o.submitter, 20)) throw new TxError('MALFORMED', 'submitter must be a 20-byte member key ID in lowercase hex');
  if (typeof o.time !== 'number' || !Number.isSafeInteger(o.time) || o.time < 0) throw new TxError('MALFORMED', 'time must be a non-negative integer (ms)');
  if (!isHex(o.sig, 64)) throw new TxError('MALFORMED', 'sig must be 64 bytes of lowercase hex');
  if (!Array.isArray(o.events) || !Array.isArray(o.eventIds)) throw new TxError('MALFORMED', 'events and eventIds must be arrays');
  if (o.kind === 'governance') {
    // A governance tx (chain/governance.ts) carries one action and no events.
    if (o.events.length !== 0 || o.eventIds.length !== 0) throw new TxError('MALFORMED', 'a governance tx carries no events');
    checkGovAction(o.gov);
    if (o.alert !== undefined || o.pack !== undefined) throw new TxError('MALFORMED', 'a governance tx carries only "gov"');
    return o as unknown as SignedTx;
  }
  if (o.gov !== undefined) throw new TxError('MALFORMED', 'only a governance tx carries "gov"');
  if (o.kind === 'alert' || o.kind === 'pack') return checkActionTx(o);
  if (o.alert !== undefined || o.pack !== undefined) throw new TxError('MALFORMED', '"alert" and "pack" belong to alert and pack txs');
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
