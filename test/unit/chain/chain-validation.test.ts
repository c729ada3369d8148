import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/common/errors.js';
import { makeBlock, decodeBlock, encodeBlock } from '../../../src/chain/block.js';
import { randomBytes } from 'node:crypto';
import { toHex } from '../../../src/common/bytes.js';
import { buildBlock, extend, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';

async function expectCode(p: Promise<unknown>, code: string): Promise<BlockError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BlockError);
    expect((err as BlockError).code).toBe(code);
    return err as BlockError;
  }
  throw new Error(`expected BlockError ${code}, but the import succeeded`);
}

describe('Chain.importBlock: one test per validation error code', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
    await extend(fx, 2);
  });
  afterEach(async () => fx.close());

  it('accepts a valid block and moves the tip', async () => {
    const b = buildBlock(fx, { txs: [makeTx(fx, [{ epc: 'urn:x:1', action: 'commission' }])] });
    const out = await fx.chain.importBlock(b);
    expect(out.status).toBe('connected');
    expect(fx.chain.tip.hash).toBe(b.hashHex);
    expect(fx.chain.tip.height).toBe(3);
  });

  it('BAD_POW: hash above the target', async () => {
    await expectCode(fx.chain.importBlock(buildBlock(fx, { badPow: true })), 'BAD_POW');
  });

  it('BAD_BITS: bits differ from the retarget rule', async () => {
    await expectCode(fx.chain.importBlock(buildBlock(fx, { bits: 0x2000ffff })), 'BAD_BITS');
  });

  it('BAD_MERKLE_ROOT: root does not match the txs', async () => {
    const tx = makeTx(fx, [{ epc: 'urn:x:2', action: 'commission' }]);
    const b = buildBlock(fx, { txs: [tx], mutateHeader: (h) => (h.merkleRoot = new Uint8Array(32).fill(7)) });
    await expectCode(fx.chain.importBlock(b), 'BAD_MERKLE_ROOT');
  });

  it('BAD_SEALER_SIGNATURE: signature by another key', async () => {
    const good = buildBlock(fx);
    const forged = makeBlock(good.header, new Uint8Array(randomBytes(64)), good.txs);
    await expectCode(fx.chain.importBlock(forged), 'BAD_SEALER_SIGNATURE');
  });

  it('NOT_A_SEALER: sealer is not a member', async () => {
    await expectCode(fx.chain.importBlock(buildBlock(fx, { key: fx.outsider })), 'NOT_A_SEALER');
  });

  it('NOT_A_SEALER: member without the seal right', async () => {
    await expectCode(fx.chain.importBlock(buildBlock(fx, { key: fx.nonSealer })), 'NOT_A_SEALER');
  });

  it('TIME_TOO_OLD: time not after the median time past', async () => {
    const mtp = fx.chain.medianTimePast(fx.chain.tip);
    await expectCode(fx.chain.importBlock(buildBlock(fx, { time: mtp })), 'TIME_TOO_OLD');
  });

  it('TIME_TOO_NEW: too far ahead of the local clock, held back and imported when due', async () => {
    const ahead = fx.clock.now + fx.genesis.params.futureWindowMs + 5_000;
    const b = buildBlock(fx, { time: ahead });
    const err = await expectCode(fx.chain.importBlock(b), 'TIME_TOO_NEW');
    expect(err.details).toBeTruthy();
    expect(fx.chain.futureCount).toBe(1);
    expect(await fx.chain.retryFutureBlocks()).toBe(0);
    fx.clock.now += 10_000;
    expect(await fx.chain.retryFutureBlocks()).toBe(1);
    expect(fx.chain.tip.hash).toBe(b.hashHex);
  });

  it('BAD_HEIGHT: height does not follow the parent', async () => {
    await expectCode(fx.chain.importBlock(buildBlock(fx, { height: fx.chain.tip.height + 2 })), 'BAD_HEIGHT');
  });

  it('UNKNOWN_PARENT: parent not in the index', async () => {
    const parent = { ...fx.chain.tip, hash: toHex(randomBytes(32)) };
    await expectCode(fx.chain.importBlock(buildBlock(fx, { parent })), 'UNKNOWN_PARENT');
  });

  it('OVERSIZE: block larger than the limit', async () => {
    const pad = 'x'.repeat(12_000);
    const txs = Array.from({ length: 6 }, (_, i) => makeTx(fx, [{ epc: `urn:x:big${i}`, action: 'commission', pad }]));
    await expectCode(fx.chain.importBlock(buildBlock(fx, { txs })), 'OVERSIZE');
  });

  it('DUPLICATE_TX: the same tx twice in a block', async () => {
    const tx = makeTx(fx, [{ epc: 'urn:x:3', action: 'commission' }]);
    await expectCode(fx.chain.importBlock(buildBlock(fx, { txs: [tx, tx] })), 'DUPLICATE_TX');
  });

  it('BAD_TX: a tx with a bad signature', async () => {
    const tx = makeTx(fx, [{ epc: 'urn:x:4', action: 'commission' }]);
    const bad = { ...tx, sig: tx.sig.slice(0, -2) + (tx.sig.endsWith('00') ? '01' : '00') };
    const err = await expectCode(fx.chain.importBlock(buildBlock(fx, { txs: [bad] })), 'BAD_TX');
    expect(err.details.txCode).toBe('BAD_SIGNATURE');
  });

  it('ALREADY_KNOWN and INVALID_ANCESTOR', async () => {
    const b = buildBlock(fx);
    await fx.chain.importBlock(b);
    await expectCode(fx.chain.importBlock(b), 'ALREADY_KNOWN');
    const tx = makeTx(fx, [{ epc: 'urn:x:5', action: 'commission' }]);
    const badTx = { ...tx, sig: '00'.repeat(64) };
    const invalid = buildBlock(fx, { txs: [badTx] });
    await expectCode(fx.chain.importBlock(invalid), 'BAD_TX');
    const child = buildBlock(fx, { parent: { ...fx.chain.tip, hash: invalid.hashHex, height: invalid.header.height, time: invalid.header.time } });
    await expectCode(fx.chain.importBlock(child), 'INVALID_ANCESTOR');
  });

  it('serves the genesis block (its merkle root commits to the consortium, not to txs)', async () => {
    expect((await fx.chain.getMainBlock(0))?.hashHex).toBe(fx.chain.chainId);
    expect((await fx.chain.getBlock(fx.chain.chainId))?.header.height).toBe(0);
  });

  it('nothing is written for a rejected block', async () => {
    const before = fx.chain.tip;
    await expectCode(fx.chain.importBlock(buildBlock(fx, { badPow: true })), 'BAD_POW');
    await fx.reopen();
    expect(fx.chain.tip.hash).toBe(before.hash);
  });
});

