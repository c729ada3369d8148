/**
 * Block checks that need no chain state beyond the parent's header entry: header context
 * (height, bits, proof of work, time, sealer right and signature) and body (size, tx count,
 * duplicate txs, merkle root). Each failure throws a BlockError with its code.
 */
import { BlockError, type BlockErrorCode } from '../common/errors.js';
import { blockSigningMessage, type Block } from './block.js';
import { HEADER_VERSION } from './header.js';
import { merkleRoot } from './merkle.js';
import { equalBytes, toHex } from '../common/bytes.js';
import { verify } from './keys.js';
import { targetFromBits, hashMeetsTarget } from '../consensus/target.js';
import { checkBlockTime } from '../consensus/block-time.js';
import type { MemberRegistry } from './registry.js';
import type { HeaderEntry } from './store.js';
import type { ConsortiumParams } from './types.js';

export interface HeaderContext {
  parent: HeaderEntry;
  /** Median time past of the parent and its ancestors (up to 11). */
  mtp: number;
  /** Bits the retarget rule requires for this block. */
  expectedBits: number;
  now: number;
  params: ConsortiumParams;
  /**
   * The registry: at this block's height when its parent is the tip (the seal right is checked
   * here), else any view (only the sealer's key is looked up; the seal right at the block's own
   * height is checked when it connects, chain/connect.ts).
   */
  registry: MemberRegistry;
  /**
   * This node already verified this block's sealer signature (the same hash and signature
   * bytes, see Chain.prepareBlocks): skip only that one Ed25519 verify. Every other check,
   * the sealer's right included, still runs here.
   */
  sealVerified?: boolean;
}

/** Whether `signature` is the sealer's Ed25519 signature over the block hash (pure; also run by the verifier workers). */
export function sealSignatureValid(registry: MemberRegistry, hash: Uint8Array, sealerId: string, signature: Uint8Array): boolean {
  const key = registry.publicKey(sealerId);
  return key !== undefined && verify(key, blockSigningMessage(hash), signature);
}

export function checkHeader(block: Block, ctx: HeaderContext): void {
  const h = block.header;
  if (h.version !== HEADER_VERSION) throw new BlockError('BAD_VERSION', `header version ${h.version}, expected ${HEADER_VERSION}`);
  if (h.height !== ctx.parent.height + 1) {
    throw new BlockError('BAD_HEIGHT', `height ${h.height} does not follow parent height ${ctx.parent.height}`);
  }
  if (h.bits !== ctx.expectedBits) {
    throw new BlockError('BAD_BITS', `bits 0x${h.bits.toString(16)} differ from the retarget rule's 0x${ctx.expectedBits.toString(16)}`, {
      expected: ctx.expectedBits,
      got: h.bits,
      height: h.height,
    });
  }
  const target = targetFromBits(h.bits);
  if (!hashMeetsTarget(block.hash, target)) throw new BlockError('BAD_POW', `hash ${block.hashHex} is above the target`);
  checkBlockTime(h.time, ctx.mtp, ctx.now, ctx.params.futureWindowMs);
  const sealerId = toHex(h.sealer);
  const key = ctx.registry.publicKey(sealerId);
  if (!key || (ctx.registry.height === h.height && !ctx.registry.canSealAt(sealerId, h.height))) {
    throw new BlockError('NOT_A_SEALER', `sealer ${sealerId} is not a member with the seal right at height ${h.height}`);
  }
  if (ctx.sealVerified !== true && !sealSignatureValid(ctx.registry, block.hash, sealerId, block.signature)) {
    throw new BlockError('BAD_SEALER_SIGNATURE', `sealer signature does not verify for ${ctx.registry.get(sealerId)?.name ?? sealerId}`);
  }
}

/**
 * Body checks. The merkle root is checked first: any failure after it concerns the body the
 * header commits to, so it is a property of the block hash (see isPermanentFailure).
 */
export function checkBody(block: Block, params: ConsortiumParams): void {
  const root = merkleRoot(block.txIds);
  if (!equalBytes(root, block.header.merkleRoot)) {
    throw new BlockError('BAD_MERKLE_ROOT', `merkle root ${toHex(root)} differs from the header's ${toHex(block.header.merkleRoot)}`);
  }
  if (block.size > params.maxBlockBytes) throw new BlockError('OVERSIZE', `block is ${block.size} bytes, limit ${params.maxBlockBytes}`);
  const seen = new Set<string>();
  for (const id of block.txIds) {
    const hex = toHex(id);
    if (seen.has(hex)) throw new BlockError('DUPLICATE_TX', `tx ${hex} appears twice in the block`, { txId: hex });
    seen.add(hex);
  }
}

/**
 * Per code: whether the failure is a property of the block hash itself (so the hash may be
 * remembered as invalid) rather than of bytes a peer could have mutated without changing the
 * hash, or of a moment (a clock, a missing parent). Exhaustive over the code union: a new code
 * does not compile until it is classified here.
 */
export const PERMANENT_FAILURE: Readonly<Record<BlockErrorCode, boolean>> = {
  // The bytes, not the hash: a peer can mutate a good block's body (CVE-2012-2459) or framing.
  MALFORMED: false,
  OVERSIZE: false,
  BAD_MERKLE_ROOT: false,
  // Not yet decidable, or nothing wrong.
  TIME_TOO_NEW: false,
  UNKNOWN_PARENT: false,
  ALREADY_KNOWN: false,
  // The header (which the hash covers) or the body it commits to is invalid.
  BAD_VERSION: true,
  BAD_POW: true,
  BAD_BITS: true,
  BAD_SEALER_SIGNATURE: true,
  NOT_A_SEALER: true,
  TIME_TOO_OLD: true,
  BAD_HEIGHT: true,
  DUPLICATE_TX: true,
  BAD_TX: true,
  INVALID_ANCESTOR: true,
  TOO_MANY_TXS: true,
};

/** Whether a failure with this code may mark the block's hash invalid (see PERMANENT_FAILURE). */
export function isPermanentFailure(code: BlockErrorCode): boolean {
  return PERMANENT_FAILURE[code];
}
