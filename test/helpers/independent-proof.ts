/**
 * An independent checker of tracechain event proofs, written from DESIGN.md alone with
 * node:crypto: it imports nothing of the node (no chain/, no trace/), so a bug shared by the node's
 * own code and its verifier cannot hide here. Beyond what the explorer's page checks
 * (assets/explorer/proof.js), it recomputes the event's ID from the event's content with its own
 * CBV 2.0 event hash (independent-event-hash.ts) instead of trusting the ID the tx lists.
 * It never throws: every failure is a line in `problems`.
 */
import { createHash } from 'node:crypto';
import { standaloneEventId } from './independent-event-hash.js';

export interface IndependentProof {
  tx: string;
  txIndex: number;
  txCount: number;
  auditPath: string[];
  merkleRoot: string;
  blockHash: string;
  header: string;
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 8785 for the JSON our txs hold: sorted keys (UTF-16 order), ES number and string forms. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof implies, or null. */
function rootFromPath(leaf: Buffer, index: number, size: number, path: Buffer[]): Buffer | null {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 ? r : null;
}

/** Bitcoin compact target → bigint (no negative/overflow: refused). */
function compactTarget(bits: number): bigint | null {
  const exp = bits >>> 24;
  const mant = bits & 0x007fffff;
  if (bits & 0x00800000 || mant === 0) return null;
  const t = exp <= 3 ? BigInt(mant >>> (8 * (3 - exp))) : BigInt(mant) << BigInt(8 * (exp - 3));
  return t === 0n || t >> 256n !== 0n ? null : t;
}

export interface IndependentResult {
  ok: boolean;
  problems: string[];
  txId: string;
  height: number;
}

/** Checks one event proof; the caller checks the block is on a main chain it trusts. */
export function checkProofIndependently(eventId: string, p: IndependentProof): IndependentResult {
  const problems: string[] = [];
  const result = (txId = '', height = -1): IndependentResult => ({ ok: problems.length === 0, problems, txId, height });
  if (p === null || typeof p !== 'object' || typeof p.tx !== 'string') {
    problems.push('no proof');
    return result();
  }
  // 1. The tx: canonical JSON, its ID, and the event in it, whose content must hash to eventId.
  let tx: Record<string, unknown>;
  try {
    const parsed = JSON.parse(p.tx) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    tx = parsed as Record<string, unknown>;
  } catch (err) {
    problems.push(`tx is not a JSON object: ${(err as Error).message}`);
    return result();
  }
  if (canonicalJson(tx) !== p.tx) problems.push('tx not canonical');
  const body = { ...tx };
  delete body['sig'];
  const txId = sha256(Buffer.from(canonicalJson(body), 'utf8'));
  const ids = Array.isArray(tx['eventIds']) ? (tx['eventIds'] as unknown[]) : [];
  const events = Array.isArray(tx['events']) ? (tx['events'] as unknown[]) : [];
  const at = ids.indexOf(eventId);
  if (at < 0) problems.push('event ID not in tx');
  else {
    const event = events[at];
    let recomputed: string | undefined;
    try {
      recomputed = typeof event === 'object' && event !== null && !Array.isArray(event) ? standaloneEventId(event as never) : undefined;
    } catch (err) {
      problems.push(`event ${at} cannot be hashed: ${(err as Error).message}`);
    }
    // An EPCIS error declaration hashes to the event it declares erroneous (CBV 2.0 leaves
    // errorDeclaration out) and is recorded under SHA-256("tracechain:errorDeclaration" ‖ 0x00 ‖ that hash).
    const declaration = typeof event === 'object' && event !== null && typeof (event as Record<string, unknown>)['errorDeclaration'] === 'object';
    if (recomputed !== undefined && declaration) {
      const m = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/.exec(recomputed);
      recomputed = m === null ? recomputed : `ni:///sha-256;${sha256(Buffer.from('tracechain:errorDeclaration\u0000', 'utf8'), Buffer.from(m[1] as string, 'hex')).toString('hex')}?ver=CBV2.0`;
    }
    if (recomputed === undefined) problems.push(`no event at position ${at} of the tx`);
    else if (recomputed !== eventId) problems.push(`event content does not hash to the event ID (it hashes to ${recomputed})`);
  }
  // 2. The RFC 6962 audit path from the tx's leaf to the merkle root, which the header carries.
  const hex32 = (h: unknown): boolean => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h);
  if (!Array.isArray(p.auditPath) || !p.auditPath.every(hex32) || !hex32(p.merkleRoot)) problems.push('audit path or merkle root is not 32-byte hex');
  else {
    const leaf = sha256(Buffer.from([0]), txId);
    const root = Number.isSafeInteger(p.txIndex) && Number.isSafeInteger(p.txCount) && p.txIndex >= 0 ? rootFromPath(leaf, p.txIndex, p.txCount, p.auditPath.map((h) => Buffer.from(h, 'hex'))) : null;
    if (root === null || root.toString('hex') !== p.merkleRoot) problems.push('audit path does not reach the merkle root');
  }
  // 3. The header: 112 bytes carrying that root, hashing to the block hash, meeting its target.
  const header = typeof p.header === 'string' && /^([0-9a-f]{2})*$/.test(p.header) ? Buffer.from(p.header, 'hex') : Buffer.alloc(0);
  if (header.length !== 112) {
    problems.push('header is not 112 bytes');
    return result(txId.toString('hex'));
  }
  if (header.subarray(40, 72).toString('hex') !== p.merkleRoot) problems.push('header does not carry the merkle root');
  const hash = sha256(sha256(header));
  if (hash.toString('hex') !== p.blockHash) problems.push('header does not hash to the block hash');
  const target = compactTarget(header.readUInt32LE(100));
  if (target === null || BigInt('0x' + hash.toString('hex')) > target) problems.push('proof of work does not hold');
  return result(txId.toString('hex'), header.readUInt32LE(4));
}
