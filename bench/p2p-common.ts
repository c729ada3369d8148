/**
 * Shared by the p2p benches (propagation, sync) and their node processes: a consortium of
 * member data dirs on easy parameters, a chain opened on a data dir, sealing a block on the
 * main thread (easy targets only), a cross-process clock, and the IPC messages.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { Chain } from '../src/chain/chain.js';
import { Mempool } from '../src/chain/mempool.js';
import { InlineTxVerifier, type TxVerifier } from '../src/chain/tx-verifier.js';
import { MemberRegistry } from '../src/chain/registry.js';
import { genesisBlock, paramsForInterval } from '../src/chain/genesis.js';
import { blockSigningMessage, makeBlock, type Block } from '../src/chain/block.js';
import { encodeHeader, hashHeaderBytes, setNonce } from '../src/chain/header.js';
import { keyId, sign, type KeyPair } from '../src/chain/keys.js';
import type { ConsortiumParams, Genesis, Member } from '../src/chain/types.js';
import { buildTemplate } from '../src/chain/template.js';
import { hashMeetsTarget, targetFromBits } from '../src/consensus/target.js';
import { LevelChainStore } from '../src/storage/index.js';
import { traceRules } from '../src/trace/chain-rules.js';
import { DataDir, FILES } from '../src/node/data-dir.js';
import { makeGenesis } from '../src/node/dev-consortium.js';
import { initMember } from '../src/node/commands/init.js';

/** Cross-process wall clock with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Easiest target, and a schedule the benches never get ahead of: blocks cost a couple of
 * hashes, so what is measured is the network and the chain, not mining.
 */
export function benchParams(): ConsortiumParams {
  return { ...paramsForInterval(10_000), powLimitBits: 0x207fffff, genesisBits: 0x207fffff, asertAnchorResetMs: 365 * 24 * 3_600_000 };
}

export interface BenchConsortium {
  dirs: string[];
  members: Member[];
  genesis: Genesis;
}

/** n member data dirs (role dev) under root, sharing one genesis whose time is `aheadBlocks` intervals back. */
export async function benchConsortium(root: string, n: number, aheadBlocks: number): Promise<BenchConsortium> {
  const params = benchParams();
  const dirs: string[] = [];
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const dir = join(root, `node-${i}`);
    dirs.push(dir);
    members.push(await initMember({ data: dir, name: `bench-${i}`, role: 'dev', prefixes: [], seal: true }));
  }
  const genesis = makeGenesis('tracechain p2p bench', members, Date.now() - (aheadBlocks + 10) * params.blockIntervalMs, params);
  for (const d of dirs) await new DataDir(d).writeGenesis(genesis);
  return { dirs, members, genesis };
}

export interface OpenedChain {
  chain: Chain;
  store: LevelChainStore;
  close(): Promise<void>;
}

export async function openChain(dir: string, genesis: Genesis, logger: Logger, verifier?: TxVerifier): Promise<OpenedChain> {
  const store = await LevelChainStore.open(new DataDir(dir).file(FILES.chain), { logger });
  const rules = traceRules();
  const v = verifier ?? new InlineTxVerifier({ chainId: genesisBlock(genesis).hashHex }, { registry: MemberRegistry.fromGenesis(genesis), rules });
  const chain = await Chain.open({ genesis }, { store, rules, verifier: v, mempool: new Mempool({ maxTxs: 100_000, maxBytes: 1 << 28 }), clock: Date.now, logger });
  return {
    chain,
    store,
    async close() {
      await chain.close();
      await v.close();
      await store.close();
    },
  };
}

/** Seal an empty-or-not block on the tip at `time` (clamped above the median time past). Easy targets only. */
export function sealBlock(chain: Chain, key: KeyPair, time: number): Block {
  const parent = chain.tip;
  const selected = chain.mempool.select(chain.params.maxBlockBytes - 64 * 1024);
  const t = buildTemplate({
    parent,
    mtp: chain.medianTimePast(parent),
    bits: chain.nextBitsAfter(parent),
    now: time,
    sealer: keyId(key.publicKey),
    txs: selected.map((e) => ({ tx: e.tx, id: e.id })),
  });
  const bytes = encodeHeader(t.header);
  const target = targetFromBits(t.header.bits);
  for (let nonce = 0n; ; nonce++) {
    if (nonce > 1_000_000n) throw new Error('the bench chain got too hard to seal on the main thread');
    setNonce(bytes, nonce);
    if (hashMeetsTarget(hashHeaderBytes(bytes), target)) {
      t.header.nonce = nonce;
      break;
    }
  }
  return makeBlock(t.header, sign(key.secretKey, blockSigningMessage(hashHeaderBytes(bytes))), t.txs);
}

/** The compiled node process script (benches run from dist/, or from sources after a build). */
export function nodeScript(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), 'p2p-node.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  let d = dirname(here);
  for (let i = 0; i < 5; i++) {
    const candidate = join(d, 'dist', 'bench', 'p2p-node.js');
    if (existsSync(candidate)) return candidate;
    d = dirname(d);
  }
  throw new Error('cannot find dist/bench/p2p-node.js: run npm run build');
}

/** Parent → node messages. */
export type ToNode =
  | {
      type: 'init';
      dir: string;
      listen: string[];
      bootstrap: string[];
      statusIntervalMs: number;
      /** Report every block connected (off for a bulk sync). */
      reportBlocks: boolean;
      /** Report once, when the tip first reaches this height. */
      reachHeight?: number;
    }
  | { type: 'seal' }
  | { type: 'tx' }
  | { type: 'status' }
  | { type: 'stop' };

/** Node → parent messages. */
export type FromNode =
  | { type: 'ready'; peerId: string; addresses: string[]; height: number; registryHash: string }
  | { type: 'sealed'; hash: string; t: number }
  | { type: 'txSent'; id: string; t: number }
  | { type: 'block'; hash: string; height: number; t: number }
  | { type: 'tx'; id: string; origin: string; t: number }
  | { type: 'progress'; height: number; target: number; syncing: boolean; t: number }
  | { type: 'reached'; height: number; t: number; registryHash: string }
  | { type: 'status'; peers: number; topicPeers: { tx: number; block: number }; height: number; hash: string }
  | { type: 'error'; message: string };
