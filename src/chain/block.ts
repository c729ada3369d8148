/**
 * Block codec: header (112) ‖ sealer signature (64) ‖ tx count (u32 LE) ‖ each tx as
 * u32 LE length ‖ canonical tx bytes. Decoding is strict: any malformed input throws a
 * BlockError, never a crash. The byte layout is known here only: readers that want the txs'
 * places without decoding them (the API's proofs and scans) call txSpans.
 */
import { BlockError, TxError } from '../common/errors.js';
import { HEADER_SIZE, decodeHeader, encodeHeader, hashHeaderBytes, type Header } from './header.js';
import { concatBytes, toHex, utf8 } from '../common/bytes.js';
import { canonicalTx, decodeCanonicalTx, type CanonicalTx, type TxLimits } from './tx.js';
import type { SignedTx } from './types.js';

export const SIGNATURE_SIZE = 64;
/** Where the tx area starts: header ‖ sealer signature, then the u32 tx count. */
export const TX_AREA = HEADER_SIZE + SIGNATURE_SIZE;
export const BLOCK_DOMAIN = utf8.encode('tracechain/block/v1');

export interface Block {
  header: Header;
  headerBytes: Uint8Array;
  hash: Uint8Array;
  hashHex: string;
  signature: Uint8Array;
  txs: SignedTx[];
  txIds: Uint8Array[];
  /** Canonical bytes of each tx (JCS), computed once. */
  txBytes: Uint8Array[];
  /** Encoded size in bytes. */
  size: number;
}

export interface BlockLimits extends TxLimits {
  maxBlockBytes: number;
}

export function blockSigningMessage(hash: Uint8Array): Uint8Array {
  return concatBytes(BLOCK_DOMAIN, hash);
}

/**
 * Assemble a block object from its parts (computes hash, tx IDs and canonical tx bytes, or
 * takes them from `canonical` when the caller already has them, e.g. from the mempool).
 */
export function makeBlock(header: Header, signature: Uint8Array, txs: SignedTx[], canonical?: readonly CanonicalTx[]): Block {
  const headerBytes = encodeHeader(header);
  const hash = hashHeaderBytes(headerBytes);
  const c = canonical ?? txs.map((t) => canonicalTx(t));
  const txIds = c.map((x) => x.id);
  const txBytes = c.map((x) => x.bytes);
  let size = TX_AREA + 4;
  for (const t of txBytes) size += 4 + t.length;
  return { header, headerBytes, hash, hashHex: toHex(hash), signature, txs, txIds, txBytes, size };
}

export function encodeBlock(block: Block): Uint8Array {
  const txBytes = block.txBytes;
  let size = TX_AREA + 4;
  for (const t of txBytes) size += 4 + t.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(block.headerBytes, 0);
  out.set(block.signature, HEADER_SIZE);
  let o = TX_AREA;
  dv.setUint32(o, txBytes.length, true);
  o += 4;
  for (const t of txBytes) {
    dv.setUint32(o, t.length, true);
    o += 4;
    out.set(t, o);
    o += t.length;
  }
  return out;
}

/**
 * [start, length] of each tx's canonical bytes within block bytes, by walking the length
 * prefixes only (no tx is decoded). Throws BlockError MALFORMED when the bytes are shorter than
 * the tx area, when a count or a length is more than they can hold, or when bytes follow the
 * last tx.
 */
export function txSpans(bytes: Uint8Array): Uint32Array {
  if (bytes.length < TX_AREA + 4) throw new BlockError('MALFORMED', 'block is shorter than header, signature and tx count');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = TX_AREA;
  const count = dv.getUint32(o, true);
  o += 4;
  // Each tx needs at least its 4-byte length: a count beyond that is a lie, refuse before allocating.
  if (count > (bytes.length - o) / 4) throw new BlockError('MALFORMED', `tx count ${count} exceeds what the bytes can hold`);
  const spans = new Uint32Array(count * 2);
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) throw new BlockError('MALFORMED', `truncated before tx ${i}`);
    const len = dv.getUint32(o, true);
    o += 4;
    if (len > bytes.length - o) throw new BlockError('MALFORMED', `tx ${i} length ${len} runs past the end`);
    spans[2 * i] = o;
    spans[2 * i + 1] = len;
    o += len;
  }
  if (o !== bytes.length) throw new BlockError('MALFORMED', `${bytes.length - o} trailing bytes after the last tx`);
  return spans;
}

export function decodeBlock(bytes: Uint8Array, limits: BlockLimits): Block {
  if (!(bytes instanceof Uint8Array)) throw new BlockError('MALFORMED', 'block is not bytes');
  if (bytes.length > limits.maxBlockBytes) throw new BlockError('OVERSIZE', `block is ${bytes.length} bytes, limit ${limits.maxBlockBytes}`);
  if (bytes.length < TX_AREA + 4) throw new BlockError('MALFORMED', 'block is shorter than header, signature and tx count');
  const headerBytes = bytes.slice(0, HEADER_SIZE);
  const header = decodeHeader(headerBytes);
  const signature = bytes.slice(HEADER_SIZE, TX_AREA);
  const spans = txSpans(bytes);
  const count = spans.length / 2;
  const txs: SignedTx[] = [];
  const txIds: Uint8Array[] = [];
  const txBytes: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const start = spans[2 * i] as number;
    const raw = bytes.subarray(start, start + (spans[2 * i + 1] as number));
    // Only canonical bytes are accepted, so a block has exactly one encoding.
    let decoded: ReturnType<typeof decodeCanonicalTx>;
    try {
      decoded = decodeCanonicalTx(raw, limits);
    } catch (err) {
      if (err instanceof TxError) throw new BlockError('BAD_TX', `tx ${i}: ${err.message}`, { index: i, txCode: err.code });
      throw err;
    }
    txs.push(decoded.tx);
    txIds.push(decoded.id);
    txBytes.push(decoded.bytes); // equal to raw, and its own buffer (not a view pinning the block's)
  }
  const hash = hashHeaderBytes(headerBytes);
  return { header, headerBytes, hash, hashHex: toHex(hash), signature, txs, txIds, txBytes, size: bytes.length };
}
