/** BlockConnector (src/chain/connect.ts): only the tip moves, and a damaged store is named as such. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlockConnector, historyOf } from '../../../src/chain/connect.js';
import { ChainStateError, StoreDamagedError } from '../../../src/common/errors.js';
import { EventIdFilter } from '../../../src/chain/event-filter.js';
import { Mempool } from '../../../src/chain/mempool.js';
import { MemberRegistry } from '../../../src/chain/registry.js';
import { StoredBlocks } from '../../../src/chain/stored-blocks.js';
import type { ChainStore, HeaderEntry } from '../../../src/chain/store.js';
import { extend, makeFixture, makeTx, buildBlock, testRules, type Fixture } from '../../helpers/chain-fixture.js';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => fx.close());

function connector(tip: HeaderEntry, store: ChainStore = fx.store): BlockConnector {
  const blocks = new StoredBlocks(store, fx.chain.limits, fx.chain.chainId);
  return new BlockConnector({ store, rules: testRules, registry: MemberRegistry.fromGenesis(fx.genesis), blocks, mempool: new Mempool({ maxTxs: 10, maxBytes: 1 << 20 }), eventFilter: new EventIdFilter(10) }, tip);
}

async function stateError(p: Promise<unknown>): Promise<ChainStateError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChainStateError);
  return err as ChainStateError;
}

describe('BlockConnector', () => {
  it('refuses to connect a block whose parent is not the tip, or to disconnect one that is not the tip (NOT_THE_TIP), and changes nothing', async () => {
    const [b1, b2] = await extend(fx, 2);
    const e1 = fx.chain.header(b1!.hashHex) as HeaderEntry;
    const e2 = fx.chain.header(b2!.hashHex) as HeaderEntry;
    await fx.chain.close();
    const c = connector(e2);
    expect((await stateError(c.connect(e1))).code).toBe('NOT_THE_TIP');
    expect((await stateError(c.disconnect(e1, fx.chain.header(e1.prevHash) as HeaderEntry))).code).toBe('NOT_THE_TIP');
    expect(c.tip.hash).toBe(e2.hash);
    expect(c.stateVersion).toBe(2); // each attempt ran as a state change, and ended
    expect(c.stateBusy).toBe(false);
    expect(await fx.store.getTip()).toBe(e2.hash);
  });

  it('settled() resolves at once when idle, and only after a running change ended (failed or not)', async () => {
    const [b1, b2] = await extend(fx, 2);
    const e1 = fx.chain.header(b1!.hashHex) as HeaderEntry;
    const e2 = fx.chain.header(b2!.hashHex) as HeaderEntry;
    await fx.chain.close();
    const c = connector(e2);
    await c.settled();
    const change = c.connect(e1).catch(() => 'refused');
    expect(c.stateBusy).toBe(true);
    let settledWhileBusy: boolean | undefined;
    const settled = c.settled().then(() => (settledWhileBusy = c.stateBusy));
    expect(await change).toBe('refused');
    await settled;
    expect(settledWhileBusy).toBe(false);
    expect(c.stateVersion).toBe(1);
  });

  it('a tip without undo data is a damaged store (StoreDamagedError), and the tip stays', async () => {
    const [b1] = await extend(fx, 1);
    const e1 = fx.chain.header(b1!.hashHex) as HeaderEntry;
    await fx.chain.close();
    const noUndo = Object.assign(Object.create(fx.store) as ChainStore, { getUndo: async () => undefined });
    const c = connector(e1, noUndo);
    await expect(c.disconnect(e1, fx.chain.header(e1.prevHash) as HeaderEntry)).rejects.toThrow(StoreDamagedError);
    expect(c.tip.hash).toBe(e1.hash);
    expect(await fx.store.getTip()).toBe(e1.hash);
  });

  it('historyOf lists each item an event names once per event, in block order', () => {
    const tx = makeTx(fx, [
      { epc: 'urn:x:1', action: 'commission' },
      { epc: 'urn:x:2', action: 'commission' },
    ]);
    const b = buildBlock(fx, { txs: [tx] });
    expect(historyOf(testRules, b).map((h) => [h.key, h.txIndex, h.eventIndex])).toEqual([
      ['urn:x:1', 0, 0],
      ['urn:x:2', 0, 1],
    ]);
  });
});
