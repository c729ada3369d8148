/**
 * Test fixtures for chain tests: a small consortium on easy regtest-like parameters, a real
 * LevelDB store in a temp dir, a deterministic clock, and a block builder that grinds a
 * valid nonce. TestRules is a tiny, fully deterministic EPCIS stand-in (item = event.epc).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Chain } from '../../src/chain/chain.js';
import { Mempool } from '../../src/chain/mempool.js';
import { InlineTxVerifier } from '../../src/chain/tx-verifier.js';
import { MemberRegistry } from '../../src/chain/registry.js';
import { genesisBlock, DEV_PARAMS } from '../../src/chain/genesis.js';
import { generateKeyPair, keyId, sign, type KeyPair } from '../../src/chain/keys.js';
import { blockSigningMessage, makeBlock, type Block } from '../../src/chain/block.js';
import { encodeHeader, hashHeaderBytes, setNonce, type Header } from '../../src/chain/header.js';
import { merkleRoot } from '../../src/chain/merkle.js';
import { TxError } from '../../src/common/errors.js';
import { fromHex, toHex, utf8 } from '../../src/common/bytes.js';
import { sha256 } from '../../src/chain/sha256.js';
import { governanceTxBody, jcs, signTx, txId } from '../../src/chain/tx.js';
import { targetFromBits, hashMeetsTarget } from '../../src/consensus/target.js';
import { memberOf, makeGenesis } from '../../src/node/dev-consortium.js';
import { LevelChainStore } from '../../src/storage/index.js';
import type { HeaderEntry } from '../../src/chain/store.js';
import type { ItemReader, TxRules } from '../../src/chain/tx-rules-port.js';
import type { TxLog } from '../../src/chain/tx-log.js';
import type { ConsortiumParams, Genesis, GovAction, Role, SignedTx } from '../../src/chain/types.js';

export const TEST_PARAMS: ConsortiumParams = {
  ...DEV_PARAMS,
  blockIntervalMs: 10_000,
  asertHalfLifeMs: 1_000,
  asertAnchorResetMs: 3_600_000,
  powLimitBits: 0x207fffff,
  genesisBits: 0x207fffff,
  futureWindowMs: 60_000,
  maxBlockBytes: 64 * 1024,
  maxTxBytes: 16 * 1024,
  maxEventsPerTx: 50,
};

export const GENESIS_TIME = 1_700_000_000_000;

export function testEventId(event: Record<string, unknown>): string {
  return `ni:///sha-256;${toHex(sha256(utf8.encode(jcs(event))))}?ver=CBV2.0`;
}

/** Deterministic stand-in for the EPCIS rules: event = {epc, action}, ID = SHA-256(JCS(event)). */
export const testRules: TxRules = {
  checkEvents(tx) {
    tx.events.forEach((e, i) => {
      if (testEventId(e) !== tx.eventIds[i]) throw new TxError('BAD_EVENT_ID', `event ${i} does not hash to its ID`, { problems: [{ path: `/events/${i}`, message: 'does not hash to its ID' }] });
    });
  },
  checkRoles(tx, member) {
    // Stand-in role rule: a member with role 'regulator' records nothing.
    if (member.role === 'regulator' && tx.events.length > 0) throw new TxError('ROLE_VIOLATION', 'a regulator records no events', { problems: [{ path: '/events/0', message: 'a regulator records no events' }] });
  },
  itemKeysOf(event) {
    return typeof event.epc === 'string' ? [event.epc] : [];
  },
  linksOf(event) {
    // {epc, action: 'pack', into}: the item goes into a container; a dispense makes it leave.
    if (typeof event.epc !== 'string') return [];
    if (event.action === 'pack' && typeof event.into === 'string') return [{ key: event.epc, kind: 'in', other: event.into }];
    if (event.action === 'dispense') return [{ key: event.epc, kind: 'left' }];
    return [];
  },
  async applyEvent(reader: ItemReader, { event, eventId }) {
    if (typeof event.epc !== 'string') return { items: [], recalledLots: [] };
    const prev = await reader.getItem(event.epc);
    let status = event.action === 'dispense' ? 'dispensed' : 'active';
    if (event.action === 'dispense' && prev?.status === 'dispensed') status = 'suspect';
    return { items: [{ key: event.epc, status, lastEventId: eventId }], recalledLots: [] };
  },
};

export interface Fixture {
  genesis: Genesis;
  chain: Chain;
  store: LevelChainStore;
  sealer: KeyPair;
  outsider: KeyPair;
  nonSealer: KeyPair;
  clock: { now: number };
  dir: string;
  close(): Promise<void>;
  reopen(): Promise<Chain>;
}

/** Optional parts of the fixture's chain; read at each (re)open, so a test may swap them before reopen(). */
export interface FixtureOptions {
  /** The tx rules (default testRules); e.g. the real EPCIS rules for proofs of real events. */
  rules?: TxRules;
  txLog?: TxLog;
  /** More genesis members after the sealer and the observer (e.g. a manufacturer owning a GS1 prefix). */
  extraMembers?: { name: string; role: Role; key: KeyPair; gs1CompanyPrefixes?: string[]; canSeal?: boolean }[];
}

