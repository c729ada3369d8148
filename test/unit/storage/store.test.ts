import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ClassicLevel } from 'classic-level';
import pino from 'pino';
import { encodeBlock, type Block } from '../../../src/chain/block.js';
import { toHex } from '../../../src/common/bytes.js';
import type { ConnectBatch, EpcHistoryEntry } from '../../../src/chain/store.js';
import { encodeTermPositions, encodeU32 } from '../../../src/storage/codecs.js';
import {
  StorageArgumentError,
  StorageCorruptionError,
  StorageOpenError,
  StorageReadError,
  StorageStateError,
  StorageWriteError,
} from '../../../src/storage/errors.js';
import { LevelChainStore, SCHEMA_VERSION } from '../../../src/storage/level-store.js';
import { BUCKETS } from '../../../src/storage/repositories.js';
import {
  GENESIS_JSON,
  connectBatchFor,
  disconnectBatchFor,
  dump,
  entryOf,
  eventIdOf,
  extend,
  fakeBlock,
  fakeTx,
  tempDir,
  withGenesis,
  type FakeEvent,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: LevelChainStore | undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});

afterEach(async () => {
  if (store?.isOpen()) await store.close();
  store = undefined;
  await cleanup();
});

async function open(): Promise<LevelChainStore> {
  store = await LevelChainStore.open(dir);
  return store;
}

