/**
 * Audit over the compact store (storage/compact.ts): blocks written by this build are compact
 * records whose txs are compressed blockTxs values; a store written by the build before (a
 * schema-2 fixture) and a store holding both forms audit clean; a flipped byte in a stored tx is
 * named by block height, bucket and key. The batched index checks still name each kind of
 * damaged index entry.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditChain } from '../../../src/chain/audit.js';
import { encodeBlock, type Block } from '../../../src/chain/block.js';
import { checkGenesis } from '../../../src/chain/genesis.js';
import { utf8 } from '../../../src/common/bytes.js';
import { TxError } from '../../../src/common/errors.js';
import type { TxVerifier } from '../../../src/chain/tx-verifier.js';
import type { TxRules } from '../../../src/chain/tx-rules-port.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { LevelChainStore, SCHEMA_VERSION } from '../../../src/storage/index.js';
import { COMPACT_BLOCK_SIZE, compressSync, isCompressed } from '../../../src/storage/compact.js';
import { encodeUndo } from '../../../src/storage/codecs.js';
import { buildBlock, makeFixture, makeTx, testRules, type Fixture } from '../../helpers/chain-fixture.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/store-schema2');

let fx: Fixture;
let blocks: Block[];

beforeEach(async () => {
  fx = await makeFixture();
  blocks = [];
  let n = 0;
  for (let b = 0; b < 4; b++) {
    const txs = Array.from({ length: 3 }, () => makeTx(fx, Array.from({ length: 4 }, (_, e) => ({ epc: `urn:test:${n++ % 7}`, action: e === 1 && b === 2 ? 'pack' : 'observe', into: 'urn:test:case', n }))));
    const block = buildBlock(fx, { txs });
    await fx.chain.importBlock(block);
    blocks.push(block);
  }
});

afterEach(async () => {
  await fx.close();
});

describe('audit of the compact store', () => {
  it('blocks are stored as compact records with compressed txs, read back as their exact wire bytes, and audit clean', async () => {
    const b = blocks[1] as Block;
    const raw = fx.store.repositories;
    const record = await raw.blocks.get(b.hashHex);
    expect(record?.length).toBe(COMPACT_BLOCK_SIZE);
    for await (const [, value] of raw.blockTxs.rawEntries()) expect(isCompressed(value)).toBe(true);
    expect(Buffer.from((await fx.store.getBlockBytes(b.hashHex)) as Uint8Array).equals(Buffer.from(encodeBlock(b)))).toBe(true);
    const report = await auditChain(fx.store, fx.genesis, testRules);
    expect(report.problem).toBeNull();
    expect(report).toMatchObject({ ok: true, blocksChecked: 4, txsChecked: 12, eventsChecked: 48 });
  });

  it('a flipped byte in a stored tx is named: height, block, bucket and key', async () => {
    const b = blocks[2] as Block;
    const key = { hash: b.hashHex, index: 1 };
    await flipMiddleByte(fx, key);
    const report = await auditChain(fx.store, fx.genesis, testRules);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ height: 3, hash: b.hashHex });
    // The key as stored: block hash ‖ tx index (u32 BE).
    expect(report.problem?.reason).toContain(`blockTxs entry ${b.hashHex}00000001`);
    expect(report.problem?.reason).toMatch(/checksum/);
  });

  it('a flipped byte in a tx of the tip block is named at the tip height (read from the tip header alone)', async () => {
    const tip = blocks[3] as Block;
    const key = { hash: tip.hashHex, index: 0 };
    await flipMiddleByte(fx, key);
    const report = await auditChain(fx.store, fx.genesis, testRules);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ height: 4, hash: tip.hashHex });
    expect(report.problem?.reason).toContain(`blockTxs entry ${tip.hashHex}00000000`);
    expect(report.blocksChecked).toBe(3);
  });

  it('a stored tx replaced by another well-formed one is named as the tx that no longer hashes to its ID', async () => {
    const b = blocks[0] as Block;
    const other = utf8.encode(new TextDecoder().decode(b.txBytes[0]).replace('"observe"', '"dispense"'));
    await fx.store.repositories.blockTxs.putRaw({ hash: b.hashHex, index: 0 }, compressSync(other));
    const report = await auditChain(fx.store, fx.genesis, testRules);
    expect(report.problem).toMatchObject({ height: 1, hash: b.hashHex });
    expect(report.problem?.reason).toContain(`stored tx 0 (blockTxs ${b.hashHex}:0) no longer hashes`);
  });

  it('a store holding blocks, txs and undo records in both forms reads and audits clean', async () => {
    // Blocks 1 and 3 as the build before wrote them: whole block, plain JSON txs and undo.
    const undoBefore = await fx.store.getUndo((blocks[2] as Block).hashHex);
    for (const b of [blocks[0], blocks[2]] as Block[]) {
      const undo = await fx.store.getUndo(b.hashHex);
      await fx.store.repositories.blocks.putRaw(b.hashHex, encodeBlock(b));
      for (const [index, tx] of b.txBytes.entries()) await fx.store.repositories.blockTxs.putRaw({ hash: b.hashHex, index }, tx);
      await fx.store.repositories.undo.putRaw(b.hashHex, encodeUndo(undo as NonNullable<typeof undo>));
    }
    const undoForms = new Map<string, boolean>();
    for await (const [k, v] of fx.store.repositories.undo.rawEntries()) undoForms.set(Buffer.from(k).toString('hex'), isCompressed(v));
    expect(blocks.map((b) => undoForms.get(b.hashHex))).toEqual([false, true, false, true]);
    for (const b of blocks) expect(Buffer.from((await fx.store.getBlockBytes(b.hashHex)) as Uint8Array).equals(Buffer.from(encodeBlock(b)))).toBe(true);
    expect(await fx.store.getUndo((blocks[2] as Block).hashHex)).toEqual(undoBefore);
    expect((await auditChain(fx.store, fx.genesis, testRules)).problem).toBeNull();
    // A reorg from block 2 disconnects blocks 4 (compact undo) and 3 (plain undo).
    let parent = await entryOf(fx, blocks[1] as Block);
    for (let k = 0; k < 3; k++) {
      const side = buildBlock(fx, { parent, dt: fx.genesis.params.blockIntervalMs + 1 });
      await fx.chain.importBlock(side);
      parent = await entryOf(fx, side);
    }
    expect(fx.chain.tip.hash).toBe(parent.hash);
    const report = await auditChain(fx.store, fx.genesis, testRules);
    expect(report.problem).toBeNull();
    expect(report).toMatchObject({ ok: true, blocksChecked: 5, txsChecked: 6 });
  });

  it('a damaged index entry is still named (batched checks): an EPC history entry missing', async () => {
    const b = blocks[3] as Block;
    const tx = b.txs[2];
    const epc = tx?.events[3]?.epc as string;
    await fx.store.repositories.history.putRaw({ key: epc, height: 4, txIndex: 2, eventIndex: 3 }, new Uint8Array(32));
    const report = await auditChain(fx.store, fx.genesis, testRules);
    expect(report.problem).toMatchObject({ height: 4, hash: b.hashHex });
    expect(report.problem?.reason).toContain(`EPC history missing for ${epc}`);
  });
});

describe('audit with a tx verifier (the worker pool stands behind this interface)', () => {
  /** A verifier that records each block's txs and answers `verdict` for them. */
  function stubVerifier(verdict: (txIds: readonly Uint8Array[]) => (TxError | null)[]): TxVerifier & { calls: number } {
    const v = {
      calls: 0,
      verify: async (_txs: readonly SignedTx[], txIds?: readonly Uint8Array[]) => {
        v.calls++;
        return verdict(txIds ?? []);
      },
      setRegistry: () => undefined,
      close: async () => undefined,
    };
    return v;
  }

  it('every block\'s txs go to the verifier, whose verdicts pass a clean chain', async () => {
    const verifier = stubVerifier((ids) => ids.map(() => null));
    const report = await auditChain(fx.store, fx.genesis, testRules, undefined, { verifier });
    expect(report.problem).toBeNull();
    expect(report).toMatchObject({ ok: true, blocksChecked: 4, txsChecked: 12, eventsChecked: 48 });
    expect(verifier.calls).toBe(4);
  });

  it('a tx the verifier rejects fails its block, named with the verifier\'s reason', async () => {
    const bad = (blocks[2] as Block).txIds[1] as Uint8Array;
    const verifier = stubVerifier((ids) => ids.map((id) => (Buffer.from(id).equals(Buffer.from(bad)) ? new TxError('BAD_SIGNATURE', 'signature does not verify for submitter test') : null)));
    const report = await auditChain(fx.store, fx.genesis, testRules, undefined, { verifier });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ height: 3, hash: (blocks[2] as Block).hashHex, reason: 'BAD_SIGNATURE: signature does not verify for submitter test' });
  });

  it('when the replay trips on a tx the verifier rejects, the verifier\'s reason names the block (not a store read error)', async () => {
    const b = blocks[1] as Block;
    const bad = b.txIds[0] as Uint8Array;
    const tripOn = (b.txs[0] as SignedTx).eventIds[0];
    const rules: TxRules = {
      ...testRules,
      applyEvent: async (reader, args) => {
        if (args.eventId === tripOn) throw new Error('replay tripped on a bad event');
        return testRules.applyEvent(reader, args);
      },
    };
    const verifier = stubVerifier((ids) => ids.map((id) => (Buffer.from(id).equals(Buffer.from(bad)) ? new TxError('BAD_SIGNATURE', 'signature does not verify for submitter test') : null)));
    const report = await auditChain(fx.store, fx.genesis, rules, undefined, { verifier });
    expect(report.problem).toMatchObject({ height: 2, hash: b.hashHex, reason: 'BAD_SIGNATURE: signature does not verify for submitter test' });
  });
});

