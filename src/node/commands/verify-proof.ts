/**
 * `tracechain verify-proof FILE|-`: checks a saved /trace or /events/:id/proof answer without trusting
 * the node that gave it. For each event:
 *   1. the proof's tx is canonical JSON; its ID is recomputed (SHA-256 of the body's RFC 8785 form);
 *   2. the event ID is in the tx, the event is the tx's event, and its CBV 2.0 hash is that ID;
 *   3. the RFC 6962 audit path leads from the tx ID to the merkle root;
 *   4. the 112-byte header carries that root and hashes (SHA-256d) to the block hash, which meets
 *      the header's own proof-of-work target;
 *   5. the node at --api (any node of the consortium) has that header on its main chain at that
 *      height, with the same tx ID at that index of as many txs.
 * Exit 0 when every event checks out; 1 otherwise (each failure named).
 */
import { fromHex, toHex, utf8 } from '../../common/bytes.js';
import { sha256, sha256d } from '../../chain/sha256.js';
import { decodeHeader, HEADER_SIZE } from '../../chain/header.js';
import { verifyAuditPath } from '../../chain/merkle.js';
import { jcs, txBodyOf } from '../../chain/tx.js';
import type { SignedTx } from '../../chain/types.js';
import { hashMeetsTarget, targetFromBits } from '../../consensus/target.js';
import { eventIdOf } from '../../trace/document.js';
import { checkReveal, commitmentOfId } from '../../trace/private-event.js';
import type { JsonObject } from '../../common/json.js';
import { recordIdOf } from '../../trace/correction.js';
import type { Proof } from '../../api/proof-material.js';
import { ApiClient, ApiError, readInput, runClientCommand, type ClientFlags } from './client.js';
import { describeVia } from './trace.js';

/** The proof object of a /trace or /events/:id/proof answer (the API's own type). */
export type ProofJson = Proof;

export interface EntryJson {
  eventId: string;
  event?: Record<string, unknown>;
  proof: ProofJson | null;
  /** A private event's revealed body (GET /private/{commitment}): null once purged. */
  body?: { eventId: string; event: Record<string, unknown>; salt: string } | null;
  bodyPurged?: boolean;
  /** A /trace journey step that does not name the item: what it came through. */
  via?: string;
  path?: string[];
}

export interface OfflineResult {
  eventId: string;
  problems: string[];
  /** A private event: whether its body was checked, or purged. */
  privateBody?: 'verified' | 'purged' | 'not shown';
  txId?: string;
  height?: number;
  blockHash?: string;
  headerHex?: string;
}

function isHex(v: unknown, bytes: number): v is string {
  return typeof v === 'string' && v.length === bytes * 2 && /^[0-9a-f]*$/.test(v);
}

/** Steps 1–4: everything that needs no node. */
export function checkOffline(entry: EntryJson): OfflineResult {
  const r: OfflineResult = { eventId: entry.eventId, problems: [] };
  const p = entry.proof;
  if (p === null || p === undefined) {
    r.problems.push('no proof: the event is not in a block yet (pending)');
    return r;
  }
  if (!isHex(p.header, HEADER_SIZE) || !isHex(p.blockHash, 32) || !isHex(p.merkleRoot, 32) || !Array.isArray(p.auditPath) || !p.auditPath.every((h) => isHex(h, 32))) {
    r.problems.push('the proof is malformed (header, blockHash, merkleRoot or auditPath is not hex of the right length)');
    return r;
  }
  let tx: SignedTx;
  try {
    tx = JSON.parse(p.tx) as SignedTx;
  } catch {
    r.problems.push('proof.tx is not JSON');
    return r;
  }
  if (jcs(tx) !== p.tx) r.problems.push('proof.tx is not in canonical (RFC 8785) form');
  const txId = sha256(utf8.encode(jcs(txBodyOf(tx))));
  r.txId = toHex(txId);
  const i = Array.isArray(tx.eventIds) ? tx.eventIds.indexOf(entry.eventId) : -1;
  if (i < 0) r.problems.push(`event ID ${entry.eventId} is not in the tx`);
  else {
    const ev = tx.events[i] as Record<string, unknown>;
    if (entry.event !== undefined && jcs(entry.event) !== jcs(ev)) r.problems.push('the event shown differs from the event in the tx');
    if (tx.kind === 'private') checkPrivateBody(entry, ev, r);
    // An error declaration's record ID is derived from its event's hash (trace/correction.ts).
    else if (recordIdOf(ev) !== entry.eventId) r.problems.push("the tx's event does not hash (CBV 2.0) to its event ID");
  }
  if (!verifyAuditPath(txId, p.txIndex, p.txCount, p.auditPath.map((h) => fromHex(h, 32)), fromHex(p.merkleRoot, 32))) {
    r.problems.push(`the audit path does not lead from tx ${r.txId} (index ${p.txIndex} of ${p.txCount}) to merkle root ${p.merkleRoot}`);
  }
  const headerBytes = fromHex(p.header, HEADER_SIZE);
  const header = decodeHeader(headerBytes);
  r.height = header.height;
  r.headerHex = p.header;
  if (toHex(header.merkleRoot) !== p.merkleRoot) r.problems.push('the header does not carry that merkle root');
  const hash = sha256d(headerBytes);
  r.blockHash = toHex(hash);
  if (r.blockHash !== p.blockHash) r.problems.push(`the header hashes to ${r.blockHash}, not ${p.blockHash}`);
  let target: bigint | undefined;
  try {
    target = targetFromBits(header.bits);
  } catch {
    r.problems.push(`the header's bits ${header.bits} are not a valid target`);
  }
  if (target !== undefined && !hashMeetsTarget(hash, target)) r.problems.push("the block hash does not meet the header's proof-of-work target");
  return r;
}

