/**
 * Block locators and the responder's side of header sync, as pure logic over small reader
 * interfaces (the chain implements them; tests use fakes).
 *
 * A locator names blocks of the requester's main chain from the tip back: the last ten one by
 * one, then with doubling gaps, always ending at genesis. The responder finds the newest
 * locator block on its own main chain (the fork point) and returns the headers after it.
 */
import { HEADER_SIZE, OFFSET } from '../chain/header.js';
import { hashHeaderBytes } from '../chain/header.js';
import { toHex } from '../common/bytes.js';
import { SYNC_LIMITS } from './protocol.js';

/** Heights a locator names for a chain whose tip is at `tipHeight`, newest first, genesis last. */
export function locatorHeights(tipHeight: number, max: number = SYNC_LIMITS.maxLocator): number[] {
  if (!Number.isSafeInteger(tipHeight) || tipHeight < 0) throw new RangeError('tip height must be a non-negative integer');
  if (max < 2) throw new RangeError('a locator needs room for the tip and genesis');
  const out: number[] = [];
  let step = 1;
  let h = tipHeight;
  while (h > 0 && out.length < max - 1) {
    out.push(h);
    if (out.length >= 10) step *= 2;
    h -= step;
  }
  out.push(0);
  return out;
}

export interface MainChainReader {
  tipHeight(): number;
  /** Hash of the main-chain block at a height, if any. */
  mainHashAt(height: number): Promise<string | undefined>;
}

/** The requester's locator over its main chain, optionally led by hashes it already queued. */
export async function buildLocator(reader: MainChainReader, lead: readonly string[] = []): Promise<string[]> {
  const out = lead.slice(0, SYNC_LIMITS.maxLocator - 2);
  const seen = new Set(out);
  for (const h of locatorHeights(reader.tipHeight(), SYNC_LIMITS.maxLocator - out.length)) {
    const hash = await reader.mainHashAt(h);
    if (hash !== undefined && !seen.has(hash)) {
      out.push(hash);
      seen.add(hash);
    }
  }
  return out;
}

export interface HeaderServeSource extends MainChainReader {
  /** Height of a stored block (any branch), if known. */
  heightOf(hash: string): number | undefined;
  /** The 112 header bytes of a stored block. */
  headerBytes(hash: string): Promise<Uint8Array | undefined>;
}

/** Height of the newest locator block on our main chain; 0 (the shared genesis) if none is. */
export async function findForkHeight(locator: readonly string[], src: HeaderServeSource): Promise<number> {
  for (const hash of locator) {
    const height = src.heightOf(hash);
    if (height === undefined || height > src.tipHeight()) continue;
    if ((await src.mainHashAt(height)) === hash) return height;
  }
  return 0;
}

/**
 * Headers of our main chain after the fork point, at most `max` (≤ 2,000), stopping after
 * `stop` if met. A reorg while reading cuts the reply where the links break, so every reply
 * is one linked run of headers.
 */
export async function serveHeaders(req: { locator: readonly string[]; stop: string | null; max: number }, src: HeaderServeSource): Promise<Uint8Array[]> {
  const max = Math.min(req.max, SYNC_LIMITS.maxHeadersPerReply);
  const fork = await findForkHeight(req.locator, src);
  const tip = src.tipHeight();
  const out: Uint8Array[] = [];
  let prev = await src.mainHashAt(fork);
  if (prev === undefined) return out;
  for (let h = fork + 1; h <= tip && out.length < max; h++) {
    const hash = await src.mainHashAt(h);
    if (hash === undefined) break;
    const bytes = await src.headerBytes(hash);
    if (!bytes || bytes.length !== HEADER_SIZE) break;
    if (toHex(bytes.subarray(OFFSET.prevHash, OFFSET.prevHash + 32)) !== prev) break;
    if (toHex(hashHeaderBytes(bytes)) !== hash) break;
    out.push(bytes);
    prev = hash;
    if (hash === req.stop) break;
  }
  return out;
}