describe('a store written by the build before the compact store (schema 2)', () => {
  it('opens (marked schema 3, blocks left in their form), reads and audits clean', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracechain-schema2-'));
    try {
      await cp(join(FIXTURE, 'chain'), join(dir, 'chain'), { recursive: true });
      const genesis = checkGenesis(JSON.parse(await readFile(join(FIXTURE, 'genesis.json'), 'utf8')));
      const store = await LevelChainStore.open(join(dir, 'chain'));
      try {
        expect(await store.repositories.meta.getSchema()).toBe(SCHEMA_VERSION);
        expect(store.linksReady()).toBe(true);
        const tip = (await store.getTip()) as string;
        const plain = (await store.repositories.blocks.get(tip)) as Uint8Array;
        expect(plain.length).toBeGreaterThan(COMPACT_BLOCK_SIZE);
        expect(await store.getBlockBytes(tip)).toEqual(plain);
        const report = await auditChain(store, genesis, testRules);
        expect(report.problem).toBeNull();
        expect(report).toMatchObject({ ok: true, blocksChecked: 6, txsChecked: 18, eventsChecked: 108, linksChecked: true });
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Flip one bit in the middle of a stored tx record (its compressed body). */
async function flipMiddleByte(f: Fixture, key: { hash: string; index: number }): Promise<void> {
  const stored = await rawValue(f, key);
  const at = Math.floor(stored.length / 2);
  stored[at] = (stored[at] as number) ^ 0x10;
  await f.store.repositories.blockTxs.putRaw(key, stored);
}

async function rawValue(f: Fixture, key: { hash: string; index: number }): Promise<Uint8Array> {
  for await (const [k, v] of f.store.repositories.blockTxs.rawEntries()) {
    if (Buffer.from(k.subarray(0, 32)).toString('hex') === key.hash && new DataView(k.buffer, k.byteOffset + 32, 4).getUint32(0) === key.index) return v.slice();
  }
  throw new Error('no such stored tx');
}

async function entryOf(f: Fixture, b: Block) {
  const e = await f.store.getHeaderEntry(b.hashHex);
  if (!e) throw new Error('no header entry');
  return e;
}
