/**
 * RFC 6962 §2.1 Merkle Tree Hash and audit paths (DESIGN.md, Formats). Pure computation.
 *
 *   MTH({})      = SHA-256()                                  (the empty tree)
 *   MTH({d0})    = SHA-256(0x00 ‖ d0)                         (leaf hash)
 *   MTH(D[n])    = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))  k = largest power of two < n
 *
 * Leaves are never duplicated (unlike Bitcoin's tree, CVE-2012-2459), and the 0x00 / 0x01
 * prefixes keep a leaf from posing as an inner node. A block's tree is over its tx IDs
 * (32 bytes each) as leaf data.
 *
 * Trees are built bottom-up, level by level: adjacent nodes pair, and an odd last node is
 * carried up unchanged. That is exactly RFC 6962's left-heavy split, with no recursion, so
 * 10,000+ leaves cost one pass of 2n hashes. This is the one implementation: the block checks,
 * the template and the API's proofs (which cache a block's levels) all build trees here.
 */
import { hash } from 'node:crypto';
import { sha256 } from './sha256.js';
import { equalBytes } from '../common/bytes.js';

export const HASH_SIZE = 32;

// One-shot crypto.hash over one contiguous buffer: about half the cost of createHash with
// several updates, which matters at 2n hashes per tree. Synchronous, so the scratch is safe.
const nodeScratch = new Uint8Array(1 + 2 * HASH_SIZE);
nodeScratch[0] = 0x01;
const leafScratch = new Uint8Array(1 + HASH_SIZE);

