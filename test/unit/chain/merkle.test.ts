import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, equalBytes, toHex, u32BE } from '../../../src/common/bytes.js';
import { sha256, sha256d } from '../../../src/chain/sha256.js';
import {
  auditPath,
  emptyRoot,
  leafHash,
  levelsPath,
  levelsRoot,
  merkleRoot,
  merkleTree,
  nodeHash,
  rootFromAuditPath,
  treeLevelsOfIds,
  verifyAuditPath,
} from '../../../src/chain/merkle.js';

/** Distinct 32-byte leaves (tx-ID-like), derived from a seed. */
function makeLeaves(n: number, seed: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => sha256(u32BE(seed >>> 0), u32BE(i)));
}

// --- RFC 6962 §2.1 written recursively, as an independent oracle -------------------------
function largestPow2Below(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function mthRef(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256();
  if (d.length === 1) return leafHash(d[0] as Uint8Array);
  const k = largestPow2Below(d.length);
  return nodeHash(mthRef(d.slice(0, k)), mthRef(d.slice(k)));
}
function pathRef(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = largestPow2Below(d.length);
  return m < k ? [...pathRef(m, d.slice(0, k)), mthRef(d.slice(k))] : [...pathRef(m - k, d.slice(k)), mthRef(d.slice(0, k))];
}
/** Which side each sibling is on, leaf upward, per the recursive definition. */
function shapeRef(m: number, n: number): string {
  if (n <= 1) return '';
  const k = largestPow2Below(n);
  return m < k ? shapeRef(m, k) + 'R' : shapeRef(m - k, n - k) + 'L';
}

/** Bitcoin's tree (duplicate the odd last node), only to show what CVE-2012-2459 is. */
function bitcoinRoot(txids: Uint8Array[]): Uint8Array {
  let level = txids;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256d(concatBytes(level[i] as Uint8Array, (level[i + 1] ?? level[i]) as Uint8Array)));
    level = next;
  }
  return level[0] as Uint8Array;
}

const tree = fc.record({ n: fc.integer({ min: 1, max: 300 }), seed: fc.integer() });
const treeAndIndex = tree.chain(({ n, seed }) => fc.record({ n: fc.constant(n), seed: fc.constant(seed), i: fc.integer({ min: 0, max: n - 1 }) }));