/**
 * A private event (docs/confidentiality.md): the tx carries its projection and its ID is the
 * commitment; the revealed body and salt must open that commitment, the projection must be the
 * body's, and the body's CBV 2.0 hash must be the event ID shown for it. A purged body is said,
 * not failed: the commitment and its block still prove that something was recorded then.
 */
function checkPrivateBody(entry: EntryJson, projection: Record<string, unknown>, r: OfflineResult): void {
  const commitment = commitmentOfId(entry.eventId);
  if (commitment === undefined) {
    r.problems.push(`${entry.eventId} is not a commitment`);
    return;
  }
  if (entry.body === null || entry.body === undefined) {
    r.privateBody = entry.bodyPurged === true ? 'purged' : 'not shown';
    return;
  }
  const check = checkReveal({ event: entry.body.event as JsonObject, salt: entry.body.salt }, commitment, projection);
  if (!check.ok) r.problems.push(`the private body does not check: ${check.message}`);
  else if (eventIdOf(entry.body.event) !== entry.body.eventId) r.problems.push('the revealed event does not hash (CBV 2.0) to the event ID shown for it');
  else r.privateBody = 'verified';
}

interface BlockJson {
  hash: string;
  height: number;
  header: string;
  txIds: string[];
}

/** Step 5: against a node's main chain (cached per height). */
export async function checkOnline(r: OfflineResult, proof: ProofJson, client: ApiClient, cache: Map<number, BlockJson | null>): Promise<{ confirmations?: number }> {
  if (r.height === undefined) return {};
  let b = cache.get(r.height);
  if (b === undefined) {
    try {
      b = await client.get<BlockJson & { confirmations?: number }>(`/blocks/${r.height}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      b = null;
    }
    cache.set(r.height, b);
  }
  if (b === null) {
    r.problems.push(`the node at ${client.base} has no main-chain block at height ${r.height}`);
    return {};
  }
  if (b.hash !== r.blockHash || b.header !== r.headerHex) r.problems.push(`block ${r.blockHash} is not on the main chain of ${client.base} (height ${r.height} is ${b.hash} there)`);
  else {
    if (b.txIds.length !== proof.txCount) r.problems.push(`the block has ${b.txIds.length} txs, the proof says ${proof.txCount}`);
    if (b.txIds[proof.txIndex] !== r.txId) r.problems.push(`tx ${proof.txIndex} of the block is not ${r.txId ?? '?'}`);
  }
  return { confirmations: (b as { confirmations?: number }).confirmations };
}

/** The entries of a saved answer: a /trace answer ({events}) or one /events/:id/proof answer. */
export function entriesOf(doc: unknown): EntryJson[] {
  if (typeof doc !== 'object' || doc === null) throw new Error('not a JSON object');
  const d = doc as { events?: unknown; eventId?: unknown; proof?: unknown };
  if (Array.isArray(d.events)) return d.events as EntryJson[];
  if (typeof d.eventId === 'string' && 'proof' in d) return [d as EntryJson];
  throw new Error('not a /trace or /events/{eventId}/proof answer (no "events" array, no "eventId" with "proof")');
}

export function verifyProofCommand(file: string, flags: ClientFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('verify-proof', async () => {
    const text = (await readInput(file)).toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new Error(`${file === '-' ? 'standard input' : file} is not JSON: ${(err as Error).message}`);
    }
    const entries = entriesOf(doc);
    if (entries.length === 0) throw new Error('the answer holds no events to check');
    const client = await ApiClient.fromFlags(flags);
    const cache = new Map<number, BlockJson | null>();
    const results: { eventId: string; ok: boolean; via?: string; height?: number; blockHash?: string; confirmations?: number; privateBody?: string; problems: string[] }[] = [];
    for (const e of entries) {
      const r = checkOffline(e);
      let conf: number | undefined;
      if (r.problems.length === 0 && e.proof) conf = (await checkOnline(r, e.proof, client, cache)).confirmations;
      const via = describeVia(e);
      results.push({ eventId: e.eventId, ok: r.problems.length === 0, ...(via ? { via } : {}), height: r.height, blockHash: r.blockHash, confirmations: conf, ...(r.privateBody ? { privateBody: r.privateBody } : {}), problems: r.problems });
    }
    const ok = results.every((r) => r.ok);
    if (flags.json) out.write(JSON.stringify({ ok, node: client.base, results }) + '\n');
    else {
      for (const r of results) {
        const via = r.via !== undefined ? `  (${r.via})` : '';
        const body = r.privateBody === undefined ? '' : r.privateBody === 'verified' ? ', private body verified' : r.privateBody === 'purged' ? ', body purged' : ', private body not shown';
        if (r.ok) out.write(`ok    ${r.eventId}  block ${r.height} ${r.blockHash}${r.confirmations !== undefined ? `, ${r.confirmations} confirmations` : ''}${body}${via}\n`);
        else out.write(`FAIL  ${r.eventId}${via}\n${r.problems.map((p) => `        ${p}`).join('\n')}\n`);
      }
      out.write(ok ? `all ${results.length} proof(s) verified against ${client.base}\n` : `${results.filter((r) => !r.ok).length} of ${results.length} proof(s) FAILED\n`);
    }
    return ok ? 0 : 1;
  });
}
