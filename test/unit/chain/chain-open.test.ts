/** Chain.open and Chain.close: a store of another chain, a damaged tip pointer, and a chain shutting down each say so with a code. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Chain } from '../../../src/chain/chain.js';
import { ChainStateError, StoreDamagedError } from '../../../src/common/errors.js';
import { generateKeyPair } from '../../../src/chain/keys.js';
import { Mempool } from '../../../src/chain/mempool.js';
import { MemberRegistry } from '../../../src/chain/registry.js';
import { InlineTxVerifier } from '../../../src/chain/tx-verifier.js';
import type { ChainStore } from '../../../src/chain/store.js';
import type { Genesis } from '../../../src/chain/types.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { blockVerdict } from '../../../src/p2p/verdict.js';
import { makeGenesis, memberOf } from '../../../src/node/dev-consortium.js';
import { buildBlock, extend, GENESIS_TIME, makeFixture, makeTx, testRules, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => fx.close());

function open(genesis: Genesis, store: ChainStore = fx.store): Promise<Chain> {
  const verifier = new InlineTxVerifier({ chainId: genesisBlock(genesis).hashHex }, { registry: MemberRegistry.fromGenesis(genesis), rules: testRules });
  return Chain.open({ genesis }, { store, rules: testRules, verifier, mempool: new Mempool({ maxTxs: 10, maxBytes: 1 << 20 }), clock: () => fx.clock.now, logger: pino({ level: 'silent' }) });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('Chain.open', () => {
  it("a store holding another consortium's chain is refused with WRONG_CHAIN, and left as it was", async () => {
    await extend(fx, 1);
    await fx.chain.close();
    const other = makeGenesis('other', [memberOf({ name: 'x', role: 'dev', key: generateKeyPair(), peerId: 'px' })], GENESIS_TIME, TEST_PARAMS);
    const err = await rejection(open(other));
    expect(err).toBeInstanceOf(ChainStateError);
    expect((err as ChainStateError).code).toBe('WRONG_CHAIN');
    expect((err as Error).message).toContain(fx.chain.chainId);
    const again = await open(fx.genesis);
    expect(again.tip.height).toBe(1);
    await again.close();
  });

  it('a stored tip with no header entry is a damaged store (StoreDamagedError)', async () => {
    await fx.chain.close();
    const lost = 'ab'.repeat(32);
    const damaged = Object.assign(Object.create(fx.store) as ChainStore, { getTip: async () => lost });
    const err = await rejection(open(fx.genesis, damaged));
    expect(err).toBeInstanceOf(StoreDamagedError);
    expect((err as StoreDamagedError).hash).toBe(lost);
  });
});

describe('Chain.close', () => {
  it('refuses imports and admissions after close with SHUTTING_DOWN, which p2p treats as its own trouble (ignore), not a peer offence', async () => {
    const block = buildBlock(fx);
    const tx = makeTx(fx, [{ epc: 'urn:x:late', action: 'commission' }]);
    await fx.chain.close();
    for (const call of [() => fx.chain.importBlock(block), () => fx.chain.submitTx(tx), () => fx.chain.reactivate()]) {
      const err = await rejection(call());
      expect(err).toBeInstanceOf(ChainStateError);
      expect((err as ChainStateError).code).toBe('SHUTTING_DOWN');
      expect(blockVerdict(err)).toEqual({ verdict: 'ignore', code: 'INTERNAL' });
    }
    expect(fx.chain.tip.height).toBe(0);
    expect(fx.chain.mempool.size).toBe(0);
  });
});
