/**
 * Scratch-off codes (docs/alerts.md "Scratch-off codes"): a manufacturer prints a secret
 * code under a scratch-off panel and commits, at commissioning, a salted hash of it per pack in
 * the event's ILMD (the `scratchCodes` extension field of the tracechain namespace). The code never
 * reaches the chain in clear:
 *
 *   proof  = SHA-256("tracechain/scratch/v1" ‖ salt (16 bytes) ‖ UTF-8(code))
 *   commit = SHA-256(proof)
 *
 * The API hashes an entered code into its proof and compares SHA-256(proof) with the commitment;
 * a right check goes on chain as a `pack` tx carrying the proof, which every node checks against
 * the commitment (so no member can record a check without the code). Pure.
 */
import { createHash } from 'node:crypto';
import { isObject, type JsonObject } from '../common/json.js';
import { itemKeyOrUndefined } from './identifiers.js';

/** The tracechain EPCIS extension namespace (JSON-LD prefix `tc` by convention). */
export const TRACECHAIN_NS = 'https://tracechain.dev/epcis/';
export const SCRATCH_FIELD = 'scratchCodes';
const DOMAIN = Buffer.from('tracechain/scratch/v1', 'utf8');
const HEX16 = /^[0-9a-f]{32}$/;
const HEX32 = /^[0-9a-f]{64}$/;
/** Codes are what a person types: 4 to 64 characters, surrounding spaces ignored. */
export const CODE_PATTERN = /^[\x21-\x7e]{4,64}$/;

/** Normalise an entered code (trim); undefined when it cannot be a code. */
export function normaliseCode(code: string): string | undefined {
  const c = code.trim();
  return CODE_PATTERN.test(c) ? c : undefined;
}

export function scratchProof(saltHex: string, code: string): string {
  if (!HEX16.test(saltHex)) throw new RangeError('salt must be 16 bytes of lowercase hex');
  return createHash('sha256').update(DOMAIN).update(Buffer.from(saltHex, 'hex')).update(code, 'utf8').digest('hex');
}

export function scratchCommit(proofHex: string): string {
  if (!HEX32.test(proofHex)) throw new RangeError('proof must be 32 bytes of lowercase hex');
  return createHash('sha256').update(Buffer.from(proofHex, 'hex')).digest('hex');
}

/** The commitment for one pack (what a manufacturer's system puts in the ILMD); the salt is 16 random bytes it draws per pack. */
export function commitScratchCode(epc: string, code: string, saltHex: string): { epc: string; salt: string; commit: string } {
  return { epc, salt: saltHex, commit: scratchCommit(scratchProof(saltHex, code)) };
}

function localName(k: string): string {
  return k.slice(Math.max(k.lastIndexOf(':'), k.lastIndexOf('/'), k.lastIndexOf('#')) + 1);
}

function field(o: JsonObject, name: string): unknown {
  for (const [k, v] of Object.entries(o)) if (localName(k) === name) return v;
  return undefined;
}

/**
 * The commitments an event's ILMD carries: `tc:scratchCodes` is a list of
 * `{"tc:epc": EPC, "tc:salt": 32 hex, "tc:commit": 64 hex}`; entries naming an EPC the event
 * does not commission, or malformed, are ignored (the first per item counts).
 */
export function scratchCodesOf(event: JsonObject, commissioned: ReadonlySet<string>): { key: string; salt: string; commit: string }[] {
  const ilmd = event['ilmd'];
  if (!isObject(ilmd)) return [];
  const list = field(ilmd, SCRATCH_FIELD);
  if (!Array.isArray(list)) return [];
  const out: { key: string; salt: string; commit: string }[] = [];
  const seen = new Set<string>();
  for (const e of list) {
    if (!isObject(e)) continue;
    const epc = field(e, 'epc');
    const salt = field(e, 'salt');
    const commit = field(e, 'commit');
    if (typeof epc !== 'string' || typeof salt !== 'string' || typeof commit !== 'string' || !HEX16.test(salt) || !HEX32.test(commit)) continue;
    const key = itemKeyOrUndefined(epc);
    if (key === undefined || !commissioned.has(key) || seen.has(key)) continue;
    seen.add(key);
    out.push({ key, salt, commit });
  }
  return out;
}
