import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../../../src/common/bytes.js';
import { TxError } from '../../../src/common/errors.js';
import { txId } from '../../../src/chain/tx.js';
import { buildBlock, extend, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';

async function refusal(p: Promise<unknown>): Promise<TxError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TxError) return err;
    throw err;
  }
  throw new Error('expected a TxError');
}

describe('mempool admission against the main chain (one store round trip)', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
    await extend(fx, 1);
  });
  afterEach(async () => fx.close());

  it('a tx already in a block is ALREADY_KNOWN with that block; a tx repeating one of its events is DUPLICATE_EVENT naming it', async () => {
    const mined = makeTx(fx, [
      { epc: 'urn:x:1', action: 'commission' },
      { epc: 'urn:x:2', action: 'commission' },
    ]);
    const block = buildBlock(fx, { txs: [mined] });
    await fx.chain.importBlock(block);
    const minedId = toHex(txId(mined));

    const again = await refusal(fx.chain.submitTx(mined));
    expect(again.code).toBe('ALREADY_KNOWN');
    expect(again.details).toEqual({ txId: minedId, block: { hash: block.hashHex, height: block.header.height } });

    const overlapping = makeTx(fx, [
      { epc: 'urn:x:3', action: 'commission' },
      { epc: 'urn:x:2', action: 'commission' },
    ]);
    const dup = await refusal(fx.chain.submitTx(overlapping));
    expect(dup.code).toBe('DUPLICATE_EVENT');
    expect(dup.details?.duplicates).toEqual([{ eventId: mined.eventIds[1], txId: minedId, block: { hash: block.hashHex, height: block.header.height } }]);
    expect(fx.chain.mempool.size).toBe(0);
  });

  it('pending duplicates are named with block null; a new tx is admitted', async () => {
    const first = makeTx(fx, [{ epc: 'urn:x:p', action: 'commission' }]);
    const { txId: firstId } = await fx.chain.submitTx(first);
    const second = makeTx(fx, [first.events[0] as Record<string, unknown>, { epc: 'urn:x:q', action: 'commission' }]);
    const dup = await refusal(fx.chain.submitTx(second));
    expect(dup.code).toBe('DUPLICATE_EVENT');
    expect(dup.details?.duplicates).toEqual([{ eventId: first.eventIds[0], txId: firstId, block: null }]);
    const fresh = makeTx(fx, [{ epc: 'urn:x:r', action: 'commission' }]);
    await fx.chain.submitTx(fresh);
    expect(fx.chain.mempool.size).toBe(2);
  });

  it('after a block is disconnected by a reorg its txs are admissible again (returned to the mempool)', async () => {
    const fork = fx.chain.tip;
    const tx = makeTx(fx, [{ epc: 'urn:x:r1', action: 'commission' }]);
    await fx.chain.importBlock(buildBlock(fx, { txs: [tx] }));
    expect((await refusal(fx.chain.submitTx(tx))).code).toBe('ALREADY_KNOWN');
    // A heavier empty branch from the fork orphans the tx: it goes back to the mempool.
    const b1 = buildBlock(fx, { parent: fork, dt: 1 });
    await fx.chain.importBlock(b1);
    const b1Entry = fx.chain.header(b1.hashHex);
    if (!b1Entry) throw new Error('b1 not indexed');
    await fx.chain.importBlock(buildBlock(fx, { parent: b1Entry, dt: 1 }));
    expect(fx.chain.mempool.has(toHex(txId(tx)))).toBe(true);
  });

  it('the event filter: new events skip the store read; events on chain (also after a restart) are still found', async () => {
    const mined = makeTx(fx, [{ epc: 'urn:x:f1', action: 'commission' }]);
    const block = buildBlock(fx, { txs: [mined] });
    await fx.chain.importBlock(block);
    const chain = await fx.reopen();
    await chain.whenEventFilterFilled();
    const reads = vi.spyOn(fx.store, 'getEventLocations');
    await chain.submitTx(makeTx(fx, [{ epc: 'urn:x:f2', action: 'commission' }]));
    expect(reads).not.toHaveBeenCalled();
    const dup = await refusal(chain.submitTx(makeTx(fx, [{ epc: 'urn:x:f3', action: 'commission' }, mined.events[0] as Record<string, unknown>])));
    expect(dup.code).toBe('DUPLICATE_EVENT');
    expect(dup.details?.duplicates).toEqual([{ eventId: mined.eventIds[0], txId: toHex(txId(mined)), block: { hash: block.hashHex, height: block.header.height } }]);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(reads.mock.calls[0]?.[0]).toEqual([mined.eventIds[0]]); // only the one the filter could not rule out
    expect((await refusal(chain.submitTx(mined))).code).toBe('ALREADY_KNOWN');
  });
});
