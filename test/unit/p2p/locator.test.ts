/** Block locators, the fork search and the responder's header serving, over a real chain with a fork. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLocator, findForkHeight, locatorHeights, serveHeaders, type HeaderServeSource } from '../../../src/p2p/locator.js';
import { chainPort, type ChainPort } from '../../../src/p2p/chain-port.js';
import { headerSourceOf } from '../../../src/p2p/sync-protocol.js';
import { checkHeaderBatch, HeaderBatchError } from '../../../src/p2p/headers.js';
import { toHex } from '../../../src/common/bytes.js';
import type { Block } from '../../../src/chain/block.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import { buildBlock, extendChain, makeConsortium, type TestConsortium } from './helpers.js';

describe('locatorHeights', () => {
  it('is the tip alone at genesis, and every height on a short chain', () => {
    expect(locatorHeights(0)).toEqual([0]);
    expect(locatorHeights(5)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(locatorHeights(10)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('takes ten steps of one, then doubles, and always ends at genesis', () => {
    const l = locatorHeights(1000);
    expect(l.slice(0, 10)).toEqual([1000, 999, 998, 997, 996, 995, 994, 993, 992, 991]);
    expect(l.slice(10, 14)).toEqual([989, 985, 977, 961]);
    expect(l[l.length - 1]).toBe(0);
    for (let i = 1; i < l.length; i++) expect(l[i]).toBeLessThan(l[i - 1] as number);
  });

  it('stays within the locator limit for any height', () => {
    for (const tip of [1, 63, 64, 65, 2 ** 20, 2 ** 32 - 1]) {
      const l = locatorHeights(tip);
      expect(l.length).toBeLessThanOrEqual(64);
      expect(l[0]).toBe(tip);
      expect(l[l.length - 1]).toBe(0);
    }
    expect(locatorHeights(1_000_000, 8)).toHaveLength(8);
  });
});

describe('header serving over a forked chain', () => {
  let c: TestConsortium;
  let port: ChainPort;
  let src: HeaderServeSource;
  let main: Block[];
  let side: Block[];
  let genesisHash: string;

  beforeAll(async () => {
    c = await makeConsortium(1);
    const m = c.members[0]!;
    genesisHash = m.chain.tip.hash;
    main = await extendChain(m, 40);
    // A side branch forking off at height 20, shorter than the main chain.
    let parent = m.chain.header(main[19]!.hashHex) as HeaderEntry;
    side = [];
    for (let i = 0; i < 5; i++) {
      const b = buildBlock(m.chain, m.key, { parent, skewMs: 1 });
      await m.chain.importBlock(b);
      side.push(b);
      parent = m.chain.header(b.hashHex) as HeaderEntry;
    }
    port = chainPort(m.chain);
    src = headerSourceOf(port);
  });
  afterAll(async () => {
    port.dispose();
    await c.close();
  });

  it('builds a locator from the main chain, led by queued hashes', async () => {
    const l = await buildLocator(src);
    expect(l[0]).toBe(main[39]!.hashHex);
    expect(l[l.length - 1]).toBe(genesisHash);
    const led = await buildLocator(src, ['ab'.repeat(32)]);
    expect(led[0]).toBe('ab'.repeat(32));
    expect(led[1]).toBe(main[39]!.hashHex);
  });

  it('finds the newest locator block on our main chain', async () => {
    expect(await findForkHeight([main[30]!.hashHex, main[10]!.hashHex], src)).toBe(31);
    // A requester on the side branch: its side blocks are not on our main chain; the fork is.
    expect(await findForkHeight([side[4]!.hashHex, side[3]!.hashHex, main[19]!.hashHex, genesisHash], src)).toBe(20);
    expect(await findForkHeight(['00'.repeat(32)], src)).toBe(0);
  });

  it('serves headers after the fork point, linked, up to max, stopping at stop', async () => {
    const all = await serveHeaders({ locator: [side[4]!.hashHex, main[19]!.hashHex], stop: null, max: 2000 }, src);
    expect(all.map((b) => toHex(b))).toEqual(main.slice(20).map((b) => toHex(b.headerBytes)));
    const few = await serveHeaders({ locator: [genesisHash], stop: null, max: 3 }, src);
    expect(few.map((b) => toHex(b))).toEqual(main.slice(0, 3).map((b) => toHex(b.headerBytes)));
    const stopped = await serveHeaders({ locator: [main[4]!.hashHex], stop: main[7]!.hashHex, max: 2000 }, src);
    expect(stopped).toHaveLength(3);
    expect(await serveHeaders({ locator: [main[39]!.hashHex], stop: null, max: 2000 }, src)).toEqual([]);
  });

  it('a requester accepts served headers and refuses tampered ones', async () => {
    const headers = await serveHeaders({ locator: [main[9]!.hashHex], stop: null, max: 10 }, src);
    const anchor = { heightOf: (h: string) => port.heightOf(h), powLimitBits: 0x207fffff };
    const items = checkHeaderBatch(headers, anchor);
    expect(items.map((i) => i.hash)).toEqual(main.slice(10, 20).map((b) => b.hashHex));

    const swapped = [headers[1]!, headers[0]!];
    expect(() => checkHeaderBatch(swapped, anchor)).toThrow(HeaderBatchError);
    expect(() => checkHeaderBatch(headers.slice(1), { heightOf: () => undefined, powLimitBits: 0x207fffff })).toThrow(/parent .* is unknown/);
    const noWork = buildBlock(c.members[0]!.chain, c.members[0]!.key, { badPow: true });
    expect(() => checkHeaderBatch([noWork.headerBytes], anchor)).toThrow(/proof of work/);
    // A chain whose easiest target is harder than the one claimed.
    expect(() => checkHeaderBatch(headers, { ...anchor, powLimitBits: 0x1d00ffff })).toThrow(/easier than the chain allows/);
    expect(() => checkHeaderBatch([new Uint8Array(111)], anchor)).toThrow(HeaderBatchError);
  });
});
