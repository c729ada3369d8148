/**
 * Audit: re-check every stored main-chain block (links, PoW, bits, time, sealer, merkle root,
 * txs) and every index against the blocks (tx and event locations, EPC history, item state
 * replayed from genesis). Names the first bad block. Reads through the store interface only.
 */
import { BlockError, TxError } from '../common/errors.js';
import { decodeBlock, type Block } from './block.js';
import { genesisBlock } from './genesis.js';
import { toHex, equalBytes } from '../common/bytes.js';
import { checkBody, checkHeader } from './block-checks.js';
import { MemberRegistry } from './registry.js';
import { activateAt, applyGovTx, genesisGovernance } from './governance.js';
import { jcs } from './tx.js';
import { verifyTxSync } from './tx-verifier.js';
import type { TxRules, ItemReader } from './tx-rules-port.js';
import { roleOfKind, type ChainStore, type HeaderEntry, type LotKey, type StoredItem } from './store.js';
import type { Genesis, Member } from './types.js';
import { targetFromBits } from '../consensus/target.js';
import { workFromTarget } from '../consensus/work.js';
import { anchorAfter, genesisAnchor, nextBits, type AsertAnchor } from '../consensus/retarget.js';
import { medianTimePast } from '../consensus/block-time.js';

export interface AuditProblem {
  height: number;
  hash: string | null;
  reason: string;
}

export interface AuditReport {
  ok: boolean;
  tipHeight: number;
  blocksChecked: number;
  txsChecked: number;
  eventsChecked: number;
  itemsChecked: number;
  /** Link records checked (false: the store was written by an older build and the node has not rebuilt them yet). */
  linksChecked: boolean;
  /** 'full': everything; 'snapshot': every header and body, the indexes of a sample of blocks (auditOptions.indexSample). */
  mode: 'full' | 'snapshot';
  /** Blocks whose indexes were compared (all of them in a full audit). */
  indexBlocksChecked: number;
  problem: AuditProblem | null;
}

class AuditFailure extends Error {
  constructor(readonly problem: AuditProblem) {
    super(problem.reason);
  }
}

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return val;
  });
}

export interface AuditOptions {
  /**
   * Check a snapshot instead (a node started from another member's backup): every block's
   * header (links, PoW, bits, time, sealer signature) and body (merkle root, limits), but tx
   * signatures not again, and the indexes only of the blocks at these heights; item state is
   * not replayed. See docs/deploy.md (A new node from a snapshot) for why a sample is enough.
   */
  indexSample?: ReadonlySet<number>;
}

/**
 * Heights to sample: the `recent` newest blocks (what a new node serves first) and `n` more drawn
 * with `random` (inject Math.random, or a seeded generator in tests) from the whole chain.
 */
export function sampleHeights(tip: number, n: number, random: () => number, recent = 32): Set<number> {
  const out = new Set<number>();
  for (let h = Math.max(1, tip - recent + 1); h <= tip; h++) out.add(h);
  const want = Math.min(tip, out.size + n);
  while (out.size < want) {
    // A drawn height already taken moves to the next free one, so any `random` terminates.
    let h = 1 + Math.min(tip - 1, Math.floor(random() * tip));
    while (out.has(h)) h = (h % tip) + 1;
    out.add(h);
  }
  return out;
}

