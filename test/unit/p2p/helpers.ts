/**
 * In-process consortia for p2p tests: N members with real libp2p peer keys, one genesis on
 * easy parameters (blocks on schedule stay at the easiest target, so building one takes a
 * couple of hashes), a Chain per member on its own LevelDB, and a block builder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { generateKeyPair as generatePeerKey } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { Chain } from '../../../src/chain/chain.js';
import { Mempool } from '../../../src/chain/mempool.js';
import { InlineTxVerifier } from '../../../src/chain/tx-verifier.js';
import { MemberRegistry } from '../../../src/chain/registry.js';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { generateKeyPair, keyId, sign, type KeyPair } from '../../../src/chain/keys.js';
import { blockSigningMessage, makeBlock, type Block } from '../../../src/chain/block.js';
import { encodeHeader, hashHeaderBytes, setNonce, type Header } from '../../../src/chain/header.js';
import { merkleRoot } from '../../../src/chain/merkle.js';
import { fromHex, toHex } from '../../../src/common/bytes.js';
import { signTx, txId } from '../../../src/chain/tx.js';
import { hashMeetsTarget, targetFromBits } from '../../../src/consensus/target.js';
import { makeGenesis, memberOf } from '../../../src/node/dev-consortium.js';
import { LevelChainStore } from '../../../src/storage/index.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import type { ConsortiumParams, Genesis, SignedTx } from '../../../src/chain/types.js';
import { TEST_PARAMS, testEventId, testRules } from '../../helpers/chain-fixture.js';
import { waitFor } from '../../helpers/node-process.js';

export const INTERVAL_MS = 1_000;

/** Easy and schedule-neutral: blocks one interval apart stay at the easiest target. */
export const P2P_PARAMS: ConsortiumParams = {
  ...TEST_PARAMS,
  blockIntervalMs: INTERVAL_MS,
  asertHalfLifeMs: 60_000,
  asertAnchorResetMs: 365 * 24 * 3_600_000,
  powLimitBits: 0x207fffff,
  genesisBits: 0x207fffff,
};

export interface TestMember {
  name: string;
  key: KeyPair;
  peerKey: PrivateKey;
  peerId: string;
  chain: Chain;
  store: LevelChainStore;
  dir: string;
}

export interface TestConsortium {
  genesis: Genesis;
  members: TestMember[];
  logger: Logger;
  close(): Promise<void>;
}

export const quietLogger = (): Logger => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Genesis time far enough back that `blocks` blocks one interval apart stay in the past. */
export function genesisTimeFor(blocks: number): number {
  return Date.now() - (blocks + 60) * INTERVAL_MS;
}

export async function makeConsortium(n: number, opts: { genesisTime?: number; extraPeers?: number } = {}): Promise<TestConsortium> {
  const logger = quietLogger();
  const specs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const key = generateKeyPair();
      const peerKey = await generatePeerKey('Ed25519');
      return { name: `m${i}`, key, peerKey, peerId: peerIdFromPrivateKey(peerKey).toString() };
    }),
  );
  const genesis = makeGenesis(
    'p2p-test',
    specs.map((s) => memberOf({ name: s.name, role: 'dev', key: s.key, peerId: s.peerId })),
    opts.genesisTime ?? genesisTimeFor(5_000),
    P2P_PARAMS,
  );
  const members: TestMember[] = [];
  for (const s of specs) {
    const dir = await mkdtemp(join(tmpdir(), 'tracechain-p2p-'));
    const store = await LevelChainStore.open(join(dir, 'chain'));
    const chain = await openChain(genesis, store, logger);
    members.push({ ...s, chain, store, dir });
  }
  return {
    genesis,
    members,
    logger,
    async close() {
      for (const m of members) {
        await m.chain.close();
        if (m.store.isOpen()) await m.store.close();
        await rm(m.dir, { recursive: true, force: true });
      }
    },
  };
}

export async function openChain(genesis: Genesis, store: LevelChainStore, logger: Logger): Promise<Chain> {
  const chainId = genesisBlock(genesis).hashHex;
  const verifier = new InlineTxVerifier({ chainId }, { registry: MemberRegistry.fromGenesis(genesis), rules: testRules });
  return Chain.open({ genesis }, { store, rules: testRules, verifier, mempool: new Mempool({ maxTxs: 10_000, maxBytes: 1 << 26 }), clock: Date.now, logger });
}

/** Build, grind and sign a block on `parent` (default the tip), one interval after it but never in the future. */
export function buildBlock(chain: Chain, key: KeyPair, opts: { parent?: HeaderEntry; txs?: SignedTx[]; badPow?: boolean; /** Added to the time, to make a sibling differ. */ skewMs?: number; intervalMs?: number } = {}): Block {
  const parent = opts.parent ?? chain.tip;
  const txs = opts.txs ?? [];
  const now = Date.now();
  const interval = opts.intervalMs ?? INTERVAL_MS;
  const time = (parent.time + interval <= now ? parent.time + interval : Math.max(parent.time + 1, now)) + (opts.skewMs ?? 0);
  const header: Header = {
    version: 1,
    height: parent.height + 1,
    prevHash: fromHex(parent.hash, 32),
    merkleRoot: merkleRoot(txs.map((t) => txId(t))),
    sealer: keyId(key.publicKey),
    time,
    bits: chain.nextBitsAfter(parent),
    nonce: 0n,
  };
  const bytes = encodeHeader(header);
  const target = targetFromBits(header.bits);
  for (let nonce = 0n; ; nonce++) {
    setNonce(bytes, nonce);
    if (hashMeetsTarget(hashHeaderBytes(bytes), target) !== !!opts.badPow) {
      header.nonce = nonce;
      break;
    }
  }
  return makeBlock(header, sign(key.secretKey, blockSigningMessage(hashHeaderBytes(encodeHeader(header)))), txs);
}

/** Build and import `n` blocks on a member's chain. */
export async function extendChain(m: TestMember, n: number): Promise<Block[]> {
  const out: Block[] = [];
  for (let i = 0; i < n; i++) {
    const b = buildBlock(m.chain, m.key);
    await m.chain.importBlock(b);
    out.push(b);
  }
  return out;
}

let counter = 0;
export function makeTestTx(m: TestMember, epc = `urn:test:${process.pid}:${++counter}`): SignedTx {
  const events = [{ epc, action: 'commission', n: counter }];
  return signTx(
    { v: 1, chain: m.chain.chainId, kind: 'epcis', submitter: toHex(keyId(m.key.publicKey)), time: Date.now(), events, eventIds: events.map(testEventId) },
    m.key.secretKey,
  );
}

/** waitFor (test/helpers) for in-process conditions, polled often. */
export function waitUntil<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  return waitFor(what, async () => check(), timeoutMs, 25);
}
