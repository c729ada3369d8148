/**
 * The compact stored forms (schema 3): what the store writes for blocks, txs and undo records,
 * and how it reads both these and the plain forms older builds wrote. Nothing here is hashed:
 * the store hands back the canonical bytes, so tx IDs, merkle roots, proofs and the wire format
 * are exactly as before.
 *
 * - A tx (bucket blockTxs) is `0x01 ‖ crc32(body) (u32 BE) ‖ body`, body = brotli(canonical JSON). The plain form is the canonical
 *   JSON itself, which always starts with `{` (0x7b): the first byte tells the two apart.
 * - A block (bucket blocks) is `ff 74 63 01 ‖ header (112) ‖ sealer signature (64) ‖ tx count
 *   (u32 LE)`: its txs are the block's blockTxs records, not a second copy. The plain form starts
 *   with the header, whose version (u32 LE) is 1, so it never starts with 0xff.
 * - An undo record (bucket undo) is compressed the same way; the plain JSON starts with `{`.
 *
 * The CRC makes every flipped byte of a compressed value visible on read: brotli alone ignores
 * some bits (padding), and a flip it does not ignore may still expand to other valid JSON.
 *
 * Brotli at quality 4 was chosen on real blocks (docs/scale.md, The compact store): about 10×
 * on 100-event txs against LevelDB's snappy at about 4.5×, decoding at ~600 MB/s.
 */
import { constants, brotliCompress, brotliCompressSync, brotliDecompressSync, crc32 } from 'node:zlib';
import { promisify } from 'node:util';
import { DecodeError } from './codecs.js';

export const COMPRESSED_TAG = 0x01;
const JSON_START = 0x7b;
export const COMPACT_BLOCK_MAGIC = Uint8Array.of(0xff, 0x74, 0x63, 0x01);
const HEAD_SIZE = 112 + 64;
export const COMPACT_BLOCK_SIZE = COMPACT_BLOCK_MAGIC.length + HEAD_SIZE + 4;
/** The largest value a compressed record may expand to (far above any consortium's maxBlockBytes). */
export const MAX_EXPANDED_BYTES = 256 * 1024 * 1024;

const brotliAsync = promisify(brotliCompress);

function brotliOptions(size: number): { params: Record<number, number> } {
  return {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 4,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: size,
    },
  };
}

/** Tag and CRC before a compressed body. */
const PREFIX = 1 + 4;

function tagged(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + PREFIX);
  out[0] = COMPRESSED_TAG;
  new DataView(out.buffer).setUint32(1, crc32(body), false);
  out.set(body, PREFIX);
  return out;
}

/** `0x01 ‖ brotli(bytes)`, on the calling thread (small values, tools). */
export function compressSync(bytes: Uint8Array): Uint8Array {
  return tagged(brotliCompressSync(bytes, brotliOptions(bytes.length)));
}

/**
 * Values up to this size are compressed on the calling thread: at brotli quality 4 that takes
 * 0.03–0.08 ms, less than a trip through libuv's thread pool (0.1–0.15 ms), and a syncing node
 * stores thousands of small txs and undo records a second (docs/scale.md).
 */
export const INLINE_COMPRESS_BYTES = 16 * 1024;

/**
 * `0x01 ‖ brotli(bytes)`: a small value on the calling thread, a larger one on libuv's thread
 * pool (the event loop only copies the result). The bytes are the same either way.
 */
export async function compress(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length <= INLINE_COMPRESS_BYTES) return compressSync(bytes);
  return tagged(await brotliAsync(bytes, brotliOptions(bytes.length)));
}

/**
 * A stored JSON value (tx or undo record) in either form, back to its JSON bytes. A compressed
 * value whose checksum fails or that does not expand throws DecodeError (so a flipped byte is
 * always named with its bucket and key); a plain value that changed is caught by whoever hashes
 * it (tx IDs, the merkle root).
 */
