import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { auditPath, merkleRoot } from '../../../src/chain/merkle.js';
import { txId } from '../../../src/chain/tx.js';
import { toHex } from '../../../src/common/bytes.js';
import { encodeBlock, makeBlock } from '../../../src/chain/block.js';
import { PARSED_TX_MEMO_ENTRIES, Provenance, parsedTxMemo, writeEventEntry } from '../../../src/api/provenance.js';
import { materialOf } from '../../../src/api/proof-material.js';
import { indexTxEvents } from '../../../src/api/tx-text.js';
import type { Chain } from '../../../src/chain/chain.js';
import { JsonBytes } from '../../../src/api/json-bytes.js';
import { HttpProblem } from '../../../src/api/problem.js';
import { LruCache } from '../../../src/common/lru.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { awkwardEvent, tx } from './tx-fixtures.js';


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


describe('JsonBytes', () => {
  it('writes any string value and JSON text exactly as JSON.stringify does, growing as needed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 50 }), (str, other) => {
        const w = new JsonBytes(16);
        w.ascii('[').value(str).ascii(',').text(JSON.stringify({ other })).ascii(']');
        expect(w.bytes().toString('utf8')).toBe(JSON.stringify([str, { other }]));
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
          const txText = new TextDecoder().decode(material.txBytes(bytes, i));
          const index = indexTxEvents(txText);
          expect(index).toBeDefined();
          if (index === undefined) return;
          const parsed = JSON.parse(txText) as SignedTx;
          for (let k = 0; k < t.events.length; k++) {
            const slice = index.event(k) as string;
            const event = index.reorders(k) ? JSON.stringify(JSON.parse(slice)) : slice;
            const w = new JsonBytes(64);
            writeEventEntry(w, { eventId: index.eventId(k) as string, event, txIndex: i, block: ref, confirmations: 3, material, tx: txText });
            const expected = { eventId: parsed.eventIds[k], event: parsed.events[k], txId: toHex(txId(t)), block: ref, confirmations: 3, proof: material.proof(txText, i) };
            expect(w.bytes().toString('utf8')).toBe(JSON.stringify(expected));
            // A journey step that came through a container: via and path follow, as JSON.stringify writes them.
            const marked = new JsonBytes(64);
            const mark = { via: 'https://id.gs1.org/00/106141410000000017', path: ['https://id.gs1.org/00/006141410000000013', 'https://id.gs1.org/00/106141410000000017'] };
            writeEventEntry(marked, { eventId: index.eventId(k) as string, event, txIndex: i, block: ref, confirmations: 3, material, tx: txText }, mark);
            expect(marked.bytes().toString('utf8')).toBe(JSON.stringify({ ...expected, ...mark }));
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
      getBlockTxTexts: async (refs: unknown[]) => refs.map(() => undefined),
      ...perTx,
    };
    const mempool = { get: () => undefined, has: () => false, txOfEvent: () => undefined };
    return { store, mempool, limits, on: () => undefined, off: () => undefined, confirmations: () => 2, stateStamp: () => 0, stateSettled: async () => undefined } as unknown as Chain;
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
      // As LevelDB's UTF-8 read: invalid bytes become U+FFFD, which the hash check then catches.
      getBlockTxTexts: async (refs: { hash: string; index: number }[]) => {
        reads.txs++;
        return refs.map((r) => (r.hash === block.hashHex && txBytes[r.index] ? new TextDecoder().decode(txBytes[r.index]) : undefined));
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
        getBlockTxTexts: async (refs: { index: number }[]) => refs.map((r) => new TextDecoder().decode(txBytes[r.index])),
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

  it('eventAt with a request memo reads each tx once with no tx cache (a query page over one tx\'s events), and the memo stays bounded', async () => {
    const reads = { txs: 0 };
    perTx = {
      getBlockTxIds: async () => idsRecord(),
      getBlockTxTexts: async (refs: { index: number }[]) => {
        reads.txs++;
        return refs.map((r) => new TextDecoder().decode(block.txBytes[r.index]));
      },
    };
    try {
      const p = new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 0, proofCacheBytes: 1024 * 1024 });
      const memo = parsedTxMemo();
      for (let t = 0; t < txs.length; t++) {
        for (let k = 0; k < (txs[t] as SignedTx).events.length; k++) {
          expect(await p.eventAt(ref, t, k, (txs[t] as SignedTx).eventIds[k], memo)).toEqual((txs[t] as SignedTx).events[k]);
        }
      }
      expect(reads.txs).toBe(txs.length);
      // Without the memo, each event reads its tx again (the 1.4–1.9 s /events pages of bench query).
      reads.txs = 0;
      for (let k = 0; k < (txs[0] as SignedTx).events.length; k++) await p.eventAt(ref, 0, k, undefined);
      expect(reads.txs).toBe((txs[0] as SignedTx).events.length);
      expect(memo.size).toBeLessThanOrEqual(PARSED_TX_MEMO_ENTRIES);
    } finally {
      perTx = {};
    }
  });

  it('rawEntriesAt: the same entries as rawEntryAt, the txs of a page in one store read; the older block format and damage as rawEntryAt', async () => {
    const reads = { ids: 0, txs: 0, refs: 0 };
    let txBytes = block.txBytes.map((b) => b.slice());
    perTx = {
      getBlockTxIds: async (hash: string) => {
        reads.ids++;
        return hash === block.hashHex ? idsRecord() : undefined;
      },
      getBlockTxTexts: async (refs: { hash: string; index: number }[]) => {
        reads.txs++;
        reads.refs += refs.length;
        return refs.map((r) => (r.hash === block.hashHex && txBytes[r.index] ? new TextDecoder().decode(txBytes[r.index]) : undefined));
      },
    };
    try {
      const all = txs.flatMap((t, txIndex) => t.events.map((_, eventIndex) => ({ ref, txIndex, eventIndex, eventId: t.eventIds[eventIndex] as string })));
      const p = new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 0, proofCacheBytes: 1024 * 1024 });
      const many = await p.rawEntriesAt(all);
      expect(reads).toEqual({ ids: 1, txs: 1, refs: txs.length });
      const one = new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 0, proofCacheBytes: 1024 * 1024 });
      for (const [i, x] of all.entries()) {
        const a = new JsonBytes();
        writeEventEntry(a, many[i] as Parameters<typeof writeEventEntry>[1]);
        const b = new JsonBytes();
        writeEventEntry(b, await one.rawEntryAt(x.ref, x.txIndex, x.eventIndex, x.eventId));
        expect(a.bytes().toString('utf8')).toBe(b.bytes().toString('utf8'));
      }
      // A wrong expected event ID, a flipped tx byte: refused.
      const fresh = () => new Provenance(fakeChain({ bytes: good, reads: 0 }), { blockCacheBytes: 0, proofCacheBytes: 1024 * 1024 });
      await expect(fresh().rawEntriesAt([{ ...(all[0] as (typeof all)[number]), eventId: all[1]?.eventId as string }])).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
      const t1 = txBytes[1] as Uint8Array;
      t1[30] = (t1[30] as number) ^ 0x04;
      await expect(fresh().rawEntriesAt(all)).rejects.toMatchObject({ status: 500, code: 'STORE_DAMAGED' });
      txBytes = block.txBytes.map((b) => b.slice());
      // A block stored without per-tx records: read whole, the same entries.
      perTx = {};
      const stored = { bytes: good, reads: 0 };
      const old = await new Provenance(fakeChain(stored), { blockCacheBytes: 0, proofCacheBytes: 1024 * 1024 }).rawEntriesAt(all);
      expect(stored.reads).toBeGreaterThan(0);
      expect(old.map((e) => [e.eventId, e.event, e.tx])).toEqual(many.map((e) => [e.eventId, e.event, e.tx]));
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

describe('Provenance lookups while a block connects or disconnects', () => {
  const t = tx([{ a: 1 }]);
  const id = toHex(txId(t));
  const eventId = t.eventIds[0] as string;
  /** A chain whose store reads wait for `gate`, with a mempool and a state stamp the test moves. */
  function racingChain() {
    const state = { pending: true, stamp: 7 as number | undefined, storeReads: 0, settled: Promise.resolve() };
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const store = {
      getEventLocation: async () => {
        state.storeReads++;
        await gate;
        return undefined; // read before the connect's batch, or after the disconnect's
      },
      getTxLocation: async () => {
        state.storeReads++;
        await gate;
        return undefined;
      },
    };
    const mempool = {
      get: (x: string) => (state.pending && x === id ? { tx: t } : undefined),
      has: (x: string) => state.pending && x === id,
      txOfEvent: (e: string) => (state.pending && e === eventId ? id : undefined),
    };
    const chain = { store, mempool, on: () => undefined, off: () => undefined, stateStamp: () => state.stamp, stateSettled: () => state.settled } as unknown as Chain;
    return { chain, state, open: () => open() };
  }

  it('an event mined while its store read runs is answered pending, never 404 (the mempool is read before the store)', async () => {
    const { chain, state, open } = racingChain();
    const p = new Provenance(chain);
    const answer = p.eventById(eventId);
    // The connect writes its batch and then removes the tx from the mempool; the store read above started before.
    state.pending = false;
    state.stamp = 8;
    open();
    await expect(answer).resolves.toMatchObject({ eventId, txId: id, block: null });
    const second = racingChain();
    const txAnswer = new Provenance(second.chain).txById(id);
    second.state.pending = false;
    second.state.stamp = 8;
    second.open();
    await expect(txAnswer).resolves.toMatchObject({ txId: id, block: null });
  });

  it('an event a disconnect moves back to the mempool is read again once the change settles', async () => {
    const { chain, state, open } = racingChain();
    state.pending = false; // in a block when the lookup starts
    const p = new Provenance(chain);
    let settle: () => void = () => undefined;
    state.settled = new Promise<void>((r) => (settle = r));
    const answer = p.eventById(eventId);
    state.stamp = undefined; // the disconnect runs: its batch removes the event's location
    open();
    await new Promise((r) => setTimeout(r, 5));
    // ... and then returns the tx to the mempool and finishes.
    state.pending = true;
    state.stamp = 8;
    settle();
    await expect(answer).resolves.toMatchObject({ eventId, txId: id, block: null });
    expect(state.storeReads).toBe(2);
  });

  it('a real miss is one pass when the state did not move, and a bounded number when it keeps moving', async () => {
    const quiet = racingChain();
    quiet.state.pending = false;
    quiet.open();
    await expect(new Provenance(quiet.chain).eventById(eventId)).resolves.toBeUndefined();
    expect(quiet.state.storeReads).toBe(1);
    const busy = racingChain();
    busy.state.pending = false;
    busy.state.stamp = undefined; // a connect is always running
    busy.open();
    await expect(new Provenance(busy.chain).txById(id)).resolves.toBeUndefined();
    expect(busy.state.storeReads).toBe(3);
  });
});