export async function auditChain(
  store: ChainStore,
  genesis: Genesis,
  rules: TxRules,
  onProgress?: (done: number, total: number) => void,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const sample = options.indexSample;
  let governance = genesisGovernance(genesis);
  let registry = MemberRegistry.fromGenesis(genesis);
  const params = genesis.params;
  const limits = { maxBlockBytes: params.maxBlockBytes, maxTxBytes: params.maxTxBytes, maxEventsPerTx: params.maxEventsPerTx };
  const gBlock = genesisBlock(genesis);
  const chainId = gBlock.hashHex;
  const report: AuditReport = { ok: false, tipHeight: 0, blocksChecked: 0, txsChecked: 0, eventsChecked: 0, itemsChecked: 0, linksChecked: store.linksReady(), mode: sample ? 'snapshot' : 'full', indexBlocksChecked: 0, problem: null };
  /** Every link record the blocks make (one event makes at most one per item and role). */
  const linkKeys = new Set<string>();

  const items = new Map<string, StoredItem>();
  const lots = new Set<string>();
  const lotKey = (l: LotKey): string => `${l.gtin}\u0000${l.lot}`;
  const reader: ItemReader = {
    getItem: async (k) => items.get(k),
    isLotRecalled: async (l) => lots.has(lotKey(l)),
  };
  const fail = (height: number, hash: string | null, reason: string): never => {
    throw new AuditFailure({ height, hash, reason });
  };

  try {
    const tipHash = await store.getTip();
    if (!tipHash) fail(0, null, 'no tip pointer: the store is empty or damaged');
    const tipHeightHex = tipHash as string;
    // Find the tip's height from the main-chain index by walking back from its block.
    const tipBytes = await store.getBlockBytes(tipHeightHex);
    if (!tipBytes) fail(-1, tipHeightHex, 'the tip block is missing');
    const tipHeight = tipHeightHex === chainId ? 0 : decodeBlock(tipBytes as Uint8Array, limits).header.height;
    report.tipHeight = tipHeight;

    let anchor: AsertAnchor = genesisAnchor(genesis);
    const times: number[] = [genesis.time];
    let parent: HeaderEntry = {
      hash: chainId,
      height: 0,
      prevHash: toHex(gBlock.header.prevHash),
      time: genesis.time,
      bits: params.genesisBits,
      chainwork: workFromTarget(targetFromBits(params.genesisBits)),
      status: 'stored',
    };
    const main0 = await store.getMainHash(0);
    if (main0 !== chainId) fail(0, main0 ?? null, 'main chain at height 0 is not this consortium’s genesis');

    for (let height = 1; height <= tipHeight; height++) {
      const hash = await store.getMainHash(height);
      if (!hash) fail(height, null, 'main-chain index has no block at this height');
      const bytes = await store.getBlockBytes(hash as string);
      if (!bytes) fail(height, hash as string, 'block is in the main-chain index but not stored');
      let block: Block;
      try {
        block = decodeBlock(bytes as Uint8Array, limits);
      } catch (err) {
        return fail(height, hash as string, `stored block does not decode: ${(err as Error).message}`);
      }
      if (block.hashHex !== hash) fail(height, hash as string, `stored block hashes to ${block.hashHex}, not its key`);
      if (toHex(block.header.prevHash) !== parent.hash) fail(height, hash as string, 'prevHash does not link to the previous main-chain block');
      // The registry at this height: the changes due here applied (chain/governance.ts).
      registry = new MemberRegistry(activateAt(governance, height, chainId), height);
      governance = registry.state;
      try {
        checkHeader(block, {
          parent,
          mtp: medianTimePast(times.slice(-11)),
          expectedBits: nextBits(params, anchor, parent),
          now: Number.MAX_SAFE_INTEGER,
          params,
          registry,
        });
        checkBody(block, params);
        for (const [i, tx] of block.txs.entries()) {
          // A snapshot's sample check trusts tx signatures (docs/deploy.md), never the member set:
          // governance txs are applied either way, so each header's sealer is judged at its height.
          if (!sample) verifyTxSync(tx, chainId, registry, rules, block.txIds[i]);
          if (tx.gov !== undefined) governance = applyGovTx(governance, tx.gov, { chainId, height, txId: toHex(block.txIds[i] as Uint8Array), submitter: tx.submitter });
        }
      } catch (err) {
        if (err instanceof BlockError || err instanceof TxError) fail(height, hash as string, err.message);
        throw err;
      }
      if (!sample || sample.has(height)) {
        const problem = await checkBlockIndexes(store, block, height, rules, report.linksChecked, (k) => linkKeys.add(k));
        if (problem !== undefined) fail(height, hash as string, problem);
        report.indexBlocksChecked++;
      }
      for (const tx of block.txs) {
        if (sample) {
          report.eventsChecked += tx.eventIds.length;
          report.txsChecked++;
          continue;
        }
        for (const [j, eventId] of tx.eventIds.entries()) {
          const event = tx.events[j] as Record<string, unknown>;
          const effects = await rules.applyEvent(reader, { event, eventId, submitter: registry.get(tx.submitter) as Member, blockTime: block.header.time });
          for (const it of effects.items) items.set(it.key, it);
          for (const l of effects.recalledLots) lots.add(lotKey(l));
          report.eventsChecked++;
        }
        report.txsChecked++;
      }
      anchor = anchorAfter(params, anchor, { height, time: block.header.time, bits: block.header.bits }, parent.time);
      times.push(block.header.time);
      if (times.length > 11) times.shift();
      parent = { ...parent, hash: block.hashHex, height, prevHash: parent.hash, time: block.header.time, bits: block.header.bits };
      report.blocksChecked++;
      onProgress?.(height, tipHeight);
    }
    // The stored registry (governance state) must equal a replay of the chain's governance txs
    // (a snapshot's sample check too: the member set is what every later check trusts).
    const storedGov = (await store.getGovernance()) ?? jcs(genesisGovernance(genesis));
    if (storedGov !== jcs(governance)) fail(tipHeight, tipHash as string, 'the stored member registry (governance state) differs from a replay of the chain');
    if (sample) {
      report.ok = true;
      return report;
    }
    // Item state replayed from the blocks must equal what the store holds.
    for (const [key, item] of items) {
      const stored = await store.getItem(key);
      if (!stored || canonicalJson(stored) !== canonicalJson(item)) fail(tipHeight, tipHash as string, `item state for ${key} differs from a replay of the chain`);
      report.itemsChecked++;
    }
    for (const l of lots) {
      const [gtin, lot] = l.split('\u0000') as [string, string];
      if (!(await store.isLotRecalled({ gtin, lot }))) fail(tipHeight, tipHash as string, `recall of lot ${lot} of ${gtin} missing from the index`);
    }
    if (report.linksChecked) {
      const stored = await store.countLinks();
      if (stored !== linkKeys.size) fail(tipHeight, tipHash as string, `the links index holds ${stored} records, the main chain makes ${linkKeys.size}`);
    }
    report.ok = true;
    return report;
  } catch (err) {
    if (err instanceof AuditFailure) {
      report.problem = err.problem;
      return report;
    }
    report.problem = { height: report.blocksChecked + 1, hash: null, reason: `store could not be read: ${(err as Error).message}` };
    return report;
  }
}