function digest(data: Uint8Array): Uint8Array {
  const d = hash('sha256', data, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Uint8Array {
  if (data.length === HASH_SIZE) {
    leafScratch.set(data, 1);
    return digest(leafScratch);
  }
  const buf = new Uint8Array(1 + data.length);
  buf.set(data, 1);
  return digest(buf);
}

/** SHA-256(0x01 ‖ left ‖ right). Both must be 32-byte hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new RangeError('inner node children must be 32-byte hashes');
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return digest(nodeScratch);
}

/** Root of the empty tree: SHA-256 of nothing. */
export function emptyRoot(): Uint8Array {
  return sha256();
}

/**
 * Every level of a tree over leaf *hashes* (`count` of them, 32 bytes each, in one flat buffer):
 * levels[0] the leaf hashes themselves, the last level the root alone; each level one flat
 * buffer, so a built tree is compact enough to cache (the API keeps one per block it serves
 * proofs from). No levels for no leaves.
 */
function levelsAbove(leafHashes: Uint8Array, count: number): Uint8Array[] {
  if (count === 0) return [];
  const levels: Uint8Array[] = [leafHashes];
  let level = leafHashes;
  let n = count;
  while (n > 1) {
    const m = Math.ceil(n / 2);
    const next = new Uint8Array(m * HASH_SIZE);
    for (let i = 0; i + 1 < n; i += 2) {
      nodeScratch.set(level.subarray(i * HASH_SIZE, (i + 2) * HASH_SIZE), 1);
      next.set(digest(nodeScratch), (i / 2) * HASH_SIZE);
    }
    // The last, unpaired node is carried up unchanged.
    if (n % 2 === 1) next.set(level.subarray((n - 1) * HASH_SIZE, n * HASH_SIZE), (m - 1) * HASH_SIZE);
    levels.push(next);
    level = next;
    n = m;
  }
  return levels;
}

/** Tree levels (as levelsAbove) over leaf data of any length. */
export function treeLevels(leaves: readonly Uint8Array[]): Uint8Array[] {
  const hashes = new Uint8Array(leaves.length * HASH_SIZE);
  leaves.forEach((leaf, i) => hashes.set(leafHash(leaf), i * HASH_SIZE));
  return levelsAbove(hashes, leaves.length);
}

/** Tree levels (as levelsAbove) over `count` 32-byte leaves (tx IDs) in one flat buffer. */
export function treeLevelsOfIds(ids: Uint8Array, count: number): Uint8Array[] {
  if (ids.length !== count * HASH_SIZE) throw new RangeError(`${ids.length} bytes are not ${count} 32-byte leaves`);
  const hashes = new Uint8Array(count * HASH_SIZE);
  for (let i = 0; i < count; i++) {
    leafScratch.set(ids.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE), 1);
    hashes.set(digest(leafScratch), i * HASH_SIZE);
  }
  return levelsAbove(hashes, count);
}

/** The root of a tree's levels (the empty tree's for none). */
export function levelsRoot(levels: readonly Uint8Array[]): Uint8Array {
  if (levels.length === 0) return emptyRoot();
  return (levels[levels.length - 1] as Uint8Array).subarray(0, HASH_SIZE);
}

/** Leaves in a tree's levels. */
export function levelsSize(levels: readonly Uint8Array[]): number {
  return levels.length === 0 ? 0 : (levels[0] as Uint8Array).length / HASH_SIZE;
}

/** RFC 6962 PATH(index) from a tree's levels: sibling hashes (views into the levels) from the leaf's level up. RangeError for a bad index. */
export function levelsPath(levels: readonly Uint8Array[], index: number): Uint8Array[] {
  checkIndex(index, levelsSize(levels));
  const path: Uint8Array[] = [];
  let i = index;
  for (let d = 0; d < levels.length - 1; d++) {
    const level = levels[d] as Uint8Array;
    const n = level.length / HASH_SIZE;
    const sibling = i % 2 === 1 ? i - 1 : i + 1 < n ? i + 1 : -1;
    // -1: the last, unpaired node is carried up and contributes no sibling at this level.
    if (sibling >= 0) path.push(level.subarray(sibling * HASH_SIZE, (sibling + 1) * HASH_SIZE));
    i = Math.floor(i / 2);
  }
  return path;
}

function checkIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf index ${String(index)} out of range for ${size} leaves`);
}

/** RFC 6962 Merkle Tree Hash of the leaf data. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return levelsRoot(treeLevels(leaves));
}

/** RFC 6962 PATH(index, leaves): sibling hashes from the leaf's level up. RangeError for a bad index. */
export function auditPath(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  checkIndex(index, leaves.length);
  return levelsPath(treeLevels(leaves), index);
}

/** A built tree, for serving many proofs of one block without rehashing. */
export interface MerkleTree {
  readonly size: number;
  readonly root: Uint8Array;
  path(index: number): Uint8Array[];
}

export function merkleTree(leaves: readonly Uint8Array[]): MerkleTree {
  const levels = treeLevels(leaves);
  return { size: leaves.length, root: levelsRoot(levels), path: (index: number) => levelsPath(levels, index) };
}

/**
 * The root an audit path implies for a leaf *hash* (RFC 9162 §2.1.3.2), or null when index ≥ size
 * or the path has the wrong length for (index, size) or an element is not 32 bytes.
 */
export function rootFromAuditPath(leafHashValue: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Uint8Array | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  if (leafHashValue.length !== HASH_SIZE) return null;
  let fn = index;
  let sn = size - 1;
  let r = leafHashValue;
  for (const p of path) {
    if (sn === 0 || p.length !== HASH_SIZE) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/**
 * RFC 9162 §2.1.3.2 inclusion verification of leaf *data* (e.g. a tx ID) at `index` in a tree
 * of `size` leaves with the given root. False for index ≥ size and for wrong path lengths.
 *
 * What it proves: the leaf is in the tree with this root. The tree size itself is committed
 * only through the root, so (index, size) are bound only as far as the path's shape: the
 * verifier should take `size` from a trusted source (the block), not from the prover.
 */
export function verifyAuditPath(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromAuditPath(leafHash(leaf), index, size, path);
  return r !== null && root.length === HASH_SIZE && equalBytes(r, root);
}
