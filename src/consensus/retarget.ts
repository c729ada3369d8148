/**
 * Difficulty retarget: Bitcoin Cash's aserti3-2d ("absolutely scheduled exponentially rising
 * targets", integer form), in milliseconds, anchored at the genesis block.
 *
 *   target(child of parent) = anchorTarget · 2^((parent.time − anchor.time − T·(parent.height − anchor.height)) / halfLife)
 *
 * with T = params.blockIntervalMs and halfLife = params.asertHalfLifeMs. Every block that is
 * one interval late (early) relative to the absolute schedule anchor.time + T·(height − anchor.height)
 * doubles (halves) the target once per half-life of lateness; nothing accumulates rounding error
 * because each target is computed from the anchor, not from the parent's target.
 *
 * Integer arithmetic exactly as the BCH specification (2020-11-15 upgrade, aserti3-2d):
 *   exponent = trunc((Δt − T·Δh) · 2^16 / halfLife)      (division truncates toward zero, as in C++)
 *   shifts   = exponent >> 16                             (arithmetic shift, i.e. floor)
 *   frac     = exponent − shifts · 2^16                   (0 ≤ frac < 2^16)
 *   factor   = 2^16 + ((195766423245049·frac + 971821376·frac² + 5127·frac³ + 2^47) >> 48)
 *   target   = (anchorTarget · factor · 2^shifts) >> 16   (floor), then 0 → 1 and clamped to powLimit
 *   bits     = GetCompact(target)
 *
 * One deliberate difference from BCH: BCH's anchor is the block *before* the fork, and it
 * measures time from the anchor's parent, hence its `T·(Δh + 1)`. Our anchor is the genesis
 * block itself and `anchor.time` is the genesis block's own time, so the ideal time of a block
 * at height h is anchor.time + T·(h − anchor.height) and the term is `T·Δh`: the child of
 * the genesis block, mined right on schedule, gets exactly params.genesisBits.
 *
 * All intermediate values are BigInt, so there is no overflow and no floating point.
 */
import { BlockError } from '../common/errors.js';
import { encodeCompact, targetFromBits } from './target.js';

export interface AsertAnchor {
  height: number;
  /** The anchor block's own time, ms since the Unix epoch. */
  time: number;
  bits: number;
}

export interface ParentRef {
  height: number;
  /** ms since the Unix epoch. */
  time: number;
}

/** The consortium parameters the retarget rule reads (a subset of the genesis `params`). */
export interface RetargetParams {
  /** Target block interval, ms. */
  blockIntervalMs: number;
  /** Easiest allowed target as compact bits. */
  powLimitBits: number;
  /** ASERT half-life, ms. */
  asertHalfLifeMs: number;
}

/** A block this much later than its parent re-anchors the schedule (see anchorAfter). */
export interface AnchorResetParams {
  asertAnchorResetMs: number;
}

const RBITS = 16n;
const RADIX = 1n << RBITS;
const C1 = 195766423245049n;
const C2 = 971821376n;
const C3 = 5127n;
const ROUND = 1n << 47n;

/** The genesis block as the ASERT anchor. */
export function genesisAnchor(genesis: { time: number; params: { genesisBits: number } }): AsertAnchor {
  return { height: 0, time: genesis.time, bits: genesis.params.genesisBits };
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be a safe integer ≥ ${min}, got ${String(v)}`);
}

/**
 * aserti3-2d's 2^(frac/65536) · 65536 for 0 ≤ frac < 65536, by the spec's cubic polynomial.
 * Exported for tests; ranges over [65536, 131071].
 */
export function asertFactor(frac: bigint): bigint {
  if (frac < 0n || frac >= RADIX) throw new RangeError('frac out of range');
  return RADIX + ((C1 * frac + C2 * frac * frac + C3 * frac * frac * frac + ROUND) >> 48n);
}

/** The target (not yet compacted) ASERT assigns; see the module comment. */
export function asertTarget(params: RetargetParams, anchor: AsertAnchor, parent: ParentRef): bigint {
  checkInt('blockIntervalMs', params.blockIntervalMs, 1);
  checkInt('asertHalfLifeMs', params.asertHalfLifeMs, 1);
  checkInt('anchor.height', anchor.height, 0);
  checkInt('anchor.time', anchor.time, 0);
  checkInt('parent.height', parent.height, anchor.height);
  checkInt('parent.time', parent.time, 0);
  const powLimit = targetFromBits(params.powLimitBits);
  const anchorTarget = targetFromBits(anchor.bits);

  const timeDelta = BigInt(parent.time) - BigInt(anchor.time);
  const heightDelta = BigInt(parent.height) - BigInt(anchor.height);
  // BigInt division truncates toward zero, matching the C++ reference; `>>` floors.
  const exponent = ((timeDelta - BigInt(params.blockIntervalMs) * heightDelta) * RADIX) / BigInt(params.asertHalfLifeMs);
  const shifts = exponent >> RBITS;
  const frac = exponent - (shifts << RBITS);
  const product = anchorTarget * asertFactor(frac); // < 2^273
  const shift = shifts - RBITS;

  let next: bigint;
  if (shift >= 0n) {
    // product ≥ 2^16, so any left shift past 256 bits exceeds every powLimit: skip the huge shift.
    next = shift > 256n ? powLimit + 1n : product << shift;
  } else {
    next = -shift > 300n ? 0n : product >> -shift;
  }
  if (next === 0n) next = 1n;
  if (next > powLimit) next = powLimit;
  return next;
}

/**
 * The bits required of the child of `parent` (height parent.height + 1). Deterministic and
 * integer-only; never easier than params.powLimitBits. Throws RangeError for malformed input
 * (parent below the anchor, non-integer times) and BlockError BAD_BITS for invalid anchor or
 * powLimit bits.
 */
export function nextBits(params: RetargetParams, anchor: AsertAnchor, parent: ParentRef): number {
  return encodeCompact(asertTarget(params, anchor, parent));
}

/**
 * Anchor reset after an outage. The absolute schedule would make a chain that was stopped for
 * a while "repay" every missed interval by mining at powLimit pace (8 h down at 2 s blocks:
 * ~14,600 blocks in minutes). So a block that comes more than `asertAnchorResetMs` after its
 * parent becomes the anchor for its descendants, with its own bits: the child of the block
 * after the gap gets that block's bits, and the schedule restarts from there. Lateness below
 * the threshold (a real drop in hash power) still accumulates as in plain ASERT.
 *
 * `block` is the block whose descendants are being anchored; `parentAnchor` the anchor its
 * parent used.
 */
export function anchorAfter(
  params: AnchorResetParams,
  parentAnchor: AsertAnchor,
  block: { height: number; time: number; bits: number },
  parentTime: number,
): AsertAnchor {
  if (block.time - parentTime > params.asertAnchorResetMs) return { height: block.height, time: block.time, bits: block.bits };
  return parentAnchor;
}

/** Stateless check of a header's bits against the rule: BlockError BAD_BITS with expected/got. */
export function checkBits(params: RetargetParams, anchor: AsertAnchor, parent: ParentRef, bits: number): void {
  const expected = nextBits(params, anchor, parent);
  if (bits !== expected) {
    throw new BlockError('BAD_BITS', `bits 0x${(bits >>> 0).toString(16).padStart(8, '0')} != required 0x${expected.toString(16).padStart(8, '0')}`, {
      expected,
      got: bits,
      height: parent.height + 1,
    });
  }
}