/**
 * Check one main-chain block's index entries against the block: its proof records (per-tx
 * copies), tx and event locations, EPC history and link records. Returns the first problem, or
 * undefined. `onLink` receives a key per link record the block makes (audit counts them).
 */
export async function checkBlockIndexes(
  store: ChainStore,
  block: Block,
  height: number,
  rules: TxRules,
  checkLinks: boolean,
  onLink?: (key: string) => void,
): Promise<string | undefined> {
  const hash = block.hashHex;
  // The per-tx copies written with the block for proofs (absent for blocks stored by older builds).
  const record = await store.getBlockTxIds(hash);
  if (record !== undefined) {
    const expected = new Uint8Array(block.headerBytes.length + 32 * block.txIds.length);
    expected.set(block.headerBytes, 0);
    block.txIds.forEach((id, i) => expected.set(id, block.headerBytes.length + 32 * i));
    if (!equalBytes(record, expected)) return 'its stored tx-ID record (proof material) differs from the block';
    for (const [i, bytes] of block.txBytes.entries()) {
      const copy = await store.getBlockTx(hash, i);
      if (!copy || !equalBytes(copy, bytes)) return `its stored copy of tx ${i} (for proofs) differs from the block`;
    }
  }
  for (const [i, tx] of block.txs.entries()) {
    const id = toHex(block.txIds[i] as Uint8Array);
    const loc = await store.getTxLocation(id);
    if (!loc || loc.blockHash !== hash || loc.height !== height || loc.index !== i) return `tx index wrong for tx ${id}`;
    for (const [j, eventId] of tx.eventIds.entries()) {
      const eloc = await store.getEventLocation(eventId);
      if (!eloc || eloc.txId !== id || eloc.index !== j) return `event index wrong for ${eventId}`;
      const event = tx.events[j] as Record<string, unknown>;
      for (const key of new Set(rules.itemKeysOf(event))) {
        const hist = await store.history(key, { after: { key, height, txIndex: i, eventIndex: j - 1, eventId: '' }, limit: 1 });
        const h = hist[0];
        if (!h || h.height !== height || h.txIndex !== i || h.eventIndex !== j || h.eventId !== eventId) return `EPC history missing for ${key} at event ${eventId}`;
      }
      if (checkLinks) {
        for (const l of rules.linksOf(event)) {
          const role = roleOfKind(l.kind);
          const [got] = await store.links(l.key, role, { after: { height, txIndex: i, eventIndex: j - 1 }, upTo: { height, txIndex: i, eventIndex: j }, limit: 1 });
          if (!got || got.kind !== l.kind || got.other !== l.other) return `link record (${l.kind}${l.other ? ` ${l.other}` : ''}) missing or wrong for ${l.key} at event ${eventId}`;
          onLink?.(`${l.key}\u0000${role}\u0000${height}:${i}:${j}`);
        }
      }
    }
  }
  return undefined;
}
