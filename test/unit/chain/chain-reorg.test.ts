import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/common/bytes.js';
import { txId } from '../../../src/chain/tx.js';
import { buildBlock, extend, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';
import type { ReorgInfo } from '../../../src/chain/chain.js';

describe('fork choice and reorg', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
    await extend(fx, 1);
  });
  afterEach(async () => fx.close());

  it('the heavier branch wins over the longer one; undo restores indexes; orphaned txs return to the mempool', async () => {
    const fork = fx.chain.tip;
    const shared = makeTx(fx, [{ epc: 'urn:x:shared', action: 'commission' }]);
    const onlyA = makeTx(fx, [{ epc: 'urn:x:a', action: 'commission' }]);
    const dispenseA = makeTx(fx, [{ epc: 'urn:x:shared', action: 'dispense' }]);
    // Branch A: three blocks on schedule (easiest bits).
    const a1 = buildBlock(fx, { parent: fork, txs: [shared, onlyA] });
    await fx.chain.importBlock(a1);
    const a2 = buildBlock(fx, { txs: [dispenseA] });
    await fx.chain.importBlock(a2);
    const a3 = buildBlock(fx);
    await fx.chain.importBlock(a3);
    expect(fx.chain.tip.hash).toBe(a3.hashHex);
    expect((await fx.store.getItem('urn:x:shared'))?.status).toBe('dispensed');
    const workA = fx.chain.tip.chainwork;

    // Branch B: two blocks, the second far ahead of schedule, so its target is much harder.
    const reorgs: ReorgInfo[] = [];
    fx.chain.on('reorg', (r) => reorgs.push(r));
    const b1 = buildBlock(fx, { parent: fork, txs: [shared], dt: 1 });
    expect((await fx.chain.importBlock(b1)).status).toBe('side');
    const b1Entry = fx.chain.header(b1.hashHex);
    if (!b1Entry) throw new Error('b1 not indexed');
    const b2 = buildBlock(fx, { parent: b1Entry, dt: 1 });
    expect(fx.chain.header(b1.hashHex)?.height).toBe(fork.height + 1);
    const outcome = await fx.chain.importBlock(b2);
    expect(outcome.status).toBe('reorg');
    expect(fx.chain.tip.hash).toBe(b2.hashHex);
    expect(fx.chain.tip.height).toBe(fork.height + 2); // shorter than A (fork + 3)
    expect(fx.chain.tip.chainwork > workA).toBe(true);

    expect(reorgs).toHaveLength(1);
    expect(reorgs[0]?.fork.hash).toBe(fork.hash);
    expect(reorgs[0]?.disconnected).toEqual([a3.hashHex, a2.hashHex, a1.hashHex]);
    expect(reorgs[0]?.connected).toEqual([b1.hashHex, b2.hashHex]);

    // Indexes now follow B: shared in b1, onlyA and dispenseA nowhere on chain.
    const sharedId = toHex(txId(shared));
    expect((await fx.store.getTxLocation(sharedId))?.blockHash).toBe(b1.hashHex);
    expect(await fx.store.getTxLocation(toHex(txId(onlyA)))).toBeUndefined();
    expect(await fx.store.getTxLocation(toHex(txId(dispenseA)))).toBeUndefined();
    expect(await fx.store.getEventLocation(onlyA.eventIds[0] as string)).toBeUndefined();
    expect(await fx.store.getMainHash(fork.height + 3)).toBeUndefined();
    // Item state undone to what B says: commissioned, not dispensed.
    expect((await fx.store.getItem('urn:x:shared'))?.status).toBe('active');
    expect(await fx.store.getItem('urn:x:a')).toBeUndefined();
    const history = await fx.store.history('urn:x:shared', { limit: 10 });
    expect(history.map((h) => h.height)).toEqual([fork.height + 1]);

    // Orphaned txs not in B are pending again; the one B holds is not.
    expect(fx.chain.mempool.has(toHex(txId(onlyA)))).toBe(true);
    expect(fx.chain.mempool.has(toHex(txId(dispenseA)))).toBe(true);
    expect(fx.chain.mempool.has(sharedId)).toBe(false);
    expect(reorgs[0]?.orphanedTxs).toBe(2);

    // The state survives a restart.
    await fx.reopen();
    expect(fx.chain.tip.hash).toBe(b2.hashHex);
  });

  it('on equal work the first-seen tip stays', async () => {
    const fork = fx.chain.tip;
    const a = buildBlock(fx, { parent: fork });
    await fx.chain.importBlock(a);
    const b = buildBlock(fx, { parent: fork, dt: fx.genesis.params.blockIntervalMs + 1 });
    expect(b.header.bits).toBe(a.header.bits);
    expect((await fx.chain.importBlock(b)).status).toBe('side');
    expect(fx.chain.tip.hash).toBe(a.hashHex);
  });

  it('a branch holding an event already on the main chain is refused at connect and the old chain stays', async () => {
    const fork = fx.chain.tip;
    const ev = makeTx(fx, [{ epc: 'urn:x:dup', action: 'commission' }]);
    const a1 = buildBlock(fx, { parent: fork, txs: [ev] });
    await fx.chain.importBlock(a1);
    // B repeats ev's event in another tx at b2, on top of a fork that also contains ev.
    const b1 = buildBlock(fx, { parent: fork, txs: [ev], dt: 1 });
    await fx.chain.importBlock(b1);
    const again = makeTx(fx, [{ epc: 'urn:x:dup', action: 'commission' }]);
    const b2 = buildBlock(fx, { parent: fx.chain.header(b1.hashHex), dt: 1, txs: [again] });
    await expect(fx.chain.importBlock(b2)).rejects.toThrow();
    expect(fx.chain.header(b2.hashHex)?.status).toBe('invalid');
    // The chain is on a valid branch with the event exactly once.
    const loc = await fx.store.getEventLocation(ev.eventIds[0] as string);
    expect(loc?.txId).toBe(toHex(txId(ev)));
  });

  it('a heavier branch whose middle block fails to connect is abandoned with all its descendants', async () => {
    const fork = fx.chain.tip;
    const ev = makeTx(fx, [{ epc: 'urn:x:mid', action: 'commission' }]);
    // A: fork ← a1 (ev) ← a2 ← a3, on schedule.
    await fx.chain.importBlock(buildBlock(fx, { parent: fork, txs: [ev] }));
    await extend(fx, 2);
    const tipA = fx.chain.tip;
    // B: fork ← b1 (ev) ← b2 (ev's event again, in another tx) ← b3; b1 and b2 stay lighter than A.
    const b1 = buildBlock(fx, { parent: fork, txs: [ev], dt: fx.genesis.params.blockIntervalMs + 5 });
    expect((await fx.chain.importBlock(b1)).status).toBe('side');
    const again = makeTx(fx, [{ epc: 'urn:x:mid', action: 'commission' }]);
    const b2 = buildBlock(fx, { parent: fx.chain.header(b1.hashHex), txs: [again] });
    expect((await fx.chain.importBlock(b2)).status).toBe('side');
    // b3 comes 1 ms after b2, far ahead of schedule, so b4's target is much harder: with b4,
    // B has more work than A and a reorg is tried; b2 fails to connect.
    const b3 = buildBlock(fx, { parent: fx.chain.header(b2.hashHex), dt: 1 });
    expect((await fx.chain.importBlock(b3)).status).toBe('side');
    const b4 = buildBlock(fx, { parent: fx.chain.header(b3.hashHex), dt: 1 });
    await expect(fx.chain.importBlock(b4)).rejects.toThrow();
    expect(fx.chain.header(b4.hashHex)?.status).toBe('invalid');
    expect(fx.chain.header(b2.hashHex)?.status).toBe('invalid');
    expect(fx.chain.header(b3.hashHex)?.status).toBe('invalid');
    expect(fx.chain.tip.hash).toBe(tipA.hash);
    // Remembered across a restart.
    await fx.reopen();
    expect(fx.chain.tip.hash).toBe(tipA.hash);
    expect(fx.chain.header(b3.hashHex)?.status).toBe('invalid');
  });
});
