/**
 * The synchroniser against scripted peers: bodies come from several peers; a peer that stalls
 * is reported and its chunk goes elsewhere; a peer without the blocks is skipped; lying headers
 * are an offence; nothing is imported out of order.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chainPort, type ChainPort } from '../../../src/p2p/chain-port.js';
import { headerSourceOf, SyncRequestError, type BlockReplyItem, type PeerStatus, type SyncTransport } from '../../../src/p2p/sync-protocol.js';
import { serveHeaders } from '../../../src/p2p/locator.js';
import { Synchronizer } from '../../../src/p2p/sync.js';
import type { Offence } from '../../../src/p2p/scores.js';
import { buildBlock, extendChain, makeConsortium, waitUntil, type TestConsortium } from './helpers.js';
import { InlineTxVerifier } from '../../../src/chain/tx-verifier.js';
import { MemberRegistry } from '../../../src/chain/registry.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain } from '../../../src/chain/chain.js';
import { HEADER_SIZE } from '../../../src/chain/header.js';
import { Mempool } from '../../../src/chain/mempool.js';
import { WorkerPoolTxVerifier } from '../../../src/chain/verifier-pool.js';
import { LevelChainStore } from '../../../src/storage/index.js';
import { testRules } from '../../helpers/chain-fixture.js';

type Behaviour = 'serve' | 'stall' | 'empty' | 'garbage-headers' | 'forge-5';

class ScriptedPeers implements SyncTransport {
  readonly blockRequests = new Map<string, number>();
  /** Called on each headers request (e.g. to note how far the syncing node had got). */
  onHeaders: (() => void) | undefined;
  constructor(
    private readonly source: ChainPort,
    private readonly behaviour: Record<string, Behaviour>,
  ) {}

  async status(peer: string): Promise<PeerStatus & { rttMs: number }> {
    const t = this.source.tip();
    return { height: t.height, tip: t.hash, chainwork: t.chainwork, rttMs: peer === 'slow' ? 50 : 1 };
  }

  async headers(peer: string, locator: string[], max: number): Promise<Uint8Array[]> {
    this.onHeaders?.();
    const served = await serveHeaders({ locator, stop: null, max }, headerSourceOf(this.source));
    if (this.behaviour[peer] === 'garbage-headers') return served.reverse();
    return served;
  }

  async blocks(peer: string, hashes: string[]): Promise<BlockReplyItem[]> {
    this.blockRequests.set(peer, (this.blockRequests.get(peer) ?? 0) + 1);
    const b = this.behaviour[peer];
    if (b === 'stall') {
      await new Promise((r) => setTimeout(r, 30));
      throw new SyncRequestError('TIMEOUT', 'scripted stall');
    }
    const out: BlockReplyItem[] = [];
    for (const hash of hashes) {
      let bytes = b === 'empty' ? null : ((await this.source.blockBytes(hash)) ?? null);
      if (bytes && b === 'forge-5' && this.source.heightOf(hash) === 5) {
        bytes = bytes.slice();
        bytes.fill(0x5a, HEADER_SIZE, HEADER_SIZE + 64); // the sealer signature; the header (and hash) unchanged
      }
      out.push({ hash, bytes });
    }
    return out;
  }
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(blocks: number): Promise<{ c: TestConsortium; source: ChainPort; target: ChainPort }> {
  const c = await makeConsortium(2);
  cleanup.push(() => c.close());
  await extendChain(c.members[0]!, blocks);
  const source = chainPort(c.members[0]!.chain);
  const target = chainPort(c.members[1]!.chain);
  cleanup.push(async () => {
    source.dispose();
    target.dispose();
  });
  return { c, source, target };
}

function synchronizer(target: ChainPort, transport: SyncTransport, c: TestConsortium): { sync: Synchronizer; stalls: string[]; offences: [string, Offence][] } {
  const sync = new Synchronizer({ blocksPerRequest: 8, statusIntervalMs: 60_000, noProgressBackoffMs: 50 }, { chain: target, transport, logger: c.logger });
  const stalls: string[] = [];
  const offences: [string, Offence][] = [];
  sync.on('stall', (p) => {
    stalls.push(p);
    sync.removePeer(p);
  });
  sync.on('offence', (p, o) => offences.push([p, o]));
  sync.start();
  cleanup.push(async () => sync.stop());
  return { sync, stalls, offences };
}

