/** Conformance: RFC 6962 roots and every audit path of shared/vectors/merkle-rfc6962.json. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/common/bytes.js';
import { auditPath, merkleRoot, merkleTree, verifyAuditPath } from '../../src/chain/merkle.js';

interface Vectors {
  leaves: string[];
  roots: string[];
  paths: Record<string, string[][]>;
}

const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/merkle-rfc6962.json', import.meta.url), 'utf8')) as Vectors;
const leaves = vectors.leaves.map((h) => fromHex(h));

describe('merkle-rfc6962.json', () => {
  it('has a root for every prefix of the leaves, the empty tree included', () => {
    expect(vectors.roots.length).toBe(leaves.length + 1);
  });

  it.each(vectors.roots.map((root, n) => ({ n, root })))('root of the first $n leaves', ({ n, root }) => {
    expect(toHex(merkleRoot(leaves.slice(0, n)))).toBe(root);
    expect(toHex(merkleTree(leaves.slice(0, n)).root)).toBe(root);
  });

  const pathCases = Object.entries(vectors.paths).flatMap(([n, paths]) => paths.map((path, m) => ({ n: Number(n), m, path })));

  it('covers every leaf of every tree size 1..8', () => {
    expect(pathCases.length).toBe(36);
  });

  it.each(pathCases)('path of leaf $m in a tree of $n', ({ n, m, path }) => {
    const sub = leaves.slice(0, n);
    expect(auditPath(sub, m).map(toHex)).toEqual(path);
    expect(merkleTree(sub).path(m).map(toHex)).toEqual(path);
    const root = fromHex(vectors.roots[n] as string);
    expect(verifyAuditPath(sub[m] as Uint8Array, m, n, path.map((h) => fromHex(h)), root)).toBe(true);
  });
});
