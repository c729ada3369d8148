/**
 * Block codec: header (112) ‖ sealer signature (64) ‖ tx count (u32 LE) ‖ each tx as
 * u32 LE length ‖ canonical tx bytes. Decoding is strict: any malformed input throws a
 * BlockError, never a crash.
 */
import { BlockError, TxError } from '../common/errors.js';
import { HEADER_SIZE, decodeHeader, encodeHeader, hashHeaderBytes, type Header } from './header.js';
import { concatBytes, toHex, utf8 } from '../common/bytes.js';
import { canonicalTx, decodeCanonicalTx, type CanonicalTx, type TxLimits } from './tx.js';
import type { SignedTx } from './types.js';

export const SIGNATURE_SIZE = 64;
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
  let size = HEADER_SIZE + SIGNATURE_SIZE + 4;
  for (const t of txBytes) size += 4 + t.length;
  return { header, headerBytes, hash, hashHex: toHex(hash), signature, txs, txIds, txBytes, size };
}

export function encodeBlock(block: Block): Uint8Array {
  const txBytes = block.txBytes;
  let size = HEADER_SIZE + SIGNATURE_SIZE + 4;
  for (const t of txBytes) size += 4 + t.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(block.headerBytes, 0);
  out.set(block.signature, HEADER_SIZE);
  let o = HEADER_SIZE + SIGNATURE_SIZE;
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

export function decodeBlock(bytes: Uint8Array, limits: BlockLimits): Block {
  if (!(bytes instanceof Uint8Array)) throw new BlockError('MALFORMED', 'block is not bytes');
  if (bytes.length > limits.maxBlockBytes) throw new BlockError('OVERSIZE', `block is ${bytes.length} bytes, limit ${limits.maxBlockBytes}`);
  if (bytes.length < HEADER_SIZE + SIGNATURE_SIZE + 4) throw new BlockError('MALFORMED', 'block is shorter than header, signature and tx count');
  const headerBytes = bytes.slice(0, HEADER_SIZE);
  const header = decodeHeader(headerBytes);
  const signature = bytes.slice(HEADER_SIZE, HEADER_SIZE + SIGNATURE_SIZE);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = HEADER_SIZE + SIGNATURE_SIZE;
  const count = dv.getUint32(o, true);
  o += 4;
  // Each tx needs at least its 4-byte length: a count beyond that is a lie, refuse before allocating.
  if (count > (bytes.length - o) / 4) throw new BlockError('MALFORMED', `tx count ${count} exceeds what the bytes can hold`);
  const txs: SignedTx[] = [];
  const txIds: Uint8Array[] = [];
  const txBytes: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) throw new BlockError('MALFORMED', `truncated before tx ${i}`);
    const len = dv.getUint32(o, true);
    o += 4;
    if (len > bytes.length - o) throw new BlockError('MALFORMED', `tx ${i} length ${len} runs past the end`);
    const raw = bytes.subarray(o, o + len);
    o += len;
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
    txBytes.push(raw.slice());
  }
  if (o !== bytes.length) throw new BlockError('MALFORMED', `${bytes.length - o} trailing bytes after the last tx`);
  const hash = hashHeaderBytes(headerBytes);
  return { header, headerBytes, hash, hashHex: toHex(hash), signature, txs, txIds, txBytes, size: bytes.length };
}
