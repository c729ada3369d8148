/** node/network.ts wiring: what this node makes is gossiped as the bytes it already has, never encoded again. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Block } from '../../../src/chain/block.js';
import type { Chain } from '../../../src/chain/chain.js';
import type { P2PNetwork } from '../../../src/p2p/network.js';
import { wireChainToNetwork } from '../../../src/node/network.js';

function fakes(): { chain: EventEmitter; sealed: EventEmitter; network: P2PNetwork; published: { topic: 'tx' | 'block'; data: Uint8Array }[] } {
  const published: { topic: 'tx' | 'block'; data: Uint8Array }[] = [];
  const network = {
    publishTx: async (data: Uint8Array) => published.push({ topic: 'tx', data }),
    publishBlock: async (data: Uint8Array) => published.push({ topic: 'block', data }),
  } as unknown as P2PNetwork;
  return { chain: new EventEmitter(), sealed: new EventEmitter(), network, published };
}

describe('wireChainToNetwork', () => {
  it("publishes a local or reorg tx's canonical bytes from the 'tx' event, and not a gossiped one", () => {
    const f = fakes();
    const unwire = wireChainToNetwork(f.chain as unknown as Chain, f.network);
    const local = new Uint8Array([1, 2, 3]);
    const back = new Uint8Array([4]);
    f.chain.emit('tx', {}, 'aa', 'local', local);
    f.chain.emit('tx', {}, 'bb', 'gossip', new Uint8Array([9]));
    f.chain.emit('tx', {}, 'cc', 'reorg', back);
    expect(f.published).toEqual([
      { topic: 'tx', data: local },
      { topic: 'tx', data: back },
    ]);
    expect(f.published[0]?.data).toBe(local);
    unwire();
    f.chain.emit('tx', {}, 'dd', 'local', local);
    expect(f.published).toHaveLength(2);
  });

  it("publishes a sealed block as the bytes the miner encoded (the same buffer, no second encoding)", () => {
    const f = fakes();
    const unwire = wireChainToNetwork(f.chain as unknown as Chain, f.network, f.sealed);
    const bytes = new Uint8Array([7, 7, 7]);
    f.sealed.emit('sealed', {} as Block, bytes);
    expect(f.published).toHaveLength(1);
    expect(f.published[0]?.topic).toBe('block');
    expect(f.published[0]?.data).toBe(bytes);
    unwire();
    f.sealed.emit('sealed', {} as Block, bytes);
    expect(f.published).toHaveLength(1);
  });
});