describe('Synchronizer', () => {
  it('fetches bodies from every peer and imports in order', async () => {
    const { c, source, target } = await setup(120);
    const peers = new ScriptedPeers(source, { a: 'serve', b: 'serve', d: 'serve' });
    const { sync } = synchronizer(target, peers, c);
    const heights: number[] = [];
    c.members[1]!.chain.on('tip', (t) => heights.push(t.height));
    for (const p of ['a', 'b', 'd']) sync.addPeer(p);
    await waitUntil('synced', () => target.tip().hash === source.tip().hash);
    expect(heights).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect([...peers.blockRequests.keys()].sort()).toEqual(['a', 'b', 'd']);
    expect(sync.isSynced()).toBe(true);
  });

  it('asks for the next header batch while the bodies of the current one import', async () => {
    const { c, source, target } = await setup(2_100);
    const peers = new ScriptedPeers(source, { a: 'serve' });
    const heightAtRequest: number[] = [];
    peers.onHeaders = () => heightAtRequest.push(target.tip().height);
    const { sync } = synchronizer(target, peers, c);
    sync.addPeer('a');
    await waitUntil('synced', () => target.tip().hash === source.tip().hash, 60_000);
    // Batch 1 (2,000 headers) from height 0; batch 2 asked for before batch 1 was imported.
    expect(heightAtRequest[0]).toBe(0);
    expect(heightAtRequest[1]).toBeLessThan(2_000);
  }, 120_000);

  it('drops a stalling peer and gives its chunks to another', async () => {
    const { c, source, target } = await setup(60);
    const peers = new ScriptedPeers(source, { slow: 'stall', good: 'serve' });
    const { sync, stalls } = synchronizer(target, peers, c);
    sync.addPeer('slow');
    sync.addPeer('good');
    await waitUntil('synced', () => target.tip().hash === source.tip().hash);
    expect(stalls).toContain('slow');
  });

  it('skips a peer that lacks the blocks', async () => {
    const { c, source, target } = await setup(40);
    const peers = new ScriptedPeers(source, { hollow: 'empty', good: 'serve' });
    const { sync, offences } = synchronizer(target, peers, c);
    sync.addPeer('hollow');
    sync.addPeer('good');
    await waitUntil('synced', () => target.tip().hash === source.tip().hash);
    expect(offences).toEqual([]);
  });

  it('reports lying headers and imports nothing from them', async () => {
    const { c, source, target } = await setup(20);
    const peers = new ScriptedPeers(source, { liar: 'garbage-headers' });
    const { sync, offences } = synchronizer(target, peers, c);
    sync.addPeer('liar');
    await waitUntil('the offence', () => offences.length > 0);
    expect(offences[0]).toEqual(['liar', 'invalid-headers']);
    expect(target.tip().height).toBe(0);
    expect(sync.isSynced()).toBe(false);
    expect(sync.bestKnownHeight()).toBe(20);
  });

  it('a block with a bad sealer signature is rejected through the pre-verified path (worker pool) and is an offence', async () => {
    const { c, source } = await setup(12);
    // The syncing node checks sealer signatures ahead of import on a worker pool, as a node does.
    const dir = await mkdtemp(join(tmpdir(), 'tracechain-sync-pool-'));
    const store = await LevelChainStore.open(join(dir, 'chain'));
    const pool = new WorkerPoolTxVerifier({ workers: 1 }, { genesis: c.genesis });
    const chain = await Chain.open(
      { genesis: c.genesis },
      { store, rules: testRules, verifier: pool, mempool: new Mempool({ maxTxs: 100, maxBytes: 1 << 20 }), clock: Date.now, logger: c.logger },
    );
    const target = chainPort(chain);
    cleanup.push(async () => {
      target.dispose();
      await chain.close();
      await pool.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const codes: string[] = [];
    const peers = new ScriptedPeers(source, { forger: 'forge-5' });
    const { sync, offences } = synchronizer(target, peers, c);
    const prepare = target.prepareBlocks.bind(target);
    target.prepareBlocks = async (list) => {
      const out = await prepare(list);
      codes.push(...out.map((p) => (p ? 'prepared' : 'undecodable')));
      return out;
    };
    const details: string[] = [];
    sync.on('offence', (_peer, _offence, detail) => details.push(detail));
    sync.addPeer('forger');
    await waitUntil('the offence', () => offences.length > 0);
    expect(offences[0]).toEqual(['forger', 'invalid-block']);
    expect(codes.length).toBeGreaterThanOrEqual(5);
    expect(codes.every((x) => x === 'prepared')).toBe(true);
    expect(target.tip().height).toBe(4);
    expect(details[0]).toBe('BAD_SEALER_SIGNATURE');
  });

  it('a peer whose chain runs ahead of our clock does not keep us unsynced: its future blocks are held, the rest imported', async () => {
    const c = await makeConsortium(2);
    cleanup.push(() => c.close());
    // The peer's node has a clock 3 h fast: it accepts (and serves) blocks 3 h ahead.
    const dir = await mkdtemp(join(tmpdir(), 'tracechain-sync-fast-'));
    const store = await LevelChainStore.open(join(dir, 'chain'));
    const registry = MemberRegistry.fromGenesis(c.genesis);
    const fast = await Chain.open(
      { genesis: c.genesis },
      {
        store,
        rules: testRules,
        verifier: new InlineTxVerifier({ chainId: genesisBlock(c.genesis).hashHex }, { registry, rules: testRules }),
        mempool: new Mempool({ maxTxs: 100, maxBytes: 1 << 20 }),
        clock: () => Date.now() + 3 * 3_600_000,
        logger: c.logger,
      },
    );
    cleanup.push(async () => {
      await fast.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const key = c.members[0]!.key;
    for (let i = 0; i < 5; i++) await fast.importBlock(buildBlock(fast, key));
    // The first jumps 3 h ahead; the next follow it (parent time + 1 ms once the parent is "in the future").
    for (let i = 0; i < 20; i++) await fast.importBlock(buildBlock(fast, key, i === 0 ? { skewMs: 3 * 3_600_000 } : {}));
    const source = chainPort(fast);
    const target = chainPort(c.members[1]!.chain);
    cleanup.push(async () => {
      source.dispose();
      target.dispose();
    });
    const { sync, offences } = synchronizer(target, new ScriptedPeers(source, { a: 'serve' }), c);
    sync.addPeer('a');
    await waitUntil('the 5 blocks in our past imported', () => target.tip().height === 5);
    await waitUntil('the first future block seen', () => sync.bestKnownHeight() === 5 && sync.isSynced());
    expect(c.members[1]!.chain.futureCount).toBeGreaterThanOrEqual(1); // held, to retry when due
    expect(offences).toEqual([]);
    expect(target.tip().height).toBe(5);
  });
});

describe('status polling', () => {
  it('asks statusPeersPerInterval peers each interval, the longest unasked first, so each peer is asked every N / k intervals', async () => {
    const { c, source, target } = await setup(0);
    const asked: string[] = [];
    const transport: SyncTransport = {
      status: async (peer) => {
        asked.push(peer);
        const t = source.tip();
        return { height: t.height, tip: t.hash, chainwork: t.chainwork, rttMs: 1 };
      },
      headers: async () => [],
      blocks: async () => [],
    };
    let now = 1_000;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const sync = new Synchronizer({ statusIntervalMs: 1_000, statusPeersPerInterval: 3 }, { chain: target, transport, logger: c.logger, clock: () => now++ });
      sync.start();
      cleanup.push(async () => sync.stop());
      const peers = Array.from({ length: 10 }, (_, i) => `peer-${i}`);
      for (const p of peers) sync.addPeer(p);
      // Connecting asks each peer once, at once.
      await vi.advanceTimersByTimeAsync(0);
      expect(asked).toEqual(peers);
      asked.length = 0;
      // Then exactly 3 per interval, the stalest first: every peer within 4 intervals, none twice before all were asked.
      const perTick: string[][] = [];
      for (let tick = 0; tick < 4; tick++) {
        await vi.advanceTimersByTimeAsync(1_000);
        perTick.push(asked.splice(0));
      }
      expect(perTick.map((t) => t.length)).toEqual([3, 3, 3, 3]);
      expect(perTick.flat().slice(0, 10)).toEqual(peers);
      expect(perTick[3]?.slice(1)).toEqual(peers.slice(0, 2));
    } finally {
      vi.useRealTimers();
    }
  });
});
