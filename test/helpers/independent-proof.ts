/**
 * An independent checker of tracechain event proofs, written from DESIGN.md alone with
 * node:crypto: it imports nothing of the node (no chain/, no trace/), so a bug shared by the node's
 * own code and its verifier cannot hide here.
 */
import { createHash } from 'node:crypto';

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
  const tx = JSON.parse(p.tx) as Record<string, unknown>;
  if (canonicalJson(tx) !== p.tx) problems.push('tx not canonical');
  const body = { ...tx };
  delete body['sig'];
  const txId = sha256(Buffer.from(canonicalJson(body), 'utf8'));
  if (!(Array.isArray(tx['eventIds']) && (tx['eventIds'] as unknown[]).includes(eventId))) problems.push('event ID not in tx');
  const leaf = sha256(Buffer.from([0]), txId);
  const root = rootFromPath(
    leaf,
    p.txIndex,
    p.txCount,
    p.auditPath.map((h) => Buffer.from(h, 'hex')),
  );
  if (root === null || root.toString('hex') !== p.merkleRoot) problems.push('audit path does not reach the merkle root');
  const header = Buffer.from(p.header, 'hex');
  if (header.length !== 112) problems.push('header is not 112 bytes');
  if (header.subarray(40, 72).toString('hex') !== p.merkleRoot) problems.push('header does not carry the merkle root');
  const hash = sha256(sha256(header));
  if (hash.toString('hex') !== p.blockHash) problems.push('header does not hash to the block hash');
  const target = compactTarget(header.readUInt32LE(100));
  if (target === null || BigInt('0x' + hash.toString('hex')) > target) problems.push('proof of work does not hold');
  return { ok: problems.length === 0, problems, txId: txId.toString('hex'), height: header.readUInt32LE(4) };
}
