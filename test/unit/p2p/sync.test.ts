/**
 * The synchroniser against scripted peers: bodies come from several peers; a peer that stalls
 * is reported and its chunk goes elsewhere; a peer without the blocks is skipped; lying headers
 * are an offence; nothing is imported out of order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chainPort, type ChainPort } from '../../../src/p2p/chain-port.js';
import { headerSourceOf, SyncRequestError, type BlockReplyItem, type PeerStatus, type SyncTransport } from '../../../src/p2p/sync-protocol.js';
import { serveHeaders } from '../../../src/p2p/locator.js';
import { Synchronizer } from '../../../src/p2p/sync.js';
import type { Offence } from '../../../src/p2p/scores.js';
import { extendChain, makeConsortium, waitUntil, type TestConsortium } from './helpers.js';

type Behaviour = 'serve' | 'stall' | 'empty' | 'garbage-headers';

class ScriptedPeers implements SyncTransport {
  readonly blockRequests = new Map<string, number>();
  constructor(
    private readonly source: ChainPort,
    private readonly behaviour: Record<string, Behaviour>,
  ) {}

  async status(peer: string): Promise<PeerStatus & { rttMs: number }> {
    const t = this.source.tip();
    return { height: t.height, tip: t.hash, chainwork: t.chainwork, rttMs: peer === 'slow' ? 50 : 1 };
  }

  async headers(peer: string, locator: string[], max: number): Promise<Uint8Array[]> {
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
    for (const hash of hashes) out.push({ hash, bytes: b === 'empty' ? null : ((await this.source.blockBytes(hash)) ?? null) });
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
});
