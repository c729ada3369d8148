/**
 * The network with real libp2p hosts on loopback, several members in one process (each with
 * its own chain and store): tx and block gossip, headers-first sync of a new member, a 2|1
 * partition that heals with the losing side's tx back in the pools, a stranger refused, and a
 * member that gossips an invalid block scored down, disconnected and refused.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src/p2p/host.js';
import { chainPort, type ChainPort } from '../../src/p2p/chain-port.js';
import { P2PNetwork, type NetworkOptions } from '../../src/p2p/network.js';
import { topicsFor } from '../../src/p2p/gossip.js';
import { wireChainToNetwork } from '../../src/node/network.js';
import { generateSwarmKey, parseSwarmKey } from '../../src/p2p/swarm-key.js';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { encodeBlock } from '../../src/chain/block.js';
import { toHex } from '../../src/common/bytes.js';
import { txId } from '../../src/chain/tx.js';
import type { TxOrigin } from '../../src/chain/chain.js';
import { buildBlock, extendChain, makeConsortium, makeTestTx, waitUntil, type TestConsortium } from '../unit/p2p/helpers.js';

interface Running {
  net: P2PNetwork;
  port: ChainPort;
  stop(): Promise<void>;
}

const running: Running[] = [];
const hosts: Host[] = [];
const consortia: TestConsortium[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const h of hosts.splice(0)) await h.stop();
  for (const c of consortia.splice(0)) await c.close();
});
afterAll(async () => {
  for (const c of consortia.splice(0)) await c.close();
});

async function consortium(n: number): Promise<TestConsortium> {
  const c = await makeConsortium(n);
  consortia.push(c);
  return c;
}

async function startNet(c: TestConsortium, i: number, bootstrap: string[], opts: Partial<NetworkOptions> = {}): Promise<Running> {
  const m = c.members[i]!;
  const port = chainPort(m.chain);
  const net = await P2PNetwork.create(
    { privateKey: m.peerKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, redialIntervalMs: 300, sync: { statusIntervalMs: 500 }, ...opts },
    { chain: port, logger: c.logger },
  );
  await net.start();
  const unwire = wireChainToNetwork(m.chain, net);
  const r: Running = {
    net,
    port,
    async stop() {
      unwire();
      await net.stop();
      port.dispose();
    },
  };
  running.push(r);
  return r;
}

/** Start members 0..n-1, each dialling every one started before it (a full mesh). */
async function startMesh(c: TestConsortium, n: number): Promise<Running[]> {
  const out: Running[] = [];
  for (let i = 0; i < n; i++) out.push(await startNet(c, i, out.flatMap((r) => r.net.addresses())));
  await waitUntil('a full mesh', () => out.every((r) => r.net.peerCount() === n - 1 && r.net.topicPeers().tx === n - 1 && r.net.topicPeers().block === n - 1));
  return out;
}