export function expand(stored: Uint8Array, what: string): Uint8Array {
  if (stored.length === 0) throw new DecodeError(`${what} is empty`);
  const first = stored[0];
  if (first === JSON_START) return stored;
  if (first !== COMPRESSED_TAG) throw new DecodeError(`${what} starts with byte 0x${(first as number).toString(16).padStart(2, '0')}: neither JSON nor a compressed record`);
  if (stored.length < PREFIX) throw new DecodeError(`${what} is too short for a compressed record`);
  const body = stored.subarray(PREFIX);
  const crc = new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getUint32(1, false);
  if (crc32(body) !== crc) throw new DecodeError(`${what} fails its checksum (a changed byte in the stored record)`);
  let out: Buffer;
  try {
    out = brotliDecompressSync(body, { maxOutputLength: MAX_EXPANDED_BYTES });
  } catch (err) {
    throw new DecodeError(`${what} does not decompress: ${(err as Error).message}`);
  }
  if (out.length === 0 || out[0] !== JSON_START) throw new DecodeError(`${what} decompresses to something that is not a JSON object`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** True when a stored value is in the compressed form. */
export function isCompressed(stored: Uint8Array): boolean {
  return stored.length > 0 && stored[0] === COMPRESSED_TAG;
}

/** The compact record of a block: magic ‖ header ‖ signature ‖ tx count (its txs are stored apart). */
export function compactBlockRecord(headerBytes: Uint8Array, signature: Uint8Array, txCount: number): Uint8Array {
  if (headerBytes.length !== 112 || signature.length !== 64) throw new RangeError('a block record needs a 112-byte header and a 64-byte signature');
  const out = new Uint8Array(COMPACT_BLOCK_SIZE);
  out.set(COMPACT_BLOCK_MAGIC, 0);
  out.set(headerBytes, 4);
  out.set(signature, 4 + 112);
  new DataView(out.buffer).setUint32(4 + HEAD_SIZE, txCount, true);
  return out;
}

export type StoredBlockRecord = { kind: 'plain'; bytes: Uint8Array } | { kind: 'compact'; head: Uint8Array; txCount: number };

/** Which form a `blocks` value is in. A value starting with the magic must be exactly a compact record. */
export function parseBlockRecord(stored: Uint8Array): StoredBlockRecord {
  if (stored.length === 0) throw new DecodeError('block bytes are empty');
  if (stored[0] !== COMPACT_BLOCK_MAGIC[0]) return { kind: 'plain', bytes: stored };
  for (let i = 1; i < COMPACT_BLOCK_MAGIC.length; i++) {
    if (stored[i] !== COMPACT_BLOCK_MAGIC[i]) throw new DecodeError('block record starts with 0xff but not with the compact-record magic');
  }
  if (stored.length !== COMPACT_BLOCK_SIZE) throw new DecodeError(`compact block record must be ${COMPACT_BLOCK_SIZE} bytes, got ${stored.length}`);
  const txCount = new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getUint32(4 + HEAD_SIZE, true);
  return { kind: 'compact', head: stored.subarray(4, 4 + HEAD_SIZE), txCount };
}

/** The height in a stored block value of either form (its header's bytes 4..8, u32 LE). */
export function storedBlockHeight(stored: Uint8Array): number {
  const rec = parseBlockRecord(stored);
  const header = rec.kind === 'plain' ? rec.bytes : rec.head;
  if (header.length < 8) throw new DecodeError('block value is too short to hold a header');
  return new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(4, true);
}

/** The block's wire bytes (chain/block.ts layout) from its compact head and its txs' canonical bytes. */
export function assembleBlock(head: Uint8Array, txs: readonly Uint8Array[]): Uint8Array {
  let size = head.length + 4;
  for (const t of txs) size += 4 + t.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(head, 0);
  let o = head.length;
  dv.setUint32(o, txs.length, true);
  o += 4;
  for (const t of txs) {
    dv.setUint32(o, t.length, true);
    o += 4;
    out.set(t, o);
    o += t.length;
  }
  return out;
}