describe('decodeBlock on malformed bytes', () => {
  const limits = { maxBlockBytes: 1 << 20, maxTxBytes: 1 << 16, maxEventsPerTx: 100 };

  it('throws BlockError for truncations and garbage, never anything else', async () => {
    const fx = await makeFixture();
    try {
      const b = buildBlock(fx, { txs: [makeTx(fx, [{ epc: 'urn:x:9', action: 'commission' }])] });
      const bytes = encodeBlock(b);
      expect(decodeBlock(bytes, limits).hashHex).toBe(b.hashHex);
      for (let cut = 0; cut < bytes.length; cut += 7) {
        expect(() => decodeBlock(bytes.slice(0, cut), limits)).toThrow(BlockError);
      }
      for (let i = 0; i < 300; i++) {
        const junk = new Uint8Array(randomBytes(1 + (i * 37) % 600));
        try {
          decodeBlock(junk, limits);
        } catch (err) {
          expect(err).toBeInstanceOf(BlockError);
        }
      }
      // A byte flipped inside the tx region: rejected (not canonical, bad JSON, or a different tx).
      const flipped = bytes.slice();
      flipped[bytes.length - 10] = (flipped[bytes.length - 10] as number) ^ 0x01;
      let decoded;
      try {
        decoded = decodeBlock(flipped, limits);
      } catch (err) {
        expect(err).toBeInstanceOf(BlockError);
      }
      if (decoded) expect(toHex(decoded.txIds[0] as Uint8Array)).not.toBe(toHex(b.txIds[0] as Uint8Array));
      // trailing bytes
      expect(() => decodeBlock(new Uint8Array([...bytes, 0]), limits)).toThrow(/trailing/);
    } finally {
      await fx.close();
    }
  });
});
