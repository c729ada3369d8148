import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { auditPath, merkleRoot } from '../../../src/chain/merkle.js';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';
import { encodeTx, signTx, txId } from '../../../src/chain/tx.js';
import { toHex } from '../../../src/chain/bytes.js';
import { encodeBlock, makeBlock } from '../../../src/chain/block.js';
import { flatAuditPath, flatTreeLevels, indexTxEvents, materialOf, Provenance, txIdFromCanonical, writeEventEntry } from '../../../src/api/provenance.js';
import type { Chain } from '../../../src/chain/chain.js';
import { JsonBytes, utf16Length } from '../../../src/api/json-bytes.js';
import { HttpProblem } from '../../../src/api/problem.js';
import { LruCache } from '../../../src/api/lru.js';
import type { SignedTx } from '../../../src/chain/types.js';

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

/** Event-like JSON objects with the awkward parts: quotes, backslashes, control characters, non-BMP text, all-digit keys, nesting. */
const awkwardKey = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '1', '10', '9', '01', '__proto__', 'a"b', 'k\\\\', '\u2028', '日本'), fc.nat({ max: 200 }).map(String));
const awkwardValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('"', '\\', '\u0000\u001f', '\ud83d\ude00', '}]{["', '"sig":"'),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(awkwardKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const awkwardEvent = fc.dictionary(awkwardKey, awkwardValue, { minKeys: 0, maxKeys: 6 });

describe('indexTxEvents (event slices without JSON.parse)', () => {
  it('finds every event ID and event: a slice is what JSON.stringify(JSON.parse(tx)).events[k] gives unless flagged', () => {
    fc.assert(
      fc.property(fc.array(awkwardEvent, { minLength: 1, maxLength: 6 }), (events) => {
        const t = tx(events);
        const bytes = encodeTx(t);
        const index = indexTxEvents(bytes);
        expect(index).toBeDefined();
        if (index === undefined) return;
        const parsed = JSON.parse(new TextDecoder().decode(bytes)) as SignedTx;
        expect(index.count).toBe(events.length);
        for (let k = 0; k < events.length; k++) {
          expect(index.eventId(bytes, k)).toBe(parsed.eventIds[k]);
          const slice = new TextDecoder().decode(index.event(bytes, k));
          expect(JSON.parse(slice)).toEqual(parsed.events[k]);
          if (index.reorders[k] === 0) expect(slice).toBe(JSON.stringify(parsed.events[k]));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('flags an event with an all-digit key (JS objects list array-index keys first)', () => {
    const bytes = encodeTx(tx([{ b: 1, '10': 2, '9': 3 }, { a: 1 }]));
    const index = indexTxEvents(bytes);
    expect(index?.reorders[0]).toBe(1);
    expect(index?.reorders[1]).toBe(0);
  });

  it('is undefined for bytes without the canonical shape', () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(indexTxEvents(enc({ chain: 'x', eventIds: [], events: [] }))).toBeUndefined();
    const good = encodeTx(tx([{ a: 1 }]));
    expect(indexTxEvents(good.subarray(0, good.length - 60))).toBeDefined(); // the tail is not read
    const end = indexTxEvents(good)?.spans[1] as number;
    expect(indexTxEvents(good.subarray(0, end - 1))).toBeUndefined(); // cut inside the last event
    expect(indexTxEvents(good.subarray(0, end))).toBeUndefined(); // cut before the events' closing bracket
    const twoIds = JSON.parse(new TextDecoder().decode(good)) as SignedTx;
    twoIds.eventIds.push(twoIds.eventIds[0] as string);
    expect(indexTxEvents(encodeTx(twoIds))).toBeUndefined(); // more IDs than events
  });
});

describe('JsonBytes', () => {
  it('writes UTF-8 bytes as a JSON string exactly as JSON.stringify writes the decoded string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (str) => {
        const utf8 = Buffer.from(str, 'utf8');
        if (utf8.toString('utf8') !== str) return; // lone surrogates have no UTF-8 form
        const w = new JsonBytes(16);
        w.ascii('[').stringOfUtf8(utf8).ascii(',').value(str).ascii(']');
        expect(w.bytes().toString('utf8')).toBe(JSON.stringify([str, str]));
        expect(utf16Length(utf8)).toBe(str.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('proof answers from block bytes', () => {
  const header = (merkleRoot: Uint8Array) => ({ version: 1, height: 7, prevHash: new Uint8Array(32).fill(3), merkleRoot, sealer: new Uint8Array(20).fill(5), time: 1_700_000_000_000, bits: 0x207fffff, nonce: 9n });
  const limits = { limits: { maxBlockBytes: 4 * 1024 * 1024, maxTxBytes: 1024 * 1024, maxEventsPerTx: 10_000 } };
  function blockOf(txs: SignedTx[]) {
    const draft = makeBlock(header(new Uint8Array(32)), new Uint8Array(64), txs);
    const block = makeBlock(header(merkleRoot(draft.txIds)), new Uint8Array(64).fill(1), txs);
    return { block, bytes: encodeBlock(block) };
  }

  it('writes each entry byte-for-byte as JSON.stringify of the object answer', () => {
    fc.assert(
      fc.property(fc.array(fc.array(awkwardEvent, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }), (txEvents) => {
        const txs = txEvents.map((evs, i) => tx(evs, 1_700_000_000_000 + i));
        const { block, bytes } = blockOf(txs);
        const material = materialOf(block.hashHex, bytes, limits);
        const ref = { hash: block.hashHex, height: 7 };
        txs.forEach((t, i) => {
          const txBytes = material.txBytes(bytes, i);
          const index = indexTxEvents(txBytes);
          expect(index).toBeDefined();
          if (index === undefined) return;
          const parsed = JSON.parse(new TextDecoder().decode(txBytes)) as SignedTx;
          for (let k = 0; k < t.events.length; k++) {
            const slice = index.event(txBytes, k);
            const event = index.reorders[k] === 1 ? JSON.stringify(JSON.parse(new TextDecoder().decode(slice))) : slice;
            const w = new JsonBytes(64);
            writeEventEntry(w, { eventId: index.eventId(txBytes, k), event, txIndex: i, block: ref, confirmations: 3, material, tx: txBytes });
            const expected = { eventId: parsed.eventIds[k], event: parsed.events[k], txId: toHex(txId(t)), block: ref, confirmations: 3, proof: material.proof(txBytes, i) };
            expect(w.bytes().toString('utf8')).toBe(JSON.stringify(expected));
          }
        });
      }),
      { numRuns: 80 },
    );
  });

  it('refuses stored bytes that are not the block: a flipped byte anywhere the proof depends on, or trailing bytes', () => {
    const txs = [tx([{ a: 1 }]), tx([{ b: 'x' }], 5), tx([{ c: [1, 2] }], 6)];
    const { block, bytes } = blockOf(txs);
    expect(() => materialOf(block.hashHex, bytes, limits)).not.toThrow();
    const sigAt = (i: number) => {
      const m = materialOf(block.hashHex, bytes, limits);
      const text = new TextDecoder().decode(m.txBytes(bytes, i));
      return (m.offsets[2 * i] as number) + text.indexOf('"sig":"') + 7;
    };
    const sigRanges = [0, 1, 2].map((i) => [sigAt(i), sigAt(i) + 128]);
    for (let at = 0; at < bytes.length; at++) {
      if (at >= 112 && at < 176) continue; // the sealer signature: checked on import, not part of a proof
      if (sigRanges.some(([a, b]) => at >= (a as number) && at < (b as number))) continue; // a tx's signature is not in its ID (as in Chain.decodeStored)
      const bad = bytes.slice();
      bad[at] = (bad[at] as number) ^ 0x01;
      let err: unknown;
      try {
        materialOf(block.hashHex, bad, limits);
      } catch (e) {
        err = e;
      }
      expect(err, `flipped byte ${at}`).toBeInstanceOf(HttpProblem);
      expect((err as HttpProblem).status).toBe(500);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => materialOf(block.hashHex, longer, limits)).toThrow(HttpProblem);
  });
});

describe('Provenance (per-tx cache over stored block bytes)', () => {
  const header = (merkleRoot: Uint8Array) => ({ version: 1, height: 3, prevHash: new Uint8Array(32).fill(2), merkleRoot, sealer: new Uint8Array(20).fill(4), time: 1_700_000_000_000, bits: 0x207fffff, nonce: 1n });
  const limits = { maxBlockBytes: 4 * 1024 * 1024, maxTxBytes: 1024 * 1024, maxEventsPerTx: 10_000 };
  const txs = [tx([{ a: 1 }, { '7': 'digits first', z: 0 }]), tx([{ b: '"q"\\' }, { c: '日本' }], 9), tx([{ d: null }], 10)];
  const draft = makeBlock(header(new Uint8Array(32)), new Uint8Array(64), txs);
  const block = makeBlock(header(merkleRoot(draft.txIds)), new Uint8Array(64).fill(1), txs);
  const good = encodeBlock(block);

  function fakeChain(stored: { bytes: Uint8Array; reads: number }): Chain {
    const store = {
      getBlockBytes: async (hash: string) => {
        stored.reads++;
        return hash === block.hashHex ? stored.bytes : undefined;
      },
      getMainHash: async (height: number) => (height === 3 ? block.hashHex : undefined),
      getTxLocation: async (id: string) => {
        const i = block.txIds.findIndex((x) => toHex(x) === id);
        return i < 0 ? undefined : { blockHash: block.hashHex, height: 3, index: i };
      },
      // A block stored by an older build: no per-tx records, proofs read the block.
      getBlockTxIds: async () => undefined,
      getBlockTx: async () => undefined,
      ...perTx,
    };
    return { store, limits, on: () => undefined, off: () => undefined, confirmations: () => 2 } as unknown as Chain;
  }
  let perTx: Record<string, unknown> = {};
  const ref = { hash: block.hashHex, height: 3 };
  const idsRecord = (): Uint8Array => {
    const r = new Uint8Array(112 + 32 * block.txIds.length);
    r.set(block.headerBytes, 0);
    block.txIds.forEach((id, i) => r.set(id, 112 + 32 * i));
    return r;
  };

  it('per-tx records: the same entries byte for byte, without reading the block; damaged records are 500 STORE_DAMAGED', async () => {
    const reads = { ids: 0, txs: 0 };
    let record = idsRecord();
    let txBytes = block.txBytes.map((b) => b.slice());
    perTx = {
      getBlockTxIds: async (hash: string) => {
        reads.ids++;
        return hash === block.hashHex ? record : undefined;
      },
      getBlockTx: async (hash: string, i: number) => {
        reads.txs++;
        return hash === block.hashHex ? txBytes[i] : undefined;
      },
    };
    try {
      const stored = { bytes: good, reads: 0 };
      const p = new Provenance(fakeChain(stored), { blockCacheBytes: 1024 * 1024, proofCacheBytes: 1024 * 1024 });
      const viaBlock = new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 1024 * 1024, proofCacheBytes: 1024 * 1024 });
      for (let t = 0; t < txs.length; t++) {
        for (let k = 0; k < (txs[t] as SignedTx).events.length; k++) {
          const w = new JsonBytes();
          writeEventEntry(w, await p.rawEntryAt(ref, t, k, (txs[t] as SignedTx).eventIds[k]));
          expect(w.bytes().toString('utf8')).toBe(JSON.stringify(await p.entryAt(ref, t, k, undefined)));
        }
      }
      expect(stored.reads).toBe(0);
      expect(reads).toEqual({ ids: 1, txs: 3 });
      // Same answer as from the block (a provenance without per-tx records).
      perTx = {};
      expect(JSON.stringify(await viaBlock.entryAt(ref, 1, 0, undefined))).toBe(JSON.stringify(await p.entryAt(ref, 1, 0, undefined)));
      perTx = {
        getBlockTxIds: async () => record,
        getBlockTx: async (_h: string, i: number) => txBytes[i],
      };
      // A flipped byte in a tx (read with no tx cache): refused.
      const small = new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 16, proofCacheBytes: 1024 * 1024 });
      for (const at of [0, 30, (txBytes[1] as Uint8Array).length - 1]) {
        txBytes = block.txBytes.map((b) => b.slice());
        const t1 = txBytes[1] as Uint8Array;
        t1[at] = (t1[at] as number) ^ 0x04;
        await expect(small.rawEntryAt(ref, 1, 0, undefined), `tx byte ${at}`).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
      }
      txBytes = block.txBytes.map((b) => b.slice());
      // A flipped byte in the header or a tx ID of the record (fresh provenance: material not cached).
      for (const at of [10, 112 + 5, 112 + 32 * 2 + 31]) {
        record = idsRecord();
        record[at] = (record[at] as number) ^ 0x01;
        const fresh = new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 1024 * 1024, proofCacheBytes: 1024 * 1024 });
        await expect(fresh.rawEntryAt(ref, 0, 0, undefined), `record byte ${at}`).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
      }
      record = idsRecord().subarray(0, 130);
      const fresh = new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 1024 * 1024, proofCacheBytes: 1024 * 1024 });
      await expect(fresh.rawEntryAt(ref, 0, 0, undefined)).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
    } finally {
      perTx = {};
    }
  });

  it('writes entries as entryAt answers them, byte for byte, and keeps only the txs asked for', async () => {
    const stored = { bytes: good, reads: 0 };
    const p = new Provenance(fakeChain(stored), { blockCacheBytes: 1024 * 1024, proofCacheBytes: 1024 * 1024 });
    for (let t = 0; t < txs.length; t++) {
      for (let k = 0; k < (txs[t] as SignedTx).events.length; k++) {
        const w = new JsonBytes();
        writeEventEntry(w, await p.rawEntryAt(ref, t, k, (txs[t] as SignedTx).eventIds[k]));
        expect(w.bytes().toString('utf8')).toBe(JSON.stringify(await p.entryAt(ref, t, k, undefined)));
      }
    }
    expect(stored.reads).toBe(3); // one read per tx (then cached), not per event
    expect(p.cacheStats().txs.bytes).toBeLessThan(good.length + 3 * 1024);
    await expect(p.rawEntryAt(ref, 0, 0, 'ni:///sha-256;' + 'f'.repeat(64) + '?ver=CBV2.0')).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
    await expect(p.rawEntryAt(ref, 0, 5, undefined)).rejects.toMatchObject({ status: 500 });
    await expect(p.rawEntryAt(ref, 7, 0, undefined)).rejects.toMatchObject({ status: 500 });
  });

  it('checks bytes read again after the tx cache dropped them: a flipped byte is never served', async () => {
    const stored = { bytes: good, reads: 0 };
    // A tx cache too small to keep any tx: every request reads the block again, with the material cached.
    const p = new Provenance(fakeChain(stored), { blockCacheBytes: 16, proofCacheBytes: 1024 * 1024 });
    await p.rawEntryAt(ref, 1, 0, undefined);
    const m = materialOf(block.hashHex, good, { limits });
    const start = m.offsets[2] as number; // tx 1
    for (const at of [start, start + 40, start + 150, start + (m.offsets[3] as number) - 1]) {
      const bad = good.slice();
      bad[at] = (bad[at] as number) ^ 0x04;
      stored.bytes = bad;
      await expect(p.rawEntryAt(ref, 1, 0, undefined), `flipped byte ${at}`).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
      await expect(p.txById(m.txIdHex(1)), `flipped byte ${at}`).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
    }
    stored.bytes = good;
    await expect(p.rawEntryAt(ref, 1, 0, undefined)).resolves.toMatchObject({ txIndex: 1 });
  });
});
