/**
 * TxLogFinality over a real chain and a FileTxLog (in-memory files): a record is dropped when
 * its tx has k confirmations, not one block earlier; a reorg before that keeps it; a pending
 * tx whose event another tx recorded is dropped once that one is final; a stale height note
 * never drops a record the store does not confirm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { toHex } from '../../../src/common/bytes.js';
import { txId } from '../../../src/chain/tx.js';
import { TxLogFinality } from '../../../src/chain/tx-log-finality.js';
import { FileTxLog } from '../../../src/storage/tx-log.js';
import { buildBlock, extend, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { MemLogFs } from '../storage/mem-log-fs.js';

const K = TEST_PARAMS.finalityDepth;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('tx log finality', () => {
  let fx: Fixture;
  let log: FileTxLog;
  let fs: MemLogFs;
  let finality: TxLogFinality;
  afterEach(async () => {
    await finality?.stop();
    await log?.close();
    await fx?.close();
  });

  async function setup(): Promise<void> {
    fs = new MemLogFs();
    ({ log } = await FileTxLog.open({ dir: '/data/txlog', maxPayloadBytes: TEST_PARAMS.maxTxBytes }, { logger: quiet, fs }));
    fx = await makeFixture(undefined, { txLog: log });
    finality = new TxLogFinality({ finalityDepth: K, limits: fx.chain.limits }, { txLog: log, mempool: fx.chain.mempool, store: fx.store, logger: pino({ level: 'silent' }) });
    fx.chain.on('block', (b) => finality.noteBlock(b));
    fx.chain.on('reorg', () => finality.noteReorg());
  }

  const live = (): string[] => [...log.liveTxIds()];
  const settleNow = (): Promise<void> => finality.update(fx.chain.tip.height);

  it(`keeps a record while its tx has fewer than ${K} confirmations and drops it at ${K}`, async () => {
    await setup();
    const tx = makeTx(fx, [{ epc: 'urn:x:f1', action: 'commission' }]);
    const id = toHex(txId(tx));
    await fx.chain.submitTx(tx);
    await settleNow();
    expect(live()).toEqual([id]); // pending
    const block = buildBlock(fx, { txs: [tx] });
    await fx.chain.importBlock(block);
    for (let conf = 1; conf < K; conf++) {
      await settleNow();
      expect(live(), `${conf} confirmations`).toEqual([id]);
      await extend(fx, 1);
    }
    expect(fx.chain.confirmations(block.header.height)).toBe(K);
    await settleNow();
    expect(live()).toEqual([]);
  });

  it('a reorg that takes the tx out of the main chain before it is final keeps the record (back in the mempool)', async () => {
    await setup();
    const fork = fx.chain.tip;
    const tx = makeTx(fx, [{ epc: 'urn:x:f2', action: 'commission' }]);
    const id = toHex(txId(tx));
    await fx.chain.submitTx(tx);
    await fx.chain.importBlock(buildBlock(fx, { txs: [tx] }));
    await extend(fx, K - 2);
    await settleNow();
    expect(live()).toEqual([id]);
    // A heavier branch from the fork without the tx, long enough that the old height looks "final".
    let parent = fork;
    for (let i = 0; i < K; i++) {
      const b = buildBlock(fx, { parent });
      await fx.chain.importBlock(b);
      parent = fx.chain.header(b.hashHex) ?? parent;
    }
    expect(fx.chain.tip.hash).toBe(parent.hash);
    await settleNow();
    expect(fx.chain.mempool.has(id)).toBe(true);
    expect(live()).toEqual([id]);
  });

  it('a heights note from a block that is no longer main is checked against the store before anything is dropped', async () => {
    await setup();
    const fork = fx.chain.tip;
    const tx = makeTx(fx, [{ epc: 'urn:x:f3', action: 'commission' }]);
    const id = toHex(txId(tx));
    await fx.chain.submitTx(tx);
    const b = buildBlock(fx, { txs: [tx] });
    await fx.chain.importBlock(b);
    // Reorg without telling the finality (no 'reorg' note): its height note is stale.
    finality.noteReorg = () => undefined;
    let parent = fork;
    for (let i = 0; i < K + 1; i++) {
      const nb = buildBlock(fx, { parent });
      await fx.chain.importBlock(nb);
      parent = fx.chain.header(nb.hashHex) ?? parent;
    }
    fx.chain.mempool.remove(id); // not pending either: only the stale note says "final"
    await settleNow();
    expect(live()).toEqual([id]);
  });

  it('a pending tx whose event another tx recorded is kept until that tx is final, then dropped', async () => {
    await setup();
    const mine = makeTx(fx, [{ epc: 'urn:x:f4', action: 'commission' }]);
    const id = toHex(txId(mine));
    await fx.chain.submitTx(mine);
    // The same event captured elsewhere, mined first.
    const theirs = makeTx(fx, [{ epc: 'urn:x:f4', action: 'commission' }, { epc: 'urn:x:f5', action: 'commission' }], fx.nonSealer);
    await fx.chain.importBlock(buildBlock(fx, { txs: [theirs] }));
    expect(fx.chain.mempool.has(id)).toBe(false);
    await settleNow();
    expect(live()).toEqual([id]); // the other tx is not final yet
    await extend(fx, K - 1);
    await settleNow();
    expect(live()).toEqual([]);
  });

  it('after a restart, records of txs found final in the store are dropped without any block note', async () => {
    await setup();
    const txs = [0, 1, 2].map((i) => makeTx(fx, [{ epc: `urn:x:r${i}`, action: 'commission' }]));
    for (const t of txs) await fx.chain.submitTx(t);
    await fx.chain.importBlock(buildBlock(fx, { txs: txs.slice(0, 2) }));
    await extend(fx, K);
    const fresh = new TxLogFinality({ finalityDepth: K, limits: fx.chain.limits }, { txLog: log, mempool: fx.chain.mempool, store: fx.store, logger: pino({ level: 'silent' }) });
    const run = await fresh.runOnce(fx.chain.tip.height);
    expect(run).toEqual({ final: 2, superseded: 0, unplaced: 0 });
    expect(live()).toEqual([toHex(txId(txs[2] as (typeof txs)[number]))]);
  });
});