describe('merkle root', () => {
  it('empty tree is SHA-256 of nothing', () => {
    expect(toHex(merkleRoot([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(equalBytes(emptyRoot(), merkleRoot([]))).toBe(true);
    expect(merkleTree([]).size).toBe(0);
    expect(() => merkleTree([]).path(0)).toThrow(RangeError);
  });

  it('one leaf: root is its leaf hash, path is empty', () => {
    const [a] = makeLeaves(1, 7) as [Uint8Array];
    expect(equalBytes(merkleRoot([a]), leafHash(a))).toBe(true);
    expect(auditPath([a], 0)).toEqual([]);
    expect(verifyAuditPath(a, 0, 1, [], leafHash(a))).toBe(true);
  });

  it('bottom-up build equals the recursive RFC 6962 definition, root and paths', () => {
    fc.assert(
      fc.property(treeAndIndex, ({ n, seed, i }) => {
        const leaves = makeLeaves(n, seed);
        expect(toHex(merkleRoot(leaves))).toBe(toHex(mthRef(leaves)));
        expect(auditPath(leaves, i).map(toHex)).toEqual(pathRef(i, leaves).map(toHex));
      }),
      { numRuns: 100 },
    );
  });

  it('flat levels over 32-byte leaves (what the API caches per block) give the recursive root and paths', () => {
    fc.assert(
      fc.property(treeAndIndex, ({ n, seed, i }) => {
        const leaves = makeLeaves(n, seed);
        const flat = new Uint8Array(n * 32);
        leaves.forEach((l, k) => flat.set(l, k * 32));
        const levels = treeLevelsOfIds(flat, n);
        expect(toHex(levelsRoot(levels))).toBe(toHex(mthRef(leaves)));
        expect(levelsPath(levels, i).map(toHex)).toEqual(pathRef(i, leaves).map(toHex));
      }),
      { numRuns: 100 },
    );
    expect(toHex(levelsRoot(treeLevelsOfIds(new Uint8Array(0), 0)))).toBe(toHex(emptyRoot()));
    expect(() => treeLevelsOfIds(new Uint8Array(33), 1)).toThrow(RangeError);
    expect(() => levelsPath(treeLevelsOfIds(new Uint8Array(64), 2), 2)).toThrow(RangeError);
  });

  it('auditPath rejects an index out of range', () => {
    const leaves = makeLeaves(5, 1);
    expect(() => auditPath(leaves, 5)).toThrow(RangeError);
    expect(() => auditPath(leaves, -1)).toThrow(RangeError);
    expect(() => auditPath(leaves, 1.5)).toThrow(RangeError);
    expect(() => merkleTree(leaves).path(5)).toThrow(RangeError);
  });
});

describe('audit paths (property)', () => {
  it("every leaf's path verifies against the root", () => {
    fc.assert(
      fc.property(tree, ({ n, seed }) => {
        const leaves = makeLeaves(n, seed);
        const t = merkleTree(leaves);
        expect(equalBytes(t.root, merkleRoot(leaves))).toBe(true);
        for (let i = 0; i < n; i++) {
          const path = t.path(i);
          expect(path.length).toBe(shapeRef(i, n).length);
          expect(verifyAuditPath(leaves[i] as Uint8Array, i, n, path, t.root)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('altering any path element fails', () => {
    fc.assert(
      fc.property(
        treeAndIndex.filter(({ n }) => n > 1),
        fc.nat(),
        fc.integer({ min: 0, max: 31 }),
        fc.integer({ min: 0, max: 7 }),
        ({ n, seed, i }, which, byte, bit) => {
          const leaves = makeLeaves(n, seed);
          const root = merkleRoot(leaves);
          const path = auditPath(leaves, i);
          const j = which % path.length;
          const bad = path.map((p) => p.slice());
          (bad[j] as Uint8Array)[byte] = ((bad[j] as Uint8Array)[byte] as number) ^ (1 << bit);
          expect(verifyAuditPath(leaves[i] as Uint8Array, i, n, bad, root)).toBe(false);
          // wrong element lengths and wrong path lengths fail too
          const short = path.map((p) => p.slice());
          short[j] = (short[j] as Uint8Array).slice(0, 31);
          expect(verifyAuditPath(leaves[i] as Uint8Array, i, n, short, root)).toBe(false);
          expect(verifyAuditPath(leaves[i] as Uint8Array, i, n, path.slice(0, -1), root)).toBe(false);
          expect(verifyAuditPath(leaves[i] as Uint8Array, i, n, [...path, path[0] as Uint8Array], root)).toBe(false);
        },
      ),
    );
  });

  it('altering the leaf fails', () => {
    fc.assert(
      fc.property(treeAndIndex, fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 7 }), ({ n, seed, i }, byte, bit) => {
        const leaves = makeLeaves(n, seed);
        const leaf = (leaves[i] as Uint8Array).slice();
        leaf[byte] = (leaf[byte] as number) ^ (1 << bit);
        expect(verifyAuditPath(leaf, i, n, auditPath(leaves, i), merkleRoot(leaves))).toBe(false);
        // the leaf hash in place of the leaf data (second-preimage via the 0x00 prefix) fails
        expect(verifyAuditPath(leafHash(leaves[i] as Uint8Array), i, n, auditPath(leaves, i), merkleRoot(leaves))).toBe(false);
      }),
    );
  });

  it('altering the index fails (distinct leaves)', () => {
    fc.assert(
      fc.property(treeAndIndex.filter(({ n }) => n > 1), fc.nat(), ({ n, seed, i }, k) => {
        const leaves = makeLeaves(n, seed);
        const root = merkleRoot(leaves);
        const path = auditPath(leaves, i);
        const other = (i + 1 + (k % (n - 1))) % n; // any index but i
        expect(other).not.toBe(i);
        expect(verifyAuditPath(leaves[i] as Uint8Array, other, n, path, root)).toBe(false);
        expect(verifyAuditPath(leaves[i] as Uint8Array, n + (k % 5), n, path, root)).toBe(false); // index ≥ size
        expect(verifyAuditPath(leaves[i] as Uint8Array, -1, n, path, root)).toBe(false);
      }),
    );
  });

  it('altering the size fails unless the path has exactly the same shape', () => {
    // RFC 9162 verification commits to the size only through the root: a size with the same
    // left/right sequence (e.g. leaf 0 of 5 and of 6) verifies; every other size fails.
    let sameShapeSeen = 0;
    fc.assert(
      fc.property(treeAndIndex, fc.integer({ min: 0, max: 400 }), ({ n, seed, i }, size2) => {
        fc.pre(size2 !== n);
        const leaves = makeLeaves(n, seed);
        const ok = verifyAuditPath(leaves[i] as Uint8Array, i, size2, auditPath(leaves, i), merkleRoot(leaves));
        const same = i < size2 && shapeRef(i, size2) === shapeRef(i, n);
        if (same) sameShapeSeen++;
        expect(ok).toBe(same);
      }),
      { numRuns: 300 },
    );
    expect(sameShapeSeen).toBeGreaterThanOrEqual(0);
    // the documented benign case, explicitly
    const leaves = makeLeaves(5, 3);
    expect(verifyAuditPath(leaves[0] as Uint8Array, 0, 6, auditPath(leaves, 0), merkleRoot(leaves))).toBe(true);
    expect(verifyAuditPath(leaves[4] as Uint8Array, 4, 6, auditPath(leaves, 4), merkleRoot(leaves))).toBe(false);
    expect(verifyAuditPath(leaves[0] as Uint8Array, 0, 0, auditPath(leaves, 0), merkleRoot(leaves))).toBe(false);
  });

  it('rootFromAuditPath returns null for wrong shapes instead of a root', () => {
    const leaves = makeLeaves(8, 9);
    const p = auditPath(leaves, 3);
    expect(rootFromAuditPath(leafHash(leaves[3] as Uint8Array), 3, 8, p)).not.toBeNull();
    expect(rootFromAuditPath(leafHash(leaves[3] as Uint8Array), 3, 8, p.slice(1))).toBeNull();
    expect(rootFromAuditPath(leafHash(leaves[3] as Uint8Array), 8, 8, p)).toBeNull();
    expect(rootFromAuditPath(new Uint8Array(31), 3, 8, p)).toBeNull();
  });
});

describe('CVE-2012-2459 (duplicated leaves)', () => {
  it("Bitcoin's tree collides for [a,b,c] and [a,b,c,c] (what the test guards against)", () => {
    const [a, b, c] = makeLeaves(3, 5) as [Uint8Array, Uint8Array, Uint8Array];
    expect(equalBytes(bitcoinRoot([a, b, c]), bitcoinRoot([a, b, c, c]))).toBe(true);
    expect(equalBytes(merkleRoot([a, b, c]), merkleRoot([a, b, c, c]))).toBe(false);
  });

  it('duplicating the last leaf, or the last 2^k leaves, changes the root', () => {
    fc.assert(
      fc.property(tree, ({ n, seed }) => {
        const leaves = makeLeaves(n, seed);
        const root = toHex(merkleRoot(leaves));
        for (let k = 1; k <= n; k *= 2) {
          const mutated = [...leaves, ...leaves.slice(n - k)];
          expect(toHex(merkleRoot(mutated))).not.toBe(root);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('scale', () => {
  it('10,000 leaves: root, every path, verification; 100,000 leaves: root without recursion', () => {
    const leaves = makeLeaves(10_000, 42);
    const t0 = performance.now();
    const t = merkleTree(leaves);
    let ok = 0;
    for (let i = 0; i < leaves.length; i++) if (verifyAuditPath(leaves[i] as Uint8Array, i, leaves.length, t.path(i), t.root)) ok++;
    const ms = performance.now() - t0;
    expect(ok).toBe(10_000);
    expect(toHex(t.root)).toBe(toHex(merkleRoot(leaves)));
    expect(ms).toBeLessThan(5_000);
    const big = makeLeaves(100_000, 43);
    expect(merkleRoot(big).length).toBe(32);
  });
});
