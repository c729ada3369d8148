/**
 * Proof material of one stored block: what merkle proofs of its txs need (tx IDs, the tree's
 * levels as flat buffers, where each tx lies in the block bytes), without its decoded txs, built
 * from the block bytes or from its stored "header ‖ tx IDs" record and checked either way: the
 * header must hash to the key it is stored under and the tx IDs to the header's merkle root.
 * Blocks stored by an older build (no record) are read whole: the block's length prefixes are
 * walked (chain/block.ts txSpans) and each tx ID derived from the canonical bytes (chain/tx.ts),
 * and the block is decoded the slow, obvious way on any mismatch. Anything inconsistent is
 * STORE_DAMAGED (HTTP 500).
 */
import type { Chain } from '../chain/chain.js';
import { decodeBlock, txSpans } from '../chain/block.js';
import { toHex } from '../common/bytes.js';
import { BlockError } from '../common/errors.js';
import { HEADER_SIZE, OFFSET, headerHashHex } from '../chain/header.js';
import { levelsPath, levelsRoot, treeLevelsOfIds } from '../chain/merkle.js';
import { txIdOfCanonicalBytes } from '../chain/tx.js';
import type { JsonBytes } from './json-bytes.js';
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

/** Audit path of tx i, hex, from the block's tree levels. */
function pathHex(levels: readonly Uint8Array[], i: number): string[] {
  return levelsPath(levels, i).map((p) => toHex(p));
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

  /** Whether it knows where each tx is inside the block bytes (built from the block, not from its tx-ID record). */
  get hasOffsets(): boolean {
    return this.offsets.length === 2 * this.txCount;
  }

  txBytes(block: Uint8Array, i: number): Uint8Array {
    const start = this.offsets[2 * i] as number;
    return block.subarray(start, start + (this.offsets[2 * i + 1] as number));
  }

  /** The proof of tx i (its canonical text `tx`) as JSON, exactly as JSON.stringify(this.proof(tx, i)) writes it. */
  writeProof(w: JsonBytes, tx: string, i: number): void {
    w.ascii('{"tx":').value(tx);
    w.ascii(`,"txIndex":${i},"txCount":${this.txCount},"auditPath":[`);
    const path = pathHex(this.levels, i);
    for (let k = 0; k < path.length; k++) w.ascii(k === 0 ? `"${path[k] as string}"` : `,"${path[k] as string}"`);
    w.ascii(`],"merkleRoot":"${this.merkleRootHex}","blockHash":"${this.hash}","header":"${this.headerHex}"}`);
  }

  /** The proof of tx i, given its canonical text. */
  proof(tx: string, i: number): Proof {
    return {
      tx,
      txIndex: i,
      txCount: this.txCount,
      auditPath: pathHex(this.levels, i),
      merkleRoot: this.merkleRootHex,
      blockHash: this.hash,
      header: this.headerHex,
    };
  }
}

export function damaged(detail: string): HttpProblem {
  return new HttpProblem(500, 'STORE_DAMAGED', 'Store damaged', detail);
}

/** [start, length] of each tx's canonical bytes within stored block bytes (chain/block.ts txSpans); STORE_DAMAGED if they do not have the block layout. */
export function storedTxSpans(bytes: Uint8Array, hash = '?'): Uint32Array {
  try {
    return txSpans(bytes);
  } catch (err) {
    if (err instanceof BlockError) throw damaged(`block ${hash} is not a block in the store: ${err.message}`);
    throw err;
  }
}

function rootHexOf(levels: Uint8Array[]): string {
  return toHex(levelsRoot(levels));
}

/**
 * Proof material from a block's stored "header ‖ tx IDs" record (storage bucket blockTxIds),
 * without its tx bytes; checked as materialOf checks a block: the header hashes to the key, the
 * tx IDs to the header's merkle root. It has no tx offsets: txs come one by one (getBlockTx).
 */
export function materialFromIds(hash: string, record: Uint8Array): BlockMaterial {
  if (record.length < HEADER_SIZE || (record.length - HEADER_SIZE) % 32 !== 0) throw damaged(`block ${hash}: its tx-ID record has an impossible length ${record.length}`);
  const header = record.subarray(0, HEADER_SIZE);
  const headerHash = headerHashHex(header);
  if (headerHash !== hash) throw damaged(`block ${hash}: its tx-ID record holds a header that hashes to ${headerHash}`);
  const count = (record.length - HEADER_SIZE) / 32;
  const txIds = record.slice(HEADER_SIZE);
  const levels = treeLevelsOfIds(txIds, count);
  const rootHex = toHex(header.subarray(OFFSET.merkleRoot, OFFSET.merkleRoot + 32));
  if (rootHexOf(levels) !== rootHex) throw damaged(`block ${hash}: its stored tx IDs do not hash to its merkle root`);
  const height = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(OFFSET.height, true);
  return new BlockMaterial(hash, height, toHex(header), rootHex, count, new Uint32Array(0), txIds, levels);
}

/** Build proof material from block bytes (throws HttpProblem 500 if the stored bytes are inconsistent). */
export function materialOf(hash: string, bytes: Uint8Array, chain: Pick<Chain, 'limits'>): BlockMaterial {
  const offsets = storedTxSpans(bytes, hash);
  const count = offsets.length / 2;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const height = dv.getUint32(OFFSET.height, true);
  const header = bytes.subarray(0, HEADER_SIZE);
  // As Chain.decodeStored: the header must hash to the key it is stored under, the txs to its root.
  const headerHash = headerHashHex(header);
  if (headerHash !== hash) throw damaged(`block ${hash} is stored with a header that hashes to ${headerHash}`);
  const rootHex = toHex(header.subarray(OFFSET.merkleRoot, OFFSET.merkleRoot + 32));
  let txIds = new Uint8Array(count * 32);
  let fast = true;
  for (let i = 0; i < count && fast; i++) {
    const start = offsets[2 * i] as number;
    const id = txIdOfCanonicalBytes(bytes.subarray(start, start + (offsets[2 * i + 1] as number)));
    if (id === undefined) fast = false;
    else txIds.set(id, i * 32);
  }
  let levels = treeLevelsOfIds(txIds, count);
  if (!fast || rootHexOf(levels) !== rootHex) {
    // Not the shape we expect: decode the block the obvious way (slow, exact).
    let block: ReturnType<typeof decodeBlock>;
    try {
      block = decodeBlock(bytes, chain.limits);
    } catch (err) {
      if (err instanceof BlockError) throw damaged(`block ${hash} does not decode: ${err.message}`);
      throw err;
    }
    txIds = new Uint8Array(count * 32);
    block.txIds.forEach((id, i) => txIds.set(id, i * 32));
    levels = treeLevelsOfIds(txIds, count);
    if (rootHexOf(levels) !== rootHex) throw damaged(`block ${hash}: its txs do not hash to its merkle root`);
  }
  return new BlockMaterial(hash, height, toHex(header), rootHex, count, offsets, txIds, levels);
}
