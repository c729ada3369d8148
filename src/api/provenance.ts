/**
 * The read side behind /events, /trace, /txs: events with their merkle proofs, read straight
 * from stored block bytes.
 *
 * A proof needs the block's tx IDs (for the audit path) and one tx's canonical bytes. Decoding a
 * whole block (JSON-parse and re-canonicalise every tx) per request would cost tens of
 * milliseconds for a full block, so this module walks the block's length prefixes instead and
 * derives each tx ID from the canonical bytes: in RFC 8785 order the signed tx's members are
 * chain, eventIds, events, kind, sig, submitter, time, v, so the body's canonical form is the
 * signed tx's with the fixed-format `"sig":"<128 hex>",` member cut out (found by an anchored
 * match on the tx's fixed-format tail). The resulting tree is checked against the header's
 * merkle root; on any mismatch the block is decoded the slow, obvious way instead.
 *
 * Two bounded LRU caches: block bytes (budget in bytes) and per-block proof material (tx
 * offsets, tx IDs and the tree's levels as flat buffers; budget in bytes). `txIndex` and
 * `txCount` always come from the stored block, never from a client.
 */
import { hash as oneShotHash, createHash } from 'node:crypto';
import type { Chain } from '../chain/chain.js';
import { decodeBlock } from '../chain/block.js';
import { toHex } from '../chain/bytes.js';
import { HEADER_SIZE, OFFSET } from '../chain/header.js';
import type { SignedTx } from '../chain/types.js';
import { LruCache } from './lru.js';
import { HttpProblem } from './problem.js';

export interface Proof {
  /** The tx's canonical JSON (RFC 8785), exactly the bytes the block carries. */
  tx: string;
  txIndex: number;
  txCount: number;
  /** RFC 6962 audit path, leaf level first, lowercase hex. */
  auditPath: string[];
  merkleRoot: string;
  blockHash: string;
  /** The 112-byte block header, hex. */
  header: string;
}

export interface BlockRef {
  hash: string;
  height: number;
}

export interface EventEntry {
  eventId: string;
  event: Record<string, unknown>;
  txId: string;
  block: BlockRef | null;
  confirmations: number;
  proof: Proof | null;
}

export interface TxEntry {
  txId: string;
  tx: SignedTx;
  block: BlockRef | null;
  confirmations: number;
  proof: Proof | null;
}

export interface ProvenanceOptions {
  /** Budget of the block-bytes cache, bytes. */
  blockCacheBytes: number;
  /** Budget of the proof-material cache (tx IDs, offsets, tree levels), bytes. */
  proofCacheBytes: number;
}

export const DEFAULT_PROVENANCE_OPTIONS: ProvenanceOptions = {
  blockCacheBytes: 128 * 1024 * 1024,
  proofCacheBytes: 64 * 1024 * 1024,
};

