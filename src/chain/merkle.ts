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
 * 10,000+ leaves cost one pass of 2n hashes.
 */
import { hash } from 'node:crypto';
import { sha256 } from './hash.js';
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

/** Every level of the tree: levels[0] the leaf hashes, the last level the root alone. */
function buildLevels(leaves: readonly Uint8Array[]): Uint8Array[][] {
  let level = leaves.map(leafHash);
  const levels: Uint8Array[][] = [level];
  while (level.length > 1) {
    const next: Uint8Array[] = new Array<Uint8Array>(Math.ceil(level.length / 2));
    for (let i = 0; i + 1 < level.length; i += 2) next[i / 2] = nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array);
    if (level.length % 2 === 1) next[next.length - 1] = level[level.length - 1] as Uint8Array;
    level = next;
    levels.push(level);
  }
  return levels;
}

function pathFromLevels(levels: readonly Uint8Array[][], index: number): Uint8Array[] {
  const path: Uint8Array[] = [];
  let i = index;
  for (let d = 0; d < levels.length - 1; d++) {
    const level = levels[d] as Uint8Array[];
    if (i % 2 === 1) path.push(level[i - 1] as Uint8Array);
    else if (i + 1 < level.length) path.push(level[i + 1] as Uint8Array);
    // else: the last, unpaired node is carried up and contributes no sibling at this level.
    i = Math.floor(i / 2);
  }
  return path;
}

function checkIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf index ${String(index)} out of range for ${size} leaves`);
}

/** RFC 6962 Merkle Tree Hash of the leaf data. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return emptyRoot();
  const levels = buildLevels(leaves);
  return (levels[levels.length - 1] as Uint8Array[])[0] as Uint8Array;
}

/** RFC 6962 PATH(index, leaves): sibling hashes from the leaf's level up. RangeError for a bad index. */
export function auditPath(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  checkIndex(index, leaves.length);
  return pathFromLevels(buildLevels(leaves), index);
}

/** A built tree, for serving many proofs of one block without rehashing. */
export interface MerkleTree {
  readonly size: number;
  readonly root: Uint8Array;
  path(index: number): Uint8Array[];
}

export function merkleTree(leaves: readonly Uint8Array[]): MerkleTree {
  const size = leaves.length;
  if (size === 0) {
    return {
      size,
      root: emptyRoot(),
      path: (index: number) => {
        checkIndex(index, 0);
        return [];
      },
    };
  }
  const levels = buildLevels(leaves);
  return {
    size,
    root: (levels[levels.length - 1] as Uint8Array[])[0] as Uint8Array,
    path: (index: number) => {
      checkIndex(index, size);
      return pathFromLevels(levels, index);
    },
  };
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