/** Raw access to the database behind a closed store, to plant bytes. */
async function raw(fn: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
  if (store?.isOpen()) await store.close();
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

const key = (bucket: keyof typeof BUCKETS, ...parts: Uint8Array[]): Uint8Array => {
  const n = parts.reduce((a, p) => a + p.length, 1);
  const out = new Uint8Array(n);
  out[0] = BUCKETS[bucket];
  let o = 1;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const hexBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const utf = (s: string) => new TextEncoder().encode(s);

describe('opening', () => {
  it('creates a store with the schema version and no tip', async () => {
    const s = await open();
    expect(s.isOpen()).toBe(true);
    expect(s.dir).toBe(dir);
    expect(await s.getTip()).toBeUndefined();
    expect(await s.getGenesis()).toBeUndefined();
    expect(await s.repositories.meta.getSchema()).toBe(SCHEMA_VERSION);
    expect(s.clearPending).toBe(false);
    await s.close();
    expect(s.isOpen()).toBe(false);
  });

  it('logs through the pino logger it is given: a new store opened, then the genesis it stores', async () => {
    const lines: { level: number; msg: string; dir?: string; schema?: number; hash?: string }[] = [];
    const sink = { write: (line: string): void => void lines.push(JSON.parse(line) as (typeof lines)[number]) };
    store = await LevelChainStore.open(dir, { logger: pino({ level: 'info' }, sink) });
    const genesis = await withGenesis(store);
    expect(lines.map((l) => l.msg)).toEqual(['new chain store', 'chain store open', 'genesis stored']);
    expect(lines[0]).toMatchObject({ level: 30, dir, schema: SCHEMA_VERSION });
    expect(lines[1]).toMatchObject({ level: 30, dir, schema: SCHEMA_VERSION });
    expect(lines[2]).toMatchObject({ level: 30, hash: genesis.hashHex });
  });

  it('refuses a second open of a locked store, naming the directory', async () => {
    await open();
    const err = await LevelChainStore.open(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageOpenError);
    expect((err as StorageOpenError).code).toBe('LOCKED');
    expect((err as StorageOpenError).dir).toBe(dir);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toMatch(/locked/);
    expect((err as Error).cause).toBeDefined();
  });

  it('refuses a newer schema with a clear error', async () => {
    await open();
    await raw((db) => db.put(key('meta', utf('schema')), encodeU32('v', SCHEMA_VERSION + 1)));
    await expect(LevelChainStore.open(dir)).rejects.toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this build supports \\(${SCHEMA_VERSION}\\)`));
    await expect(LevelChainStore.open(dir)).rejects.toMatchObject({ code: 'SCHEMA_UNSUPPORTED', dir });
  });

  it('refuses a database that has data but no schema version', async () => {
    await raw((db) => db.put(new Uint8Array([0x42]), new Uint8Array([1])));
    await expect(LevelChainStore.open(dir)).rejects.toMatchObject({ name: 'StorageOpenError', code: 'CORRUPTION' });
  });

  it('reopen resumes the tip, main chain, header index and indexes', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b1 = fakeBlock(1, g, [fakeTx('t1', [{ items: ['urn:a'] }])]);
    const b2 = fakeBlock(2, b1, [fakeTx('t2', [{ items: ['urn:a', 'urn:b'] }])]);
    await extend(s, b1);
    await extend(s, b2);
    const before = await dump(s);
    await s.close();
    const r = await open();
    expect(await r.getTip()).toBe(b2.hashHex);
    expect(await r.getGenesis()).toBe(GENESIS_JSON);
    expect(await dump(r)).toEqual(before);
    const entries = [];
    for await (const e of r.loadHeaderEntries()) entries.push(e);
    expect(entries.map((e) => e.hash).sort()).toEqual([g, b1, b2].map((b) => b.hashHex).sort());
    expect(entries.find((e) => e.hash === b2.hashHex)).toEqual(entryOf(b2));
    const main = [];
    for await (const m of r.iterateMainChain()) main.push(m);
    expect(main).toEqual([g, b1, b2].map((b, height) => ({ height, hash: b.hashHex })));
    // The next block connects on the reopened tip.
    await extend(r, fakeBlock(3, b2, []));
  });
});

describe('genesis and blocks', () => {
  it('putGenesis stores the document, block, header entry, main[0] and tip', async () => {
    const s = await open();
    const g = await withGenesis(s);
    expect(await s.getGenesis()).toBe(GENESIS_JSON);
    expect(await s.getTip()).toBe(g.hashHex);
    expect(await s.getMainHash(0)).toBe(g.hashHex);
    expect(await s.getBlockBytes(g.hashHex)).toEqual(encodeBlock(g));
    expect(await s.getHeaderEntry(g.hashHex)).toEqual(entryOf(g));
    // Same genesis again is a no-op; a different one is refused.
    await s.putGenesis(GENESIS_JSON, g, entryOf(g));
    const other = fakeBlock(0, undefined, [], 'other');
    await expect(s.putGenesis('{"v":1,"name":"other"}', other, entryOf(other))).rejects.toThrow(StorageStateError);
  });

  it('putBlock stores the given bytes and the entry, not connected', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b = fakeBlock(1, g, [fakeTx('x', [{ items: ['k'] }])]);
    const bytes = encodeBlock(b);
    await s.putBlock(b, bytes, entryOf(b));
    expect(await s.getBlockBytes(b.hashHex)).toEqual(bytes);
    expect(await s.hasBlock(b.hashHex)).toBe(true);
    expect(await s.getMainHash(1)).toBeUndefined();
    expect(await s.getTip()).toBe(g.hashHex);
    // Marking it invalid later.
    await s.putHeaderEntry({ ...entryOf(b), status: 'invalid', invalidCode: 'BAD_MERKLE_ROOT' });
    expect(await s.getHeaderEntry(b.hashHex)).toMatchObject({ status: 'invalid', invalidCode: 'BAD_MERKLE_ROOT' });
  });

  it('putBlock also stores the header with the tx IDs, and each tx by position, for proofs', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b = fakeBlock(1, g, [fakeTx('p', [{ items: ['k'] }]), fakeTx('q', [{ items: ['l'] }, { items: ['m'] }])]);
    await s.putBlock(b, encodeBlock(b), entryOf(b));
    const ids = await s.getBlockTxIds(b.hashHex);
    expect(ids).toBeDefined();
    expect(toHex(ids!.subarray(0, 112))).toBe(toHex(b.headerBytes));
    expect([toHex(ids!.subarray(112, 144)), toHex(ids!.subarray(144, 176))]).toEqual(b.txIds.map((t) => toHex(t)));
    expect(ids!.length).toBe(176);
    expect(await s.getBlockTx(b.hashHex, 0)).toEqual(b.txBytes[0]);
    expect(await s.getBlockTx(b.hashHex, 1)).toEqual(b.txBytes[1]);
    expect(await s.getBlockTx(b.hashHex, 2)).toBeUndefined();
    expect(await s.getBlockTxIds(g.hashHex)).toBeUndefined(); // genesis: no txs, nothing to prove
    // Many txs in one read, as their canonical JSON text.
    const texts = await s.getBlockTxTexts([
      { hash: b.hashHex, index: 1 },
      { hash: b.hashHex, index: 0 },
      { hash: b.hashHex, index: 2 },
      { hash: g.hashHex, index: 0 },
    ]);
    expect(texts).toEqual([new TextDecoder().decode(b.txBytes[1]), new TextDecoder().decode(b.txBytes[0]), undefined, undefined]);
    expect(await s.getBlockTxTexts([])).toEqual([]);
  });

  it('getBlockTxTexts reads non-ASCII text as the same string, and an empty record as damage', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b = fakeBlock(1, g, [fakeTx('Zürich 日本 \u{1F48A}', [{ items: ['k'] }])]);
    await s.putBlock(b, encodeBlock(b), entryOf(b));
    const [text] = await s.getBlockTxTexts([{ hash: b.hashHex, index: 0 }]);
    expect(Buffer.from(text as string, 'utf8')).toEqual(Buffer.from(b.txBytes[0] as Uint8Array));
    await s.repositories.blockTxs.putRaw({ hash: b.hashHex, index: 0 }, new Uint8Array(0));
    await expect(s.getBlockTxTexts([{ hash: b.hashHex, index: 0 }])).rejects.toMatchObject({ code: 'CORRUPTION' });
  });

  it('putBlock refuses bytes of another block and an entry of another hash', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b = fakeBlock(1, g, []);
    await expect(s.putBlock(b, encodeBlock(g), entryOf(b))).rejects.toThrow(StorageArgumentError);
    await expect(s.putBlock(b, encodeBlock(b), entryOf(g))).rejects.toThrow(StorageArgumentError);
  });

  it('unknown keys read as undefined; malformed keys are argument errors', async () => {
    const s = await open();
    expect(await s.getBlockBytes('00'.repeat(32))).toBeUndefined();
    expect(await s.getTxLocation('00'.repeat(32))).toBeUndefined();
    expect(await s.getEventLocation(eventIdOf('nope'))).toBeUndefined();
    expect(await s.getItem('urn:none')).toBeUndefined();
    expect(await s.isLotRecalled({ gtin: '1', lot: 'x' })).toBe(false);
    expect(await s.getUndo('00'.repeat(32))).toBeUndefined();
    await expect(s.getBlockBytes('XYZ')).rejects.toThrow(StorageArgumentError);
    await expect(s.getMainHash(-1)).rejects.toThrow(StorageArgumentError);
    await expect(s.getEventLocation('urn:uuid:1')).rejects.toThrow(StorageArgumentError);
    await expect(s.getItem('a\u0000b')).rejects.toThrow(StorageArgumentError);
  });
});

describe('connect and disconnect', () => {
  it('connect writes every index, the undo record and the tip', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const lot = { gtin: '09521234543213', lot: 'L1' };
    const tx0 = fakeTx('a', [{ items: ['urn:x', 'urn:y'] }, { items: ['urn:x'], recall: lot }]);
    const tx1 = fakeTx('b', [{ items: ['urn:z'] }]);
    const b1 = fakeBlock(1, g, [tx0, tx1]);
    const batch = await extend(s, b1);
    expect(await s.getTip()).toBe(b1.hashHex);
    expect(await s.getMainHash(1)).toBe(b1.hashHex);
    expect(await s.getTxLocation(toHex(b1.txIds[1] as Uint8Array))).toEqual({ blockHash: b1.hashHex, height: 1, index: 1 });
    expect(await s.getEventLocation(tx0.eventIds[1] as string)).toEqual({ txId: toHex(b1.txIds[0] as Uint8Array), index: 1 });
    expect(await s.getItem('urn:x')).toMatchObject({ key: 'urn:x', touches: 2 });
    expect(await s.isLotRecalled(lot)).toBe(true);
    expect(await s.getUndo(b1.hashHex)).toEqual(batch.undo);
    expect(await s.history('urn:x', { limit: 10 })).toEqual([
      { key: 'urn:x', height: 1, txIndex: 0, eventIndex: 0, eventId: tx0.eventIds[0] },
      { key: 'urn:x', height: 1, txIndex: 0, eventIndex: 1, eventId: tx0.eventIds[1] },
    ]);
    expect(await s.countBucket('txLocations')).toBe(2);
    expect(await s.countBucket('eventLocations')).toBe(3);
    expect(await s.countBucket('history')).toBe(4);
    const stats = await s.stats();
    expect(stats.counts).toMatchObject({ blocks: 2, headers: 2, main: 2, items: 3, recalledLots: 1, undo: 1 });
    expect(typeof stats.approximateBytes).toBe('number');
  });

  it('connect then disconnect restores exactly the previous contents', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const lot = { gtin: '1', lot: 'A' };
    const b1 = fakeBlock(1, g, [fakeTx('1', [{ items: ['p', 'q'], recall: lot }])]);
    await extend(s, b1);
    const before = await dump(s);
    // b2 touches an existing item twice, a new one, re-recalls a lot and recalls a new one.
    const b2 = fakeBlock(2, b1, [fakeTx('2a', [{ items: ['p'], recall: lot }, { items: ['p', 'r'] }]), fakeTx('2b', [{ items: ['q'], recall: { gtin: '1', lot: 'B' } }])]);
    const c2 = await extend(s, b2);
    expect(await dump(s)).not.toEqual(before);
    await s.disconnect(disconnectBatchFor(c2, b1));
    expect(await dump(s)).toEqual(before);
    expect(await s.getTip()).toBe(b1.hashHex);
    // The block itself and its header entry stay (it may be reconnected after a reorg back).
    expect(await s.hasBlock(b2.hashHex)).toBe(true);
    await s.connect(await connectBatchFor(s, b2));
    expect(await s.getTip()).toBe(b2.hashHex);
  });

  it('any sequence of blocks disconnects back through exactly the same states (property)', async () => {
    const keys = ['k1', 'k2', 'k3', 'k/é', '🍀'];
    const lots = [
      { gtin: '1', lot: 'A' },
      { gtin: '1', lot: 'B' },
      { gtin: '2', lot: 'A' },
    ];
    const event: fc.Arbitrary<FakeEvent> = fc.record(
      { items: fc.uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 }), recall: fc.constantFrom(...lots) },
      { requiredKeys: ['items'] },
    );
    const blockSpec = fc.array(fc.array(event, { minLength: 1, maxLength: 3 }), { maxLength: 3 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(blockSpec, { minLength: 1, maxLength: 5 }), async (spec) => {
        run++;
        const { dir: d, cleanup: clean } = await tempDir();
        const s = await LevelChainStore.open(d);
        try {
          const g = fakeBlock(0, undefined, []);
          await s.putGenesis(GENESIS_JSON, g, entryOf(g));
          const states = [await dump(s)];
          const chain: Block[] = [g];
          const batches: ConnectBatch[] = [];
          for (const [h, txs] of spec.entries()) {
            const b = fakeBlock(h + 1, chain[h], txs.map((evs, t) => fakeTx(`${run}/${h}/${t}`, evs)));
            batches.push(await extend(s, b));
            chain.push(b);
            states.push(await dump(s));
          }
          for (let h = spec.length; h >= 1; h--) {
            await s.disconnect(disconnectBatchFor(batches[h - 1] as ConnectBatch, chain[h - 1] as Block));
            expect(await dump(s)).toEqual(states[h - 1]);
          }
        } finally {
          await s.close();
          await clean();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('connect must extend the tip and follow putBlock', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b1 = fakeBlock(1, g, []);
    // Not stored yet.
    await expect(s.connect(await connectBatchFor(s, b1))).rejects.toThrow(/putBlock/);
    await extend(s, b1);
    // A sibling of b1 does not extend the tip.
    const sib = fakeBlock(1, g, [], 'sibling');
    await s.putBlock(sib, encodeBlock(sib), entryOf(sib));
    await expect(s.connect(await connectBatchFor(s, sib))).rejects.toThrow(StorageStateError);
    // A tx location pointing elsewhere is refused.
    const b2 = fakeBlock(2, b1, [fakeTx('t', [{ items: ['a'] }])]);
    await s.putBlock(b2, encodeBlock(b2), entryOf(b2));
    const bad = await connectBatchFor(s, b2);
    bad.txLocations[0] = { txId: bad.txLocations[0]?.txId as string, loc: { blockHash: g.hashHex, height: 2, index: 0 } };
    await expect(s.connect(bad)).rejects.toThrow(StorageArgumentError);
    expect(await s.getTip()).toBe(b1.hashHex);
  });

  it('disconnect must remove the tip and name its parent as the new tip', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b1 = fakeBlock(1, g, []);
    const c1 = await extend(s, b1);
    const b2 = fakeBlock(2, b1, []);
    const c2 = await extend(s, b2);
    await expect(s.disconnect(disconnectBatchFor(c1, g))).rejects.toThrow(/not the tip/);
    await expect(s.disconnect(disconnectBatchFor(c2, g))).rejects.toThrow(/newTip must be its parent/);
    await s.disconnect(disconnectBatchFor(c2, b1));
    expect(await s.getTip()).toBe(b1.hashHex);
  });

  it('the tip check follows connects and disconnects without reading the tip back', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const b1 = fakeBlock(1, g, []);
    const c1 = await extend(s, b1);
    const b2 = fakeBlock(2, b1, []);
    const c2 = await extend(s, b2);
    await s.disconnect(disconnectBatchFor(c2, b1));
    // b2 is no longer the tip: neither its child nor a second disconnect of it is accepted.
    const b3 = fakeBlock(3, b2, []);
    await s.putBlock(b3, encodeBlock(b3), entryOf(b3));
    await expect(s.connect(await connectBatchFor(s, b3))).rejects.toThrow(/is not the tip/);
    await expect(s.disconnect(disconnectBatchFor(c2, b1))).rejects.toThrow(/not the tip/);
    // b2 connects again on b1; disconnecting twice down to genesis works, a third time does not.
    await s.connect(c2);
    await s.disconnect(disconnectBatchFor(c2, b1));
    await s.disconnect(disconnectBatchFor(c1, g));
    await expect(s.disconnect(disconnectBatchFor(c1, g))).rejects.toThrow(/not the tip/);
    expect(await s.getTip()).toBe(g.hashHex);
  });

  it('after a reopen, the tip and the stored-first check come from disk', async () => {
    let s = await open();
    const g = await withGenesis(s);
    const b1 = fakeBlock(1, g, []);
    await extend(s, b1);
    const b2 = fakeBlock(2, b1, []);
    await s.putBlock(b2, encodeBlock(b2), entryOf(b2));
    const sib = fakeBlock(2, b1, [], 'sibling');
    await s.close();
    s = await open();
    // Never stored: refused even though it extends the tip.
    await expect(s.connect(await connectBatchFor(s, sib))).rejects.toThrow(/putBlock/);
    // Stored before the reopen: accepted.
    await s.connect(await connectBatchFor(s, b2));
    expect(await s.getTip()).toBe(b2.hashHex);
    const other = fakeBlock(3, b1, [], 'other');
    await s.putBlock(other, encodeBlock(other), entryOf(other));
    await expect(s.connect(await connectBatchFor(s, other))).rejects.toThrow(/is not the tip/);
  });

  it('serialises concurrent writes in call order', async () => {
    const s = await open();
    const g = await withGenesis(s);
    let prev = g;
    const blocks: Block[] = [];
    for (let h = 1; h <= 10; h++) {
      prev = fakeBlock(h, prev, [fakeTx(`c${h}`, [{ items: ['x'] }])]);
      blocks.push(prev);
    }
    for (const b of blocks) await s.putBlock(b, encodeBlock(b), entryOf(b));
    // Each batch is built against the state its predecessors leave: build sequentially on a
    // scratch store, then fire all connects at once on the real one.
    const batches: ConnectBatch[] = [];
    const { dir: d2, cleanup: c2 } = await tempDir();
    const scratch = await LevelChainStore.open(d2);
    try {
      await scratch.putGenesis(GENESIS_JSON, g, entryOf(g));
      for (const b of blocks) batches.push(await extend(scratch, b));
    } finally {
      await scratch.close();
      await c2();
    }
    await Promise.all(batches.map((b) => s.connect(b)));
    expect(await s.getTip()).toBe(blocks[9]?.hashHex);
    expect(await s.getItem('x')).toMatchObject({ touches: 10 });
  });
});

describe('EPC history', () => {
  async function seed(s: LevelChainStore): Promise<EpcHistoryEntry[]> {
    const g = await withGenesis(s);
    let prev = g;
    // 'abc' appears across heights, txs and events; 'ab' and 'abcd' share its prefix.
    for (let h = 1; h <= 4; h++) {
      const txs = [
        fakeTx(`h${h}a`, [{ items: ['abc', 'ab'] }, { items: ['abcd'] }, { items: ['abc'] }]),
        fakeTx(`h${h}b`, [{ items: ['abcd', 'abc'] }]),
      ];
      prev = fakeBlock(h, prev, txs);
      await extend(s, prev);
    }
    return s.history('abc', { limit: 1000 });
  }

  it('returns one item in chain order and nothing of prefix-sharing keys', async () => {
    const s = await open();
    const all = await seed(s);
    expect(all).toHaveLength(12);
    expect(all.every((e) => e.key === 'abc')).toBe(true);
    const order = all.map((e) => [e.height, e.txIndex, e.eventIndex]);
    expect(order.slice(0, 3)).toEqual([
      [1, 0, 0],
      [1, 0, 2],
      [1, 1, 0],
    ]);
    const sorted = [...order].sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number) || (a[2] as number) - (b[2] as number));
    expect(order).toEqual(sorted);
    expect(all[0]?.eventId).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
    expect(await s.history('ab', { limit: 100 })).toHaveLength(4);
    expect(await s.history('abcd', { limit: 100 })).toHaveLength(8);
    expect(await s.history('a', { limit: 100 })).toEqual([]);
  });

  it('pages from an exclusive cursor', async () => {
    const s = await open();
    const all = await seed(s);
    for (const limit of [1, 2, 5, 12, 13]) {
      const paged: EpcHistoryEntry[] = [];
      let after: EpcHistoryEntry | undefined;
      for (;;) {
        const page = await s.history('abc', after === undefined ? { limit } : { after, limit });
        expect(page.length).toBeLessThanOrEqual(limit);
        if (page.length === 0) break;
        paged.push(...page);
        after = page[page.length - 1];
      }
      expect(paged).toEqual(all);
    }
    expect(await s.history('abc', { limit: 0 })).toEqual([]);
  });

  it('accepts a "just before" cursor with negative positions', async () => {
    const s = await open();
    const all = await seed(s);
    const at = (height: number, txIndex: number, eventIndex: number) => ({ key: 'abc', height, txIndex, eventIndex, eventId: '' });
    expect((await s.history('abc', { after: at(1, 0, -1), limit: 1 }))[0]).toEqual(all[0]);
    expect((await s.history('abc', { after: at(1, 1, -1), limit: 1 }))[0]).toEqual(all[2]);
    expect((await s.history('abc', { after: at(2, -1, 0), limit: 1 }))[0]).toEqual(all[3]);
    expect(await s.history('abc', { after: at(-1, 0, 0), limit: 100 })).toEqual(all);
  });

  it('refuses bad arguments', async () => {
    const s = await open();
    await expect(s.history('a\u0000', { limit: 1 })).rejects.toThrow(StorageArgumentError);
    await expect(s.history('a\u0000', { limit: 0 })).rejects.toThrow(StorageArgumentError);
    await expect(s.history('a', { limit: -1 })).rejects.toThrow(StorageArgumentError);
    await expect(s.history('a', { after: { key: 'b', height: 0, txIndex: 0, eventIndex: 0, eventId: '' }, limit: 1 })).rejects.toThrow(/another item key/);
  });

  it('reports a record in an item\'s range that is not one of its entries (short key, bad event digest) as corruption', async () => {
    const s = await open();
    await seed(s);
    await raw(async (db) => {
      await db.put(key('history', utf('abc'), new Uint8Array([0]), encodeU32('h', 9), encodeU32('t', 0)), new Uint8Array(32));
      await db.put(key('history', utf('abd'), new Uint8Array([0]), encodeU32('h', 9), encodeU32('t', 0), encodeU32('e', 0)), new Uint8Array(31));
    });
    const r = await open();
    await expect(r.history('abc', { limit: 100 })).rejects.toThrow(StorageCorruptionError);
    await expect(r.history('abd', { limit: 100 })).rejects.toThrow(/history/);
    expect(await r.history('abcd', { limit: 100 })).toHaveLength(8);
  });
});

describe('query index (terms bucket)', () => {
  const term = '?bizStep=shipping';
  const row = (height: number, positions: number[]) => [key('terms', utf(term), new Uint8Array([0]), encodeU32('h', height)), encodeTermPositions(positions)] as const;

  it('termPositions gives a term\'s positions in chain order after a cursor, whole rows until at least `min`, and says when none follow', async () => {
    await open();
    const rows: [number, number[]][] = Array.from({ length: 40 }, (_, i) => [i + 1, i % 3 === 0 ? [0, 0, 0, 7, 2, 1] : [1, i]]);
    await raw(async (db) => {
      for (const [h, p] of rows) await db.put(...row(h, p));
      // Another term sharing the prefix, and an item's history row: neither is read.
      await db.put(key('terms', utf(`${term}x`), new Uint8Array([0]), encodeU32('h', 5)), encodeTermPositions([0, 0]));
    });
    const s = await open();
    const all = rows.flatMap(([height, p]) => Array.from({ length: p.length / 2 }, (_, k) => ({ height, txIndex: p[2 * k] as number, eventIndex: p[2 * k + 1] as number })));
    for (const min of [1, 3, 50, 1000]) {
      const got: typeof all = [];
      let after: (typeof all)[number] | undefined;
      for (;;) {
        const page = await s.termPositions(term, { ...(after !== undefined ? { after } : {}), min });
        got.push(...page.positions);
        if (page.done) break;
        expect(page.positions.length).toBeGreaterThanOrEqual(Math.min(min, 1));
        after = page.positions[page.positions.length - 1];
      }
      expect(got).toEqual(all);
    }
    // From inside a row: strictly after the cursor.
    expect((await s.termPositions(term, { after: { height: 1, txIndex: 0, eventIndex: 7 }, min: 1 })).positions[0]).toEqual({ height: 1, txIndex: 2, eventIndex: 1 });
    expect(await s.termPositions('?bizStep=none', { min: 5 })).toEqual({ positions: [], done: true });
    await expect(s.termPositions(term, { min: 0 })).rejects.toThrow(StorageArgumentError);
  });

  it('reports a row out of chain order or of a bad length as corruption', async () => {
    await open();
    await raw(async (db) => {
      await db.put(row(3, [0, 0])[0], encodeU32('x', 1));
    });
    const s = await open();
    await expect(s.termPositions(term, { min: 1 })).rejects.toThrow(StorageCorruptionError);
  });
});

describe('links', () => {
  const pos = (height: number, txIndex: number, eventIndex: number) => ({ height, txIndex, eventIndex });

  async function seed(s: LevelChainStore): Promise<void> {
    const g = await withGenesis(s);
    let prev = g;
    // 'abc' goes into a box at every event where it is named first, and leaves where it is not.
    for (let h = 1; h <= 4; h++) {
      prev = fakeBlock(h, prev, [fakeTx(`h${h}a`, [{ items: ['abc', 'ab'] }, { items: ['abcd', 'abc'] }, { items: ['abc'] }]), fakeTx(`h${h}b`, [{ items: ['abc'] }])]);
      await extend(s, prev);
    }
  }

  it('connect writes link records per role, read forward between bounds and backwards from a position', async () => {
    const s = await open();
    await seed(s);
    const child = await s.links('abc', 'child', { limit: 100 });
    expect(child).toHaveLength(16);
    expect(child.slice(0, 4)).toEqual([
      { ...pos(1, 0, 0), kind: 'in', other: 'box/1' },
      { ...pos(1, 0, 1), kind: 'left' },
      { ...pos(1, 0, 2), kind: 'in', other: 'box/1' },
      { ...pos(1, 1, 0), kind: 'in', other: 'box/1' },
    ]);
    // Prefix-sharing keys and other roles are other ranges.
    expect(await s.links('ab', 'child', { limit: 100 })).toHaveLength(4);
    expect(await s.links('abc', 'parent', { limit: 100 })).toEqual([]);
    expect(await s.links('a', 'child', { limit: 100 })).toEqual([]);
    // Bounds: strictly after, up to inclusive, "just before" cursors, limits.
    expect(await s.links('abc', 'child', { after: pos(2, 0, 2), upTo: pos(3, 0, 1), limit: 100 })).toEqual(child.filter((r) => (r.height === 2 && r.txIndex === 1) || (r.height === 3 && r.txIndex === 0 && r.eventIndex <= 1)));
    expect(await s.links('abc', 'child', { after: pos(2, 0, -1), limit: 1 })).toEqual([child[4]]);
    expect(await s.links('abc', 'child', { after: pos(2, 0, 0), limit: 2 })).toEqual([child[5], child[6]]);
    expect(await s.links('abc', 'child', { limit: 0 })).toEqual([]);
    expect(await s.linksBefore('abc', 'child', pos(2, 0, 1), 3)).toEqual([child[5], child[4], child[3]]);
    expect(await s.linksBefore('abc', 'child', pos(1, 0, 0), 3)).toEqual([child[0]]);
    expect(await s.linksBefore('abc', 'child', pos(9, 9, 9), 1)).toEqual([child[15]]);
    expect(await s.countLinks()).toBe(16 + 4 + 4);
  });

  it('refuses bad arguments and reports corrupt records', async () => {
    const s = await open();
    await seed(s);
    await expect(s.links('a\u0000', 'child', { limit: 1 })).rejects.toThrow(StorageArgumentError);
    await expect(s.links('a', 'child', { limit: -1 })).rejects.toThrow(StorageArgumentError);
    await expect(s.links('a', 'child', { upTo: pos(-1, 0, 0), limit: 1 })).rejects.toThrow(StorageArgumentError);
    await expect(s.linksBefore('a', 'child', pos(1, 0, -1), 1)).rejects.toThrow(StorageArgumentError);
    await expect(s.links('a', 'nope' as 'child', { limit: 1 })).rejects.toThrow(StorageArgumentError);
    await raw(async (db) => {
      // A child-role record holding a parent-role kind, and one without its container key.
      await db.put(key('links', utf('abc'), new Uint8Array([0, 0]), encodeU32('h', 9), encodeU32('t', 0), encodeU32('e', 0)), new Uint8Array([4]));
      await db.put(key('links', utf('abd'), new Uint8Array([0, 0]), encodeU32('h', 9), encodeU32('t', 0), encodeU32('e', 0)), new Uint8Array([1]));
    });
    const r = await open();
    await expect(r.links('abc', 'child', { limit: 100 })).rejects.toThrow(StorageCorruptionError);
    await expect(r.links('abd', 'child', { limit: 100 })).rejects.toThrow(/links/);
  });

  it('a store of the previous schema opens with its links not ready; rebuildLinks replaces them and marks it', async () => {
    const s = await open();
    await seed(s);
    expect(s.linksReady()).toBe(true);
    const full = await dump(s);
    // As the previous release left it: schema 1, no link records (and here one stray record).
    await raw(async (db) => {
      for await (const k of db.keys({ gte: Uint8Array.of(BUCKETS.links), lt: Uint8Array.of(BUCKETS.links + 1) })) await db.del(k);
      await db.put(key('links', utf('stray'), new Uint8Array([0, 0]), encodeU32('h', 1), encodeU32('t', 0), encodeU32('e', 0)), new Uint8Array([3]));
      await db.put(key('meta', utf('schema')), encodeU32('v', 1));
    });
    const old = await open();
    expect(old.linksReady()).toBe(false);
    expect(await old.repositories.meta.getSchema()).toBe(1);
    // Rebuild from what connect wrote (the test's stand-in for the chain's records of each block).
    const fresh = await tempDir();
    try {
      const ref = await LevelChainStore.open(fresh.dir);
      const g = await withGenesis(ref);
      let prev = g;
      const perBlock: ConnectBatch['links'][] = [];
      for (let h = 1; h <= 4; h++) {
        prev = fakeBlock(h, prev, [fakeTx(`h${h}a`, [{ items: ['abc', 'ab'] }, { items: ['abcd', 'abc'] }, { items: ['abc'] }]), fakeTx(`h${h}b`, [{ items: ['abc'] }])]);
        perBlock.push((await extend(ref, prev)).links);
      }
      await ref.close();
      async function* source() {
        for (const l of perBlock) yield l;
      }
      expect(await old.rebuildLinks(source())).toBe(24);
    } finally {
      await fresh.cleanup();
    }
    expect(old.linksReady()).toBe(true);
    expect(await old.repositories.meta.getSchema()).toBe(SCHEMA_VERSION);
    expect(await dump(old)).toEqual(full);
    await old.close();
    expect((await open()).linksReady()).toBe(true);
  });

  it('clearIndexes clears them and leaves the store marked current (a reindex rebuilds them)', async () => {
    const s = await open();
    await seed(s);
    await raw((db) => db.put(key('meta', utf('schema')), encodeU32('v', 1)));
    const r = await open();
    expect(r.linksReady()).toBe(false);
    const res = await r.clearIndexes();
    expect(res.deleted.links).toBe(24);
    expect(r.linksReady()).toBe(true);
    expect(await r.repositories.meta.getSchema()).toBe(SCHEMA_VERSION);
  });
});

describe('corruption', () => {
  async function seeded(): Promise<{ b1: Block; batch: ConnectBatch }> {
    const s = await open();
    const g = await withGenesis(s);
    const b1 = fakeBlock(1, g, [fakeTx('t', [{ items: ['urn:item'], recall: { gtin: '1', lot: 'A' } }])]);
    const batch = await extend(s, b1);
    await s.close();
    return { b1, batch };
  }

  async function expectCorrupt(p: Promise<unknown>, bucket: string, keyHex?: string): Promise<void> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect((err as StorageCorruptionError).bucket).toBe(bucket);
    if (keyHex !== undefined) expect((err as StorageCorruptionError).key).toBe(keyHex);
    expect((err as Error).message).toContain(bucket);
  }

  it('every bucket reports a bad value as StorageCorruptionError with bucket and key', async () => {
    const { b1, batch } = await seeded();
    const txId = batch.txLocations[0]?.txId as string;
    const eventId = batch.events[0]?.eventId as string;
    const digest = eventId.slice('ni:///sha-256;'.length, -'?ver=CBV2.0'.length);
    await raw(async (db) => {
      await db.put(key('headers', hexBytes(b1.hashHex)), new Uint8Array(10));
      await db.put(key('main', encodeU32('h', 1)), new Uint8Array(31));
      await db.put(key('txLocations', hexBytes(txId)), new Uint8Array(39));
      await db.put(key('eventLocations', hexBytes(digest)), new Uint8Array(37));
      await db.put(key('items', utf('urn:item')), utf('{"key":"urn:other"}'));
      await db.put(key('recalledLots', utf('1'), new Uint8Array([0]), utf('A')), new Uint8Array([1]));
      await db.put(key('undo', hexBytes(b1.hashHex)), utf('not json'));
      await db.put(key('meta', utf('genesis')), new Uint8Array([0xc3]));
    });
    const s = await open();
    await expectCorrupt(s.getHeaderEntry(b1.hashHex), 'headers', b1.hashHex);
    await expectCorrupt(s.getMainHash(1), 'main', '00000001');
    await expectCorrupt(s.getTxLocation(txId), 'txLocations', txId);
    await expectCorrupt(s.getEventLocation(eventId), 'eventLocations', digest);
    await expectCorrupt(s.getItem('urn:item'), 'items', toHex(utf('urn:item')));
    // A recalled lot is its key's presence (kept in memory from open); the empty marker value is not read.
    expect(await s.isLotRecalled({ gtin: '1', lot: 'A' })).toBe(true);
    await expectCorrupt(s.getUndo(b1.hashHex), 'undo', b1.hashHex);
    await expectCorrupt(s.getGenesis(), 'meta', toHex(utf('genesis')));
    // Streams fail too, rather than skip or yield garbage.
    await expectCorrupt(
      (async () => {
        for await (const _ of s.loadHeaderEntries());
      })(),
      'headers',
    );
    await expectCorrupt(
      (async () => {
        for await (const _ of s.iterateMainChain());
      })(),
      'main',
    );
  });

  it('a corrupt tip still opens (so audit can report it) and fails reads of it', async () => {
    await seeded();
    await raw((db) => db.put(key('meta', utf('tip')), new Uint8Array(5)));
    const s = await open();
    await expectCorrupt(s.getTip(), 'meta', toHex(utf('tip')));
  });

  it('a corrupt clear marker counts as an interrupted clear', async () => {
    await seeded();
    await raw((db) => db.put(key('meta', utf('clearing')), new Uint8Array([7, 7])));
    expect((await open()).clearPending).toBe(true);
  });

  it('putRaw plants bytes that decoding then rejects', async () => {
    const { b1 } = await seeded();
    const s = await open();
    await s.repositories.headers.putRaw(b1.hashHex, new Uint8Array(3));
    await expectCorrupt(s.getHeaderEntry(b1.hashHex), 'headers', b1.hashHex);
    const flipped = ((await s.getBlockBytes(b1.hashHex)) as Uint8Array).slice();
    flipped[50] = (flipped[50] as number) ^ 0xff;
    await s.repositories.blocks.putRaw(b1.hashHex, flipped);
    expect(await s.getBlockBytes(b1.hashHex)).toEqual(flipped);
  });

  it('block bytes are returned as stored; an empty block value is corruption', async () => {
    const { b1 } = await seeded();
    await raw((db) => db.put(key('blocks', hexBytes(b1.hashHex)), new Uint8Array(0)));
    await expectCorrupt((await open()).getBlockBytes(b1.hashHex), 'blocks', b1.hashHex);
  });

  it('corrupt history keys and values are reported', async () => {
    await seeded();
    await raw(async (db) => {
      // A value that is not a 32-byte digest.
      const k = key('history', utf('urn:item'), new Uint8Array([0]), encodeU32('h', 9), encodeU32('t', 0), encodeU32('e', 0));
      await db.put(k, new Uint8Array(3));
    });
    const s = await open();
    await expectCorrupt(s.history('urn:item', { limit: 10 }), 'history');
    await raw(async (db) => {
      // A key without its separator at the right place, inside the item's range.
      await db.put(key('history', utf('urn:item'), new Uint8Array([0, 1, 2])), new Uint8Array(32));
    });
    const r = await open();
    await expectCorrupt(r.history('urn:item', { limit: 10 }), 'history');
  });
});

describe('failures surface as typed errors', () => {
  it('writes and reads on a closed store', async () => {
    const s = await open();
    const g = await withGenesis(s);
    await s.close();
    const b1 = fakeBlock(1, g, []);
    const err = await s.putBlock(b1, encodeBlock(b1), entryOf(b1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageWriteError);
    expect((err as StorageWriteError).operation).toBe('putBlock');
    expect((err as Error).cause).toBeDefined();
    await expect(s.getTip()).rejects.toThrow(StorageReadError);
  });
});

describe('clearIndexes', () => {
  it('returns the store to its just-after-genesis state, keeping blocks and headers, and reindexes identically', async () => {
    const s = await open();
    const g = await withGenesis(s);
    const genesisState = await dump(s);
    const blocks: Block[] = [];
    let prev = g;
    for (let h = 1; h <= 5; h++) {
      prev = fakeBlock(h, prev, [fakeTx(`r${h}`, [{ items: ['a', `b${h}`], ...(h === 3 ? { recall: { gtin: '9', lot: 'Z' } } : {}) }])]);
      await extend(s, prev);
      blocks.push(prev);
    }
    const full = await dump(s);
    const blockCount = await s.countBucket('blocks');
    const result = await s.clearIndexes();
    expect(result.tip).toBe(g.hashHex);
    expect(result.deleted).toMatchObject({ main: 5, txLocations: 5, eventLocations: 5, history: 10, undo: 5, recalledLots: 1 });
    expect(await dump(s)).toEqual(genesisState);
    expect(await s.countBucket('blocks')).toBe(blockCount);
    expect(await s.countBucket('headers')).toBe(blockCount);
    expect(await s.getGenesis()).toBe(GENESIS_JSON);
    // Reindex: reconnect the stored blocks.
    for (const b of blocks) await s.connect(await connectBatchFor(s, b));
    expect(await dump(s)).toEqual(full);
  });

  it('deletes in bounded batches and flags an interrupted clear on the next open', async () => {
    const s = await open();
    const g = await withGenesis(s);
    await extend(s, fakeBlock(1, g, [fakeTx('big', Array.from({ length: 1500 }, (_, i) => ({ items: [`i${i}`] })))]));
    const res = await s.clearIndexes();
    expect(res.deleted.history).toBe(1500);
    expect(await s.countBucket('items')).toBe(0);
    // Simulate a crash mid-clear: the marker is still there.
    await raw((db) => db.put(key('meta', utf('clearing')), new Uint8Array([1])));
    const r = await open();
    expect(r.clearPending).toBe(true);
    await r.clearIndexes();
    await r.close();
    expect((await open()).clearPending).toBe(false);
  });
});