describe('in-process network', () => {
  it('gossips a tx to every mempool and a sealed block to every chain', async () => {
    const c = await consortium(3);
    const nets = await startMesh(c, 3);
    const [a, b, d] = c.members;
    const tx = makeTestTx(a!);
    await a!.chain.submitTx(tx);
    const id = toHex(txId(tx));
    await waitUntil('the tx in every mempool', () => b!.chain.mempool.has(id) && d!.chain.mempool.has(id), 10_000);

    const block = buildBlock(a!.chain, a!.key, { txs: [tx] });
    await a!.chain.importBlock(block);
    expect(await nets[0]!.net.publishBlock(encodeBlock(block))).toBeGreaterThan(0);
    await waitUntil('the block on every chain', () => b!.chain.tip.hash === block.hashHex && d!.chain.tip.hash === block.hashHex, 10_000);
    expect(b!.chain.mempool.has(id)).toBe(false);
    expect(nets[1]!.net.gossipCounters().block.accept).toBe(1);
    const view = nets[1]!.net.peers();
    expect(view.map((p) => p.name).sort()).toEqual(['m0', 'm2']);
    expect(view[0]).toMatchObject({ role: 'dev', tip: expect.any(Object) });
  });

  it('a member started empty syncs hundreds of blocks headers-first from several peers', async () => {
    const c = await consortium(4);
    const [a, b, d, late] = c.members;
    await extendChain(a!, 450);
    // Give b and d the same chain so bodies can come from three peers.
    for (const m of [b!, d!]) {
      for (let h = 1; h <= 450; h++) {
        const hash = (await a!.store.getMainHash(h)) as string;
        await m.chain.importBlockBytes((await a!.store.getBlockBytes(hash)) as Uint8Array);
      }
    }
    const nets = await startMesh(c, 3);
    const progress: number[] = [];
    const n = await startNet(
      c,
      3,
      nets.flatMap((r) => r.net.addresses()),
      { sync: { statusIntervalMs: 500, blocksPerRequest: 16 } },
    );
    n.net.on('progress', (p) => progress.push(p.height));
    await waitUntil('the late member at the tip', () => late!.chain.tip.hash === a!.chain.tip.hash, 30_000);
    expect(late!.chain.tip.height).toBe(450);
    expect(n.net.synced()).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('partition 2|1: both sides seal, heal, all converge on more work; the losing tx returns to the pools', async () => {
    const c = await consortium(3);
    const nets = await startMesh(c, 3);
    const [a, b, lone] = c.members;
    await extendChain(a!, 3);
    for (const blk of [1, 2, 3]) {
      const hash = (await a!.store.getMainHash(blk)) as string;
      await nets[0]!.net.publishBlock((await a!.store.getBlockBytes(hash)) as Uint8Array);
    }
    await waitUntil('everyone at height 3', () => c.members.every((m) => m.chain.tip.height === 3), 10_000);

    const ab = [a!.peerId, b!.peerId];
    nets[2]!.net.setBlocked(ab);
    nets[0]!.net.setBlocked([lone!.peerId]);
    nets[1]!.net.setBlocked([lone!.peerId]);
    await waitUntil('the partition', () => nets[2]!.net.peerCount() === 0 && nets[0]!.net.peerCount() === 1, 10_000);

    // The lone side seals one block holding a tx; the majority seals three.
    const tx = makeTestTx(lone!);
    await lone!.chain.submitTx(tx);
    const id = toHex(txId(tx));
    const loneBlock = buildBlock(lone!.chain, lone!.key, { txs: [tx] });
    await lone!.chain.importBlock(loneBlock);
    expect(lone!.chain.mempool.has(id)).toBe(false);
    for (let i = 0; i < 3; i++) {
      const blk = buildBlock(a!.chain, a!.key);
      await a!.chain.importBlock(blk);
      await nets[0]!.net.publishBlock(encodeBlock(blk));
    }
    await waitUntil('b follows a', () => b!.chain.tip.hash === a!.chain.tip.hash, 10_000);
    expect(a!.chain.mempool.has(id)).toBe(false);

    const origins: TxOrigin[] = [];
    lone!.chain.on('tx', (_t, txid, origin) => {
      if (txid === id) origins.push(origin);
    });
    for (const r of nets) r.net.setBlocked([]);
    await waitUntil('all on the heavier chain', () => c.members.every((m) => m.chain.tip.hash === a!.chain.tip.hash), 20_000);
    expect(await lone!.chain.isMain(lone!.chain.header(loneBlock.hashHex)!)).toBe(false);
    expect(origins).toContain('reorg');
    expect(lone!.chain.mempool.has(id)).toBe(true);
    // The lone member seals it again on the winning chain; everyone gets it on chain.
    const again = buildBlock(lone!.chain, lone!.key, { txs: [tx] });
    await lone!.chain.importBlock(again);
    await nets[2]!.net.publishBlock(encodeBlock(again));
    await waitUntil('the tx on everyone\'s chain', () => c.members.every((m) => m.chain.tip.hash === again.hashHex), 10_000);
    expect(lone!.chain.mempool.has(id)).toBe(false);
  });

  it('with a swarm key, only nodes holding the same key connect', async () => {
    const c = await consortium(3);
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startNet(c, 0, [], { swarmKey: key });
    const other = await startNet(c, 1, a.net.addresses(), { swarmKey: parseSwarmKey(generateSwarmKey()) });
    const same = await startNet(c, 2, a.net.addresses(), { swarmKey: key });
    await waitUntil('the node with the same key connected', () => same.net.peerCount() === 1);
    await new Promise((r) => setTimeout(r, 700));
    expect(other.net.peerCount()).toBe(0);
    expect(a.net.peers().map((p) => p.name)).toEqual(['m2']);
  });

  it('a stranger cannot connect or publish', async () => {
    const c = await consortium(2);
    const [net] = await startMesh(c, 1);
    const stranger = await createHost({
      privateKey: await generateKeyPair('Ed25519'),
      listen: [],
      gater: {},
      topics: Object.values(topicsFor(c.members[0]!.chain.chainId)),
      maxMessageBytes: 1 << 20,
      maxConnections: 8,
    });
    hosts.push(stranger);
    await stranger.start();
    const topics = topicsFor(c.members[0]!.chain.chainId);
    stranger.services.pubsub.subscribe(topics.block);
    // The dial may complete on the stranger's side before the member refuses it; it never lasts.
    await stranger.dial(multiaddr(net!.net.addresses()[0]!), { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    await waitUntil('the stranger alone', () => stranger.getConnections().length === 0, 5_000);
    const blk = buildBlock(c.members[0]!.chain, c.members[0]!.key);
    const r = await stranger.services.pubsub.publish(topics.block, encodeBlock(blk));
    expect(r.recipients).toHaveLength(0);
    expect(net!.net.peerCount()).toBe(0);
    expect(net!.net.gossipCounters().block).toEqual({ accept: 0, ignore: 0, reject: 0 });
    expect(c.members[0]!.chain.tip.height).toBe(0);
  });

  it('a member that gossips an invalid block is scored down, disconnected and refused', async () => {
    const c = await consortium(2);
    const [honest] = await startMesh(c, 1);
    const bad = c.members[1]!;
    const topics = topicsFor(bad.chain.chainId);
    const rogue = await createHost({ privateKey: bad.peerKey, listen: [], gater: {}, topics: Object.values(topics), maxMessageBytes: 1 << 20, maxConnections: 8 });
    hosts.push(rogue);
    await rogue.start();
    rogue.services.pubsub.subscribe(topics.block);
    await rogue.dial(multiaddr(honest!.net.addresses()[0]!), { signal: AbortSignal.timeout(5_000) });
    await waitUntil('the honest node subscribed, as seen by the rogue', () => rogue.services.pubsub.getSubscribers(topics.block).length === 1, 10_000);
    expect(honest!.net.peerCount()).toBe(1);

    const invalid = buildBlock(bad.chain, bad.key, { badPow: true });
    await rogue.services.pubsub.publish(topics.block, encodeBlock(invalid));
    await waitUntil('the rogue banned and gone', () => honest!.net.banned().some((b) => b.peerId === bad.peerId) && honest!.net.peerCount() === 0, 10_000);
    expect(honest!.net.gossipCounters().block.reject).toBe(1);
    expect(honest!.net.scores.score(bad.peerId)).toBeLessThan(-90);
    expect(c.members[0]!.chain.tip.height).toBe(0);
    // Refused while banned.
    await rogue.dial(multiaddr(honest!.net.addresses()[0]!), { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(honest!.net.peerCount()).toBe(0);
  });
});
