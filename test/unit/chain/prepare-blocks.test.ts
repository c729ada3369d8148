/**
 * Chain.prepareBlocks: blocks decoded and their sealer signatures checked ahead of import on the
 * verifier's worker threads (the sync path). A signature that fails there is still rejected on
 * import with BAD_SEALER_SIGNATURE; a check is reused only for the same hash and signature bytes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Chain } from '../../../src/chain/chain.js';
import { encodeBlock, makeBlock, type Block } from '../../../src/chain/block.js';
import { BlockError } from '../../../src/common/errors.js';
import { Mempool } from '../../../src/chain/mempool.js';
import { WorkerPoolTxVerifier } from '../../../src/chain/verifier-pool.js';
import type { SealItem } from '../../../src/chain/verifier-protocol.js';
import { LevelChainStore } from '../../../src/storage/level-store.js';
import { buildBlock, extend, makeFixture, testRules, type Fixture } from '../../helpers/chain-fixture.js';

/** The worker pool, counting what it was asked to check. */
class CountingPool extends WorkerPoolTxVerifier {
  sealsAsked = 0;
  override async verifySeals(seals: readonly SealItem[]): Promise<boolean[]> {
    this.sealsAsked += seals.length;
    return super.verifySeals(seals);
  }
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BlockError);
  expect((err as BlockError).code).toBe(code);
}

describe('Chain.prepareBlocks (sealer signatures checked ahead of import)', () => {
  let fx: Fixture;
  let pool: CountingPool;
  let store: LevelChainStore;
  let target: Chain;
  let dir: string;

  beforeEach(async () => {
    fx = await makeFixture();
    dir = await mkdtemp(join(tmpdir(), 'tracechain-prepare-'));
    store = await LevelChainStore.open(join(dir, 'chain'));
    pool = new CountingPool({ workers: 1 }, { genesis: fx.genesis });
    target = await Chain.open(
      { genesis: fx.genesis },
      { store, rules: testRules, verifier: pool, mempool: new Mempool({ maxTxs: 100, maxBytes: 1 << 20 }), clock: () => fx.clock.now, logger: pino({ level: 'silent' }) },
    );
  });
  afterEach(async () => {
    await target.close();
    await pool.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
    await fx.close();
  });

  const forge = (b: Block): Block => makeBlock(b.header, new Uint8Array(randomBytes(64)), b.txs);

  it('prepared blocks import with every rule; the pool checked their signatures', async () => {
    const blocks = await extend(fx, 5);
    const prepared = await target.prepareBlocks(blocks.map((b) => encodeBlock(b)));
    expect(pool.sealsAsked).toBe(5);
    for (const p of prepared) {
      expect(p).toBeDefined();
      await target.importBlock(p!.block, p!.bytes);
    }
    expect(target.tip.hash).toBe(fx.chain.tip.hash);
  });

  it('a bad sealer signature is still BAD_SEALER_SIGNATURE through the prepared path', async () => {
    const [b1, b2] = await extend(fx, 2);
    const bad = forge(b2!);
    const prepared = await target.prepareBlocks([encodeBlock(b1!), encodeBlock(bad)]);
    expect(pool.sealsAsked).toBe(2);
    await target.importBlock(prepared[0]!.block, prepared[0]!.bytes);
    await expectCode(target.importBlock(prepared[1]!.block, prepared[1]!.bytes), 'BAD_SEALER_SIGNATURE');
    expect(target.tip.hash).toBe(b1!.hashHex);
    // The genuine block is not held against the forged copy.
    await target.importBlock(b2!);
    expect(target.tip.hash).toBe(b2!.hashHex);
  });

  it('a check is reused only for the same signature bytes: a forged copy of a checked block is refused', async () => {
    const [b1] = await extend(fx, 1);
    await target.prepareBlocks([encodeBlock(b1!)]);
    await expectCode(target.importBlock(forge(b1!)), 'BAD_SEALER_SIGNATURE');
    await target.importBlock(b1!);
    expect(target.tip.hash).toBe(b1!.hashHex);
  });

  it('the other header rules still run on a prepared block (NOT_A_SEALER for a member without the seal right)', async () => {
    const b = buildBlock(fx, { key: fx.nonSealer });
    const [p] = await target.prepareBlocks([encodeBlock(b)]);
    await expectCode(target.importBlock(p!.block, p!.bytes), 'NOT_A_SEALER');
  });

  it('bytes that do not decode are left for the import to reject; known blocks are not checked again', async () => {
    const [b1] = await extend(fx, 1);
    await target.importBlock(b1!);
    const asked = pool.sealsAsked;
    const prepared = await target.prepareBlocks([new Uint8Array([1, 2, 3]), encodeBlock(b1!)]);
    expect(prepared[0]).toBeUndefined();
    expect(prepared[1]?.block.hashHex).toBe(b1!.hashHex);
    expect(pool.sealsAsked).toBe(asked);
    await expectCode(target.importBlockBytes(new Uint8Array([1, 2, 3])), 'MALFORMED');
  });
});
