import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { auditPath, merkleRoot } from '../../../src/chain/merkle.js';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';
import { encodeTx, signTx, txId } from '../../../src/chain/tx.js';
import { toHex } from '../../../src/chain/bytes.js';
import { flatAuditPath, flatTreeLevels, txIdFromCanonical } from '../../../src/api/provenance.js';
import { LruCache } from '../../../src/api/lru.js';

const key = generateKeyPair();

function tx(events: Record<string, unknown>[], time = 1_700_000_000_000) {
  return signTx(
    { v: 1, chain: 'ab'.repeat(32), kind: 'epcis', submitter: keyIdHex(key.publicKey), time, events, eventIds: events.map((_, i) => `ni:///sha-256;${String(i).padStart(64, '0')}?ver=CBV2.0`) },
    key.secretKey,
  );
}

describe('txIdFromCanonical', () => {
  it('equals the tx ID for txs whose events try to look like the tail', () => {
    const tricky = [
      { type: 'ObjectEvent', note: '"sig":"' + '0'.repeat(128) + '","submitter":"' + '1'.repeat(40) + '","time":1,"v":1}' },
      { kind: 'epcis', sig: 'f'.repeat(128), submitter: 'e'.repeat(40), time: 5, v: 1 },
      { 'ünïcödé': '日本語 ✓', n: 1.5e-7 },
    ];
    for (const t of [tx(tricky), tx([{ a: 1 }], 0), tx([{ b: [] }], Number.MAX_SAFE_INTEGER)]) {
      expect(toHex(txIdFromCanonical(encodeTx(t)) as Uint8Array)).toBe(toHex(txId(t)));
    }
  });

  it('is undefined when the tail is not canonical', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ sig: 'x', v: 1 }));
    expect(txIdFromCanonical(bytes)).toBeUndefined();
  });
});

describe('flat merkle tree', () => {
  it('gives the same root and audit paths as chain/merkle.ts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (n, seed) => {
        const leaves = Array.from({ length: n }, (_, i) => {
          const b = new Uint8Array(32);
          b[0] = i;
          b[1] = seed & 0xff;
          b[31] = (seed >> 8) & 0xff;
          return b;
        });
        const flat = new Uint8Array(n * 32);
        leaves.forEach((l, i) => flat.set(l, i * 32));
        const levels = flatTreeLevels(flat, n);
        expect(toHex((levels[levels.length - 1] as Uint8Array).subarray(0, 32))).toBe(toHex(merkleRoot(leaves)));
        for (let i = 0; i < n; i++) expect(flatAuditPath(levels, i)).toEqual(auditPath(leaves, i).map((p) => toHex(p)));
      }),
      { numRuns: 60 },
    );
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entries past its budget and never keeps an entry larger than it', () => {
    const c = new LruCache<string, number>(10);
    c.set('a', 1, 4);
    c.set('b', 2, 4);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3, 4); // evicts b
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.cost).toBe(8);
    c.set('huge', 4, 11);
    expect(c.get('huge')).toBeUndefined();
    expect(c.size).toBe(2);
  });
});
