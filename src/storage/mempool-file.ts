/**
 * The `DATA/mempool.dat` of releases before the tx log (storage/tx-log.ts): their graceful stop
 * saved the pending txs' canonical bytes here. This release only reads it, once at start
 * (node/legacy-mempool.ts admits each tx, so the tx log records it, then deletes the file).
 * The encoder is the format's definition, kept for tests of the reader.
 *
 * Layout: "TCMP" · u32 version (1) · u32 count · count × (u32 length · tx bytes) · SHA-256 of
 * everything before it. Little-endian.
 */
import { readFile, rm } from 'node:fs/promises';
import { sha256 } from '../chain/sha256.js';
import { equalBytes } from '../common/bytes.js';

const MAGIC = Uint8Array.from([0x54, 0x43, 0x4d, 0x50]); // "TCMP"
const VERSION = 1;
const HEADER = 12;
const CHECKSUM = 32;

export class MempoolFileError extends Error {
  override readonly name = 'MempoolFileError';
}

export function encodeMempoolFile(txs: readonly Uint8Array[]): Uint8Array {
  let size = HEADER + CHECKSUM;
  for (const t of txs) size += 4 + t.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, txs.length, true);
  let o = HEADER;
  for (const t of txs) {
    dv.setUint32(o, t.length, true);
    out.set(t, o + 4);
    o += 4 + t.length;
  }
  out.set(sha256(out.subarray(0, o)), o);
  return out;
}

/** Decode and check a saved mempool; throws MempoolFileError saying what is wrong. */
export function decodeMempoolFile(bytes: Uint8Array, maxTxBytes: number): Uint8Array[] {
  if (bytes.length < HEADER + CHECKSUM) throw new MempoolFileError(`too short (${bytes.length} bytes)`);
  if (!equalBytes(bytes.subarray(0, 4), MAGIC)) throw new MempoolFileError('not a tracechain mempool file (bad magic)');
  const body = bytes.subarray(0, bytes.length - CHECKSUM);
  if (!equalBytes(sha256(body), bytes.subarray(bytes.length - CHECKSUM))) throw new MempoolFileError('checksum mismatch (truncated or damaged)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw new MempoolFileError(`unsupported version ${version}`);
  const count = dv.getUint32(8, true);
  if (count > (body.length - HEADER) / 4) throw new MempoolFileError(`tx count ${count} exceeds what the file can hold`);
  const out: Uint8Array[] = [];
  let o = HEADER;
  for (let i = 0; i < count; i++) {
    if (o + 4 > body.length) throw new MempoolFileError(`truncated before tx ${i}`);
    const len = dv.getUint32(o, true);
    if (len > maxTxBytes || o + 4 + len > body.length) throw new MempoolFileError(`tx ${i} has an impossible length ${len}`);
    out.push(bytes.slice(o + 4, o + 4 + len));
    o += 4 + len;
  }
  if (o !== body.length) throw new MempoolFileError(`${body.length - o} trailing bytes after the last tx`);
  return out;
}

/** The saved txs, or undefined when there is no file. Throws MempoolFileError for a bad one. */
export async function loadMempoolFile(path: string, maxTxBytes: number): Promise<Uint8Array[] | undefined> {
  let bytes: Uint8Array;
  try {
    const buf = await readFile(path);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeMempoolFile(bytes, maxTxBytes);
}

export async function removeMempoolFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