const TX_AREA = HEADER_SIZE + 64; // header ‖ sealer signature, then the u32 tx count
const SIG_MEMBER_LENGTH = '"sig":"'.length + 128 + '",'.length;
const TAIL = /"sig":"[0-9a-f]{128}","submitter":"[0-9a-f]{40}","time":(?:0|[1-9][0-9]*),"v":1\}$/;
const TAIL_WINDOW = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function sha256(data: Uint8Array): Uint8Array {
  const d = oneShotHash('sha256', data, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** The tx ID (SHA-256 of the body's canonical bytes) from the signed tx's canonical bytes, or undefined if its tail is not the canonical one. */
export function txIdFromCanonical(tx: Uint8Array): Uint8Array | undefined {
  const start = Math.max(0, tx.length - TAIL_WINDOW);
  const tail = Buffer.from(tx.buffer, tx.byteOffset + start, tx.length - start).toString('latin1');
  const m = TAIL.exec(tail);
  if (m === null) return undefined;
  const sigAt = start + m.index;
  if (sigAt < 1 || tx[sigAt - 1] !== 0x2c /* , */) return undefined;
  const h = createHash('sha256');
  h.update(tx.subarray(0, sigAt));
  h.update(tx.subarray(sigAt + SIG_MEMBER_LENGTH));
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** RFC 6962 tree levels over 32-byte leaves, each level one flat buffer (compact for caching). */
export function flatTreeLevels(leaves: Uint8Array, count: number): Uint8Array[] {
  const levels: Uint8Array[] = [];
  let level = new Uint8Array(count * 32);
  const leafBuf = new Uint8Array(33);
  for (let i = 0; i < count; i++) {
    leafBuf.set(leaves.subarray(i * 32, i * 32 + 32), 1);
    level.set(sha256(leafBuf), i * 32);
  }
  levels.push(level);
  const nodeBuf = new Uint8Array(65);
  nodeBuf[0] = 1;
  let n = count;
  while (n > 1) {
    const m = Math.ceil(n / 2);
    const next = new Uint8Array(m * 32);
    for (let i = 0; i + 1 < n; i += 2) {
      nodeBuf.set(level.subarray(i * 32, i * 32 + 64), 1);
      next.set(sha256(nodeBuf), (i / 2) * 32);
    }
    if (n % 2 === 1) next.set(level.subarray((n - 1) * 32, n * 32), (m - 1) * 32);
    levels.push(next);
    level = next;
    n = m;
  }
  return levels;
}

/** Audit path of leaf `index` from flat levels (RFC 6962 PATH, as chain/merkle.ts computes it). */
export function flatAuditPath(levels: readonly Uint8Array[], index: number): string[] {
  const path: string[] = [];
  let i = index;
  for (let d = 0; d < levels.length - 1; d++) {
    const level = levels[d] as Uint8Array;
    const n = level.length / 32;
    const sibling = i % 2 === 1 ? i - 1 : i + 1 < n ? i + 1 : -1;
    if (sibling >= 0) path.push(toHex(level.subarray(sibling * 32, sibling * 32 + 32)));
    i = Math.floor(i / 2);
  }
  return path;
}

/** What proofs of one block need, without its decoded txs. */
export class BlockMaterial {
  constructor(
    readonly hash: string,
    readonly height: number,
    readonly headerHex: string,
    readonly merkleRootHex: string,
    readonly txCount: number,
    /** [start, length] of each tx's canonical bytes within the block bytes. */
    readonly offsets: Uint32Array,
    /** txCount × 32 bytes. */
    readonly txIds: Uint8Array,
    readonly levels: Uint8Array[],
  ) {}

  get cost(): number {
    let n = 512 + this.offsets.byteLength + this.txIds.byteLength;
    for (const l of this.levels) n += l.byteLength + 64;
    return n;
  }

  txIdHex(i: number): string {
    return toHex(this.txIds.subarray(i * 32, i * 32 + 32));
  }

  txBytes(block: Uint8Array, i: number): Uint8Array {
    const start = this.offsets[2 * i] as number;
    return block.subarray(start, start + (this.offsets[2 * i + 1] as number));
  }

  proof(block: Uint8Array, i: number): Proof {
    return {
      tx: utf8.decode(this.txBytes(block, i)),
      txIndex: i,
      txCount: this.txCount,
      auditPath: flatAuditPath(this.levels, i),
      merkleRoot: this.merkleRootHex,
      blockHash: this.hash,
      header: this.headerHex,
    };
  }
}

function damaged(detail: string): HttpProblem {
  return new HttpProblem(500, 'STORE_DAMAGED', 'Store damaged', detail);
}

/** [start, length] of each tx's canonical bytes within block bytes (walks the length prefixes only). */
export function txSpans(bytes: Uint8Array, hash = '?'): Uint32Array {
  if (bytes.length < TX_AREA + 4) throw damaged(`block ${hash} is truncated in the store`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getUint32(TX_AREA, true);
  if (count > (bytes.length - TX_AREA - 4) / 4) throw damaged(`block ${hash}: tx count ${count} exceeds its bytes`);
  const spans = new Uint32Array(count * 2);
  let o = TX_AREA + 4;
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) throw damaged(`block ${hash}: truncated before tx ${i}`);
    const len = dv.getUint32(o, true);
    o += 4;
    if (len > bytes.length - o) throw damaged(`block ${hash}: tx ${i} runs past the end`);
    spans[2 * i] = o;
    spans[2 * i + 1] = len;
    o += len;
  }
  return spans;
}

/** Build proof material from block bytes (throws HttpProblem 500 if the stored bytes are inconsistent). */
export function materialOf(hash: string, bytes: Uint8Array, chain: Pick<Chain, 'limits'>): BlockMaterial {
  const offsets = txSpans(bytes, hash);
  const count = offsets.length / 2;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const height = dv.getUint32(OFFSET.height, true);
  const header = bytes.subarray(0, HEADER_SIZE);
  const rootHex = toHex(header.subarray(OFFSET.merkleRoot, OFFSET.merkleRoot + 32));
  let txIds = new Uint8Array(count * 32);
  let fast = true;
  for (let i = 0; i < count && fast; i++) {
    const start = offsets[2 * i] as number;
    const id = txIdFromCanonical(bytes.subarray(start, start + (offsets[2 * i + 1] as number)));
    if (id === undefined) fast = false;
    else txIds.set(id, i * 32);
  }
  let levels = count > 0 ? flatTreeLevels(txIds, count) : [];
  const rootOf = (lv: Uint8Array[]): string => (lv.length === 0 ? toHex(sha256(new Uint8Array(0))) : toHex((lv[lv.length - 1] as Uint8Array).subarray(0, 32)));
  if (!fast || rootOf(levels) !== rootHex) {
    // Not the shape we expect: decode the block the obvious way (slow, exact).
    const block = decodeBlock(bytes, chain.limits);
    txIds = new Uint8Array(count * 32);
    block.txIds.forEach((id, i) => txIds.set(id, i * 32));
    levels = count > 0 ? flatTreeLevels(txIds, count) : [];
    if (rootOf(levels) !== rootHex) throw damaged(`block ${hash}: its txs do not hash to its merkle root`);
  }
  return new BlockMaterial(hash, height, toHex(header), rootHex, count, offsets, txIds, levels);
}

export class Provenance {
  private readonly bytesCache: LruCache<string, Uint8Array>;
  private readonly materialCache: LruCache<string, BlockMaterial>;
  /** Main-chain hash by height; cleared on every reorg. */
  private readonly mainCache = new LruCache<number, string>(200_000);
  /** In-flight block loads, so concurrent misses on one block read it once (bounded by concurrency). */
  private readonly loading = new Map<string, Promise<{ bytes: Uint8Array; material: BlockMaterial }>>();
  private readonly onReorg = (): void => this.mainCache.clear();

  constructor(
    private readonly chain: Chain,
    opts: ProvenanceOptions = DEFAULT_PROVENANCE_OPTIONS,
  ) {
    this.bytesCache = new LruCache(opts.blockCacheBytes);
    this.materialCache = new LruCache(opts.proofCacheBytes);
    chain.on('reorg', this.onReorg);
  }

  close(): void {
    this.chain.off('reorg', this.onReorg);
  }

  cacheStats(): { blocks: { entries: number; bytes: number; hits: number; misses: number }; proofs: { entries: number; bytes: number; hits: number; misses: number } } {
    const s = (c: LruCache<string, unknown>) => ({ entries: c.size, bytes: c.cost, hits: c.hits, misses: c.misses });
    return { blocks: s(this.bytesCache), proofs: s(this.materialCache) };
  }

  /** Block bytes and proof material of a stored block (cached), or undefined if not stored. */
  async block(hash: string): Promise<{ bytes: Uint8Array; material: BlockMaterial } | undefined> {
    const bytes = this.bytesCache.get(hash);
    const material = this.materialCache.get(hash);
    if (bytes !== undefined && material !== undefined) return { bytes, material };
    const pending = this.loading.get(hash);
    if (pending !== undefined) return pending;
    const stored = bytes ?? (await this.chain.store.getBlockBytes(hash));
    if (stored === undefined) return undefined;
    const again = this.loading.get(hash);
    if (again !== undefined) return again;
    const load = (async () => {
      const m = material ?? materialOf(hash, stored, this.chain);
      this.bytesCache.set(hash, stored, stored.byteLength);
      this.materialCache.set(hash, m, m.cost);
      return { bytes: stored, material: m };
    })();
    this.loading.set(hash, load);
    try {
      return await load;
    } finally {
      this.loading.delete(hash);
    }
  }

  /** The main-chain block hash at a height, or undefined. */
  async mainHash(height: number): Promise<string | undefined> {
    const cached = this.mainCache.get(height);
    if (cached !== undefined) return cached;
    const hash = await this.chain.store.getMainHash(height);
    if (hash !== undefined) this.mainCache.set(height, hash);
    return hash;
  }

  private confirmationsOf(ref: BlockRef, isMain: boolean): number {
    return isMain ? this.chain.confirmations(ref.height) : 0;
  }

  /** The parsed tx `txIndex` of a stored block (memoised per request in `parsed`). */
  private async txAt(ref: BlockRef, txIndex: number, parsed?: Map<string, SignedTx>): Promise<{ bytes: Uint8Array; material: BlockMaterial; tx: SignedTx }> {
    const blk = await this.block(ref.hash);
    if (blk === undefined) throw damaged(`main-chain block ${ref.hash} at height ${ref.height} is not stored`);
    const { bytes, material } = blk;
    if (txIndex >= material.txCount) throw damaged(`block ${ref.hash} has no tx ${txIndex}`);
    const memoKey = `${ref.hash}:${txIndex}`;
    let tx = parsed?.get(memoKey);
    if (tx === undefined) {
      tx = JSON.parse(utf8.decode(material.txBytes(bytes, txIndex))) as SignedTx;
      parsed?.set(memoKey, tx);
    }
    return { bytes, material, tx };
  }

  private checkEvent(ref: BlockRef, tx: SignedTx, txIndex: number, eventIndex: number, expectedEventId: string | undefined): { eventId: string; event: Record<string, unknown> } {
    const eventId = tx.eventIds[eventIndex];
    const event = tx.events[eventIndex];
    if (eventId === undefined || event === undefined || (expectedEventId !== undefined && eventId !== expectedEventId)) {
      throw damaged(`index says event ${expectedEventId ?? '?'} is event ${eventIndex} of tx ${txIndex} in block ${ref.hash}, but it is not`);
    }
    return { eventId, event };
  }

  /** Just the event at a position (no proof). */
  async eventAt(ref: BlockRef, txIndex: number, eventIndex: number, expectedEventId: string | undefined, parsed?: Map<string, SignedTx>): Promise<Record<string, unknown>> {
    const { tx } = await this.txAt(ref, txIndex, parsed);
    return this.checkEvent(ref, tx, txIndex, eventIndex, expectedEventId).event;
  }

  /**
   * The entry (event, tx ID, confirmations, proof) of event `eventIndex` of tx `txIndex` in a
   * stored block. `parsed` memoises parsed txs across calls of one request.
   */
  async entryAt(ref: BlockRef, txIndex: number, eventIndex: number, expectedEventId: string | undefined, parsed?: Map<string, SignedTx>): Promise<EventEntry> {
    const { bytes, material, tx } = await this.txAt(ref, txIndex, parsed);
    const { eventId, event } = this.checkEvent(ref, tx, txIndex, eventIndex, expectedEventId);
    const isMain = (await this.mainHash(ref.height)) === ref.hash;
    return { eventId, event, txId: material.txIdHex(txIndex), block: ref, confirmations: this.confirmationsOf(ref, isMain), proof: material.proof(bytes, txIndex) };
  }

  /** An event by ID: on the main chain (with proof), pending in the mempool (no proof), or undefined. */
  async eventById(eventId: string): Promise<EventEntry | undefined> {
    const { store, mempool } = this.chain;
    const loc = await store.getEventLocation(eventId);
    if (loc !== undefined) {
      const txLoc = await store.getTxLocation(loc.txId);
      if (txLoc === undefined) throw damaged(`event ${eventId} points at tx ${loc.txId}, which has no location`);
      const entry = await this.entryAt({ hash: txLoc.blockHash, height: txLoc.height }, txLoc.index, loc.index, eventId);
      if (entry.txId !== loc.txId) throw damaged(`event ${eventId}: tx ${loc.txId} is not tx ${txLoc.index} of block ${txLoc.blockHash}`);
      return entry;
    }
    const pendingTx = mempool.txOfEvent(eventId);
    if (pendingTx === undefined) return undefined;
    const pe = mempool.get(pendingTx);
    if (pe === undefined) return undefined;
    const i = pe.tx.eventIds.indexOf(eventId);
    const event = pe.tx.events[i];
    if (event === undefined) return undefined;
    return { eventId, event, txId: pendingTx, block: null, confirmations: 0, proof: null };
  }

  /** A tx by ID: on the main chain (with proof), pending, or undefined. */
  async txById(txId: string): Promise<TxEntry | undefined> {
    const { store, mempool } = this.chain;
    const loc = await store.getTxLocation(txId);
    if (loc !== undefined) {
      const blk = await this.block(loc.blockHash);
      if (blk === undefined) throw damaged(`tx ${txId} points at block ${loc.blockHash}, which is not stored`);
      const { bytes, material } = blk;
      if (loc.index >= material.txCount || material.txIdHex(loc.index) !== txId) throw damaged(`tx ${txId} is not tx ${loc.index} of block ${loc.blockHash}`);
      const proof = material.proof(bytes, loc.index);
      const ref = { hash: loc.blockHash, height: loc.height };
      const isMain = (await this.mainHash(loc.height)) === loc.blockHash;
      return { txId, tx: JSON.parse(proof.tx) as SignedTx, block: ref, confirmations: this.confirmationsOf(ref, isMain), proof };
    }
    const pe = mempool.get(txId);
    if (pe === undefined) return undefined;
    return { txId, tx: pe.tx, block: null, confirmations: 0, proof: null };
  }
}
