import { afterEach, describe, expect, it } from 'vitest';
import { buildBlock, extend, makeFixture, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { nextBits, genesisAnchor } from '../../../src/consensus/retarget.js';

describe('retarget anchor reset after an outage', () => {
  let fx: Fixture;
  afterEach(async () => fx.close());

  it('a block after a gap re-anchors the schedule: its child keeps its bits instead of repaying the gap', async () => {
    fx = await makeFixture({ ...TEST_PARAMS, genesisBits: 0x2000ffff, asertAnchorResetMs: 100_000 });
    await extend(fx, 3);
    const before = fx.chain.tip;
    fx.clock.now = before.time + 10_000_000;
    const gap = buildBlock(fx, { dt: 5_000_000 });
    await fx.chain.importBlock(gap);
    const tip = fx.chain.tip;
    // Plain ASERT from genesis would allow the easiest target now (the chain is far behind schedule).
    const plain = nextBits(fx.genesis.params, genesisAnchor(fx.genesis), { height: tip.height, time: tip.time });
    expect(plain).toBe(fx.genesis.params.powLimitBits);
    expect(fx.chain.nextBitsAfter(tip)).toBe(gap.header.bits);
    // And the child mined with those bits is valid.
    const child = buildBlock(fx);
    expect((await fx.chain.importBlock(child)).status).toBe('connected');
    // The anchor survives a restart (recomputed from the header index).
    await fx.reopen();
    expect(fx.chain.nextBitsAfter(fx.chain.header(gap.hashHex)!)).toBe(gap.header.bits);
  });

  it('a gap below the threshold is ordinary lateness: the target eases', async () => {
    fx = await makeFixture({ ...TEST_PARAMS, genesisBits: 0x2000ffff, asertAnchorResetMs: 100_000 });
    await extend(fx, 2);
    const late = buildBlock(fx, { dt: 50_000 });
    await fx.chain.importBlock(late);
    expect(fx.chain.nextBitsAfter(fx.chain.tip)).not.toBe(late.header.bits);
  });
});