export async function makeFixture(params: ConsortiumParams = TEST_PARAMS, opts: FixtureOptions = {}): Promise<Fixture> {
  const rules = opts.rules ?? testRules;
  const sealer = generateKeyPair();
  const nonSealer = generateKeyPair();
  const outsider = generateKeyPair();
  const genesis = makeGenesis(
    'test',
    [
      memberOf({ name: 'sealer', role: 'dev', key: sealer, peerId: 'peer-sealer' }),
      memberOf({ name: 'observer', role: 'pharmacy', key: nonSealer, peerId: 'peer-observer', canSeal: false }),
      ...(opts.extraMembers ?? []).map((m, i) => memberOf({ name: m.name, role: m.role, key: m.key, peerId: `peer-extra-${i}`, gs1CompanyPrefixes: m.gs1CompanyPrefixes ?? [], canSeal: m.canSeal ?? false })),
    ],
    GENESIS_TIME,
    params,
  );
  const dir = await mkdtemp(join(tmpdir(), 'tracechain-chain-'));
  const clock = { now: GENESIS_TIME + 1_000_000_000 };
  const logger = pino({ level: 'silent' });
  let store = await LevelChainStore.open(join(dir, 'chain'));
  const open = async (): Promise<Chain> => {
    const chainId = genesisBlock(genesis).hashHex;
    const verifier = new InlineTxVerifier({ chainId }, { registry: MemberRegistry.fromGenesis(genesis), rules });
    return Chain.open({ genesis }, { store, rules, verifier, mempool: new Mempool({ maxTxs: 1000, maxBytes: 1 << 24 }), clock: () => clock.now, logger, ...(opts.txLog ? { txLog: opts.txLog } : {}) });
  };
  const fx: Fixture = {
    genesis,
    chain: await open(),
    store,
    sealer,
    nonSealer,
    outsider,
    clock,
    dir,
    async close() {
      if (store.isOpen()) await store.close();
      await rm(dir, { recursive: true, force: true });
    },
    async reopen() {
      await store.close();
      store = await LevelChainStore.open(join(dir, 'chain'));
      fx.store = store;
      fx.chain = await open();
      return fx.chain;
    },
  };
  return fx;
}

let txCounter = 0;
/** A signed tx of `events`; their IDs are testEventId's unless given (e.g. CBV 2.0 IDs for the real rules). */
export function makeTx(fx: Fixture, events: Record<string, unknown>[], key: KeyPair = fx.sealer, eventIds: string[] = events.map(testEventId)): SignedTx {
  return signTx(
    { v: 1, chain: fx.chain.chainId, kind: 'epcis', submitter: toHex(keyId(key.publicKey)), time: GENESIS_TIME + ++txCounter, events, eventIds },
    key.secretKey,
  );
}

/** A signed governance tx (chain/governance.ts) by `key`. */
export function makeGovTx(fx: Fixture, gov: GovAction, key: KeyPair = fx.sealer): SignedTx {
  return signTx(governanceTxBody(fx.chain.chainId, toHex(keyId(key.publicKey)), GENESIS_TIME + ++txCounter, gov), key.secretKey);
}

export interface BlockSpec {
  parent?: HeaderEntry;
  txs?: SignedTx[];
  /** Offset from the parent's time (default: the block interval). */
  dt?: number;
  time?: number;
  key?: KeyPair;
  bits?: number;
  height?: number;
  mutateHeader?: (h: Header) => void;
  /** Grind for a nonce whose hash MISSES the target (for bad-PoW tests). */
  badPow?: boolean;
}

/** Build, grind and sign a block on a parent (default: the tip). */
export function buildBlock(fx: Fixture, spec: BlockSpec = {}): Block {
  const parent = spec.parent ?? fx.chain.tip;
  const txs = spec.txs ?? [];
  const key = spec.key ?? fx.sealer;
  const header: Header = {
    version: 1,
    height: spec.height ?? parent.height + 1,
    prevHash: fromHex(parent.hash, 32),
    merkleRoot: merkleRoot(txs.map((t) => txId(t))),
    sealer: keyId(key.publicKey),
    time: spec.time ?? parent.time + (spec.dt ?? fx.genesis.params.blockIntervalMs),
    bits: spec.bits ?? fx.chain.nextBitsAfter(parent),
    nonce: 0n,
  };
  spec.mutateHeader?.(header);
  const bytes = encodeHeader(header);
  const target = targetFromBits(header.bits);
  for (let n = 0n; ; n++) {
    setNonce(bytes, n);
    if (hashMeetsTarget(hashHeaderBytes(bytes), target) !== !!spec.badPow) {
      header.nonce = n;
      break;
    }
  }
  const hash = hashHeaderBytes(encodeHeader(header));
  return makeBlock(header, sign(key.secretKey, blockSigningMessage(hash)), txs);
}

/** Build and import `n` empty blocks on the tip. */
export async function extend(fx: Fixture, n: number, spec: Omit<BlockSpec, 'parent'> = {}): Promise<Block[]> {
  const out: Block[] = [];
  for (let i = 0; i < n; i++) {
    const b = buildBlock(fx, spec);
    await fx.chain.importBlock(b);
    out.push(b);
  }
  return out;
}
