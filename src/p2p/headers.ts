/**
 * The requester's check of a batch of headers before it asks anyone for bodies: each header
 * decodes, links to the one before, climbs one height at a time, and carries the proof of
 * work its own bits claim (within the chain's easiest target). Cheap checks only; the chain
 * runs every rule (bits from the retarget, time, sealer) when the block itself is imported.
 */
import { decodeHeader, hashHeaderBytes } from '../chain/header.js';
import { toHex } from '../common/bytes.js';
import { BlockError } from '../common/errors.js';
import { hashMeetsTarget, targetFromBits } from '../consensus/target.js';
import { SYNC_LIMITS } from './protocol.js';

export interface HeaderItem {
  hash: string;
  height: number;
  prevHash: string;
}

export class HeaderBatchError extends Error {
  override readonly name = 'HeaderBatchError';
  readonly code = 'INVALID_HEADERS';
}

export interface BatchAnchor {
  /** Height of a block we hold (or already queued), by hash. */
  heightOf(hash: string): number | undefined;
  powLimitBits: number;
}

/** Validate and decode a header batch; throws HeaderBatchError naming the first problem. */
export function checkHeaderBatch(headers: readonly Uint8Array[], anchor: BatchAnchor): HeaderItem[] {
  if (headers.length > SYNC_LIMITS.maxHeadersPerReply) throw new HeaderBatchError(`${headers.length} headers in one reply`);
  const powLimit = targetFromBits(anchor.powLimitBits);
  const out: HeaderItem[] = [];
  let prev: HeaderItem | undefined;
  for (const [i, bytes] of headers.entries()) {
    let header;
    try {
      header = decodeHeader(bytes);
    } catch (err) {
      if (err instanceof BlockError) throw new HeaderBatchError(`header ${i}: ${err.message}`);
      throw err;
    }
    const digest = hashHeaderBytes(bytes);
    const hash = toHex(digest);
    const prevHash = toHex(header.prevHash);
    if (prev) {
      if (prevHash !== prev.hash) throw new HeaderBatchError(`header ${i} does not link to header ${i - 1}`);
      if (header.height !== prev.height + 1) throw new HeaderBatchError(`header ${i} has height ${header.height} after ${prev.height}`);
    } else {
      const parentHeight = anchor.heightOf(prevHash);
      if (parentHeight === undefined) throw new HeaderBatchError(`first header's parent ${prevHash} is unknown`);
      if (header.height !== parentHeight + 1) throw new HeaderBatchError(`first header has height ${header.height} after ${parentHeight}`);
    }
    let target: bigint;
    try {
      target = targetFromBits(header.bits);
    } catch (err) {
      if (err instanceof BlockError) throw new HeaderBatchError(`header ${i}: ${err.message}`);
      throw err;
    }
    if (target > powLimit) throw new HeaderBatchError(`header ${i} claims a target easier than the chain allows`);
    if (!hashMeetsTarget(digest, target)) throw new HeaderBatchError(`header ${i} (${hash}) lacks its proof of work`);
    prev = { hash, height: header.height, prevHash };
    out.push(prev);
  }
  return out;
}
