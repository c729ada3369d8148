/**
 * Audit: re-check every stored main-chain block (links, PoW, bits, time, sealer, merkle root,
 * txs) and every index against the blocks (tx and event locations, EPC history, item state
 * replayed from genesis). Names the first bad block. Reads through the store interface only.
 */
import { BlockError, TxError } from '../common/errors.js';
import { decodeBlock, type Block } from './block.js';
import { decodeHeader, HEADER_SIZE } from './header.js';
import { genesisBlock } from './genesis.js';
import { toHex, equalBytes, utf8 } from '../common/bytes.js';
import { checkBody, checkHeader } from './block-checks.js';
import { MemberRegistry } from './registry.js';
import { activateAt, applyGovTx, genesisGovernance } from './governance.js';
import { jcs } from './tx.js';
import { verifyTxSync, type TxVerifier } from './tx-verifier.js';
import { RecordReplay } from './record-replay.js';
import type { TxRules, ItemReader } from './tx-rules-port.js';
import { roleOfKind, type ChainStore, type HeaderEntry, type LinkRole, type LotKey, type StoredItem } from './store.js';
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
  /** Alert and pack records recomputed from the blocks and compared with the store (0 without alert rules, or in a snapshot check). */
  recordsChecked: number;
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
  /**
   * Where tx signatures and events are verified (the CPU-heavy part: a signature and a CBV 2.0
   * hash per event): a worker pool (chain/verifier-pool.ts) runs them on other cores while this
   * thread reads the next blocks, compares the indexes and replays item state. Without it they
   * run here, one tx after another.
   */
  verifier?: TxVerifier;
}

/** Blocks read ahead of the one being checked (each at most maxBlockBytes in memory). */
const READ_AHEAD = 4;
/** Items compared with the store per read at the end. */
const ITEM_BATCH = 1024;

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

interface BlockRead {
  hash: string | undefined;
  bytes: Uint8Array | undefined;
  /** The store could not give the block's bytes (e.g. a stored tx record that does not decompress). */
  error?: unknown;
}

/** A store error that names damaged bytes (storage's StorageCorruptionError: code CORRUPTION), as opposed to an I/O failure. */
/** A stored block's height: from its header in the tx-ID record, else from the whole block. */
async function heightOfStored(store: ChainStore, hash: string, limits: Parameters<typeof decodeBlock>[1], fail: (height: number, hash: string | null, reason: string) => never): Promise<number> {
  const record = await store.getBlockTxIds(hash);
  if (record !== undefined && record.length >= HEADER_SIZE) return decodeHeader(record.subarray(0, HEADER_SIZE)).height;
  const bytes = await store.getBlockBytes(hash);
  if (!bytes) return fail(-1, hash, 'the tip block is missing');
  return decodeBlock(bytes, limits).header.height;
}

function isCorruption(err: unknown): err is Error {
  return err instanceof Error && (err as { code?: unknown }).code === 'CORRUPTION';
}

/** The first tx whose ID differs from the block's stored tx-ID record (header ‖ IDs), to name it. */
function firstTxIdMismatch(record: Uint8Array | undefined, block: Block): number | undefined {
  if (record === undefined) return undefined;
  for (const [i, id] of block.txIds.entries()) {
    const off = block.headerBytes.length + 32 * i;
    if (off + 32 > record.length || !equalBytes(record.subarray(off, off + 32), id)) return i;
  }
  return undefined;
}

export async function auditChain(
  store: ChainStore,
  genesis: Genesis,
  rules: TxRules,
  onProgress?: (done: number, total: number) => void,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const sample = options.indexSample;
  const verifier = options.verifier;
  let governance = genesisGovernance(genesis);
  let registry = MemberRegistry.fromGenesis(genesis);
  const params = genesis.params;
  const limits = { maxBlockBytes: params.maxBlockBytes, maxTxBytes: params.maxTxBytes, maxEventsPerTx: params.maxEventsPerTx };
  const gBlock = genesisBlock(genesis);
  const chainId = gBlock.hashHex;
  const report: AuditReport = { ok: false, tipHeight: 0, blocksChecked: 0, txsChecked: 0, eventsChecked: 0, itemsChecked: 0, recordsChecked: 0, linksChecked: store.linksReady(), mode: sample ? 'snapshot' : 'full', indexBlocksChecked: 0, problem: null };
  /** Every link record the blocks make (one event makes at most one per item and role). */
  const linkKeys = new Set<string>();

  const items = new Map<string, StoredItem>();
  const lots = new Set<string>();
  const lotKey = (l: LotKey): string => `${l.gtin}\u0000${l.lot}`;
  const reader: ItemReader = {
    getItem: async (k) => items.get(k),
    isLotRecalled: async (l) => lots.has(lotKey(l)),
  };
  // Alert and pack records, recomputed by the connect step over memory (chain/record-replay.ts).
  const replay = rules.alerts !== undefined && !sample ? new RecordReplay(rules.alerts) : undefined;
  const fail = (height: number, hash: string | null, reason: string): never => {
    throw new AuditFailure({ height, hash, reason });
  };
  /** The verifier's first rejected tx of a block fails that block, with the verifier's reason. */
  const failOnTxError = async (verdicts: Promise<(TxError | null)[]>, height: number, hash: string): Promise<void> => {
    try {
      await firstTxError(verdicts);
    } catch (err) {
      if (err instanceof TxError) fail(height, hash, err.message);
      throw err;
    }
  };
  /** Reads started ahead (bounded by READ_AHEAD); each settles to a BlockRead, never rejects. */
  const reads = new Map<number, Promise<BlockRead>>();

  try {
    const tipHash = await store.getTip();
    if (!tipHash) fail(0, null, 'no tip pointer: the store is empty or damaged');
    const tipHeightHex = tipHash as string;
    // The tip's height from its header alone (its stored tx-ID record), so that a tip whose txs
    // are damaged is named in the loop below like any other block (reading the whole tip here
    // once reported such damage as "store could not be read" at block 1). A block stored by a
    // build without that record is read whole.
    const tipHeight = tipHeightHex === chainId ? 0 : await heightOfStored(store, tipHeightHex, limits, fail);
    report.tipHeight = tipHeight;

    const readAt = async (h: number): Promise<BlockRead> => {
      let hash: string | undefined;
      try {
        hash = await store.getMainHash(h);
        return { hash, bytes: hash === undefined ? undefined : await store.getBlockBytes(hash) };
      } catch (error) {
        return { hash, bytes: undefined, error };
      }
    };
    const readAhead = (from: number): void => {
      for (let k = from; k <= Math.min(tipHeight, from + READ_AHEAD); k++) if (!reads.has(k)) reads.set(k, readAt(k));
    };

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
      readAhead(height);
      const read = await (reads.get(height) as Promise<BlockRead>);
      reads.delete(height);
      const hash = read.hash;
      if (read.error !== undefined) {
        if (hash !== undefined && isCorruption(read.error)) fail(height, hash, `stored block does not read: ${read.error.message}`);
        throw read.error;
      }
      if (!hash) fail(height, null, 'main-chain index has no block at this height');
      if (!read.bytes) fail(height, hash as string, 'block is in the main-chain index but not stored');
      let block: Block;
      try {
        block = decodeBlock(read.bytes as Uint8Array, limits);
      } catch (err) {
        return fail(height, hash as string, `stored block does not decode: ${(err as Error).message}`);
      }
      if (block.hashHex !== hash) fail(height, hash as string, `stored block hashes to ${block.hashHex}, not its key`);
      if (toHex(block.header.prevHash) !== parent.hash) fail(height, hash as string, 'prevHash does not link to the previous main-chain block');
      // The registry at this height: the changes due here applied (chain/governance.ts).
      registry = new MemberRegistry(activateAt(governance, height, chainId), height);
      governance = registry.state;
      let verifying: Promise<(TxError | null)[]> | undefined;
      try {
        checkHeader(block, {
          parent,
          mtp: medianTimePast(times.slice(-11)),
          expectedBits: nextBits(params, anchor, parent),
          now: Number.MAX_SAFE_INTEGER,
          params,
          registry,
        });
        try {
          checkBody(block, params);
        } catch (err) {
          // Name the tx whose stored bytes changed (a flipped byte that still decompresses).
          if (err instanceof BlockError && err.code === 'BAD_MERKLE_ROOT') {
            const i = firstTxIdMismatch(await store.getBlockTxIds(hash as string), block);
            if (i !== undefined) fail(height, hash as string, `${err.message}: stored tx ${i} (blockTxs ${hash as string}:${i}) no longer hashes to the tx ID the block was stored with`);
          }
          throw err;
        }
        // A snapshot's sample check trusts tx signatures (docs/deploy.md), never the member set:
        // governance txs are applied either way, so each header's sealer is judged at its height.
        if (!sample && verifier) {
          verifying = verifier.verify(block.txs, block.txIds, true, registry);
          // Awaited below on every path that goes on; a failure on the way out is not unhandled.
          verifying.catch(() => undefined);
        }
        const hasGov = block.txs.some((tx) => tx.gov !== undefined);
        // A governance tx is applied only once its signature is known good (as inline, in tx order).
        if (verifying && hasGov) await firstTxError(verifying);
        for (const [i, tx] of block.txs.entries()) {
          if (!sample && !verifier) verifyTxSync(tx, chainId, registry, rules, block.txIds[i]);
          if (tx.gov !== undefined) governance = applyGovTx(governance, tx.gov, { chainId, height, txId: toHex(block.txIds[i] as Uint8Array), submitter: tx.submitter });
        }
      } catch (err) {
        if (err instanceof BlockError || err instanceof TxError) fail(height, hash as string, err.message);
        throw err;
      }
      // While the workers verify: this block's indexes and its item state, on this thread.
      let problem: string | undefined;
      if (!sample || sample.has(height)) {
        problem = await checkBlockIndexes(store, block, height, rules, report.linksChecked, (k) => linkKeys.add(k));
        report.indexBlocksChecked++;
      }
      try {
        // As the connect does (chain/connect.ts applyItemEffects): alert and pack txs, then each event and its alerts.
        const step = replay?.step({ height, time: block.header.time, blockHash: hash as string, registry });
        const written = new Map<string, StoredItem>();
        for (const [i, tx] of block.txs.entries()) {
          if (sample) {
            report.eventsChecked += tx.eventIds.length;
            report.txsChecked++;
            continue;
          }
          const txId = toHex(block.txIds[i] as Uint8Array);
          const submitter = registry.get(tx.submitter) as Member;
          if (step && tx.alert !== undefined) await step.onAlertTx(tx, txId);
          if (step && tx.pack !== undefined) {
            for (const it of await step.onPackTx(tx, txId, reader)) {
              items.set(it.key, it);
              written.set(it.key, it);
            }
          }
          for (const [j, eventId] of tx.eventIds.entries()) {
            const event = tx.events[j] as Record<string, unknown>;
            const effects = await rules.applyEvent(reader, { event, eventId, submitter, blockTime: block.header.time });
            const prior = new Map<string, StoredItem | null>();
            if (step) for (const it of effects.items) prior.set(it.key, items.get(it.key) ?? null);
            for (const it of effects.items) {
              items.set(it.key, it);
              written.set(it.key, it);
            }
            if (step) await step.onEvent({ event, eventId, txId, submitter, items: effects.items, prior, recalledLots: effects.recalledLots, reader });
            for (const l of effects.recalledLots) lots.add(lotKey(l));
            report.eventsChecked++;
          }
          report.txsChecked++;
        }
        if (step && replay) replay.endBlock(step.finish([], []).records, [...written.values()]);
      } catch (err) {
        // A tx the verifier rejects may be what the replay tripped on: its verdict comes first.
        if (verifying) await failOnTxError(verifying, height, hash as string);
        throw err;
      }
      if (verifying) await failOnTxError(verifying, height, hash as string);
      if (problem !== undefined) fail(height, hash as string, problem);
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
    // Item state replayed from the blocks must equal what the store holds (read in batches).
    const keys = [...items.keys()];
    for (let k = 0; k < keys.length; k += ITEM_BATCH) {
      const chunk = keys.slice(k, k + ITEM_BATCH);
      const stored = await store.getItems(chunk);
      chunk.forEach((key, i) => {
        const s = stored[i];
        if (!s || canonicalJson(s) !== canonicalJson(items.get(key))) fail(tipHeight, tipHash as string, `item state for ${key} differs from a replay of the chain`);
        report.itemsChecked++;
      });
    }
    for (const l of lots) {
      const [gtin, lot] = l.split('\u0000') as [string, string];
      if (!(await store.isLotRecalled({ gtin, lot }))) fail(tipHeight, tipHash as string, `recall of lot ${lot} of ${gtin} missing from the index`);
    }
    // Alert and pack records and their index, recomputed from the blocks, must equal the store's.
    if (replay) {
      const problem = await replay.compare(store);
      if (problem !== undefined) fail(tipHeight, tipHash as string, problem);
      report.recordsChecked = replay.size;
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
  } finally {
    // Reads started ahead settle on their own (they never reject); nothing else is left running.
    reads.clear();
  }
}

/** Throws the first tx's TxError of a verifier's answer (in tx order), if any. */
async function firstTxError(verdicts: Promise<(TxError | null)[]>): Promise<void> {
  for (const v of await verdicts) if (v !== null) throw v;
}

/**
 * Check one main-chain block's index entries against the block: its proof records (per-tx
 * copies), tx and event locations, EPC history and link records, each kind in one batched read.
 * Returns the first problem, or undefined. `onLink` receives a key per link record the block
 * makes (audit counts them).
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
    const copies = await store.getBlockTxTexts(block.txBytes.map((_, index) => ({ hash, index })));
    for (const [i, bytes] of block.txBytes.entries()) {
      const copy = copies[i];
      if (copy === undefined || !equalBytes(utf8.encode(copy), bytes)) return `its stored copy of tx ${i} (for proofs) differs from the block`;
    }
  }
  const ids = block.txIds.map((id) => toHex(id));
  const locs = await store.getTxLocations(ids);
  for (const [i, id] of ids.entries()) {
    const loc = locs[i];
    if (!loc || loc.blockHash !== hash || loc.height !== height || loc.index !== i) return `tx index wrong for tx ${id}`;
  }
  const events: { eventId: string; txIndex: number; eventIndex: number; event: Record<string, unknown> }[] = [];
  for (const [i, tx] of block.txs.entries()) {
    for (const [j, eventId] of tx.eventIds.entries()) events.push({ eventId, txIndex: i, eventIndex: j, event: tx.events[j] as Record<string, unknown> });
  }
  const elocs = await store.getEventLocations(events.map((e) => e.eventId));
  for (const [k, e] of events.entries()) {
    const eloc = elocs[k];
    if (!eloc || eloc.txId !== ids[e.txIndex] || eloc.index !== e.eventIndex) return `event index wrong for ${e.eventId}`;
  }
  const history: { key: string; height: number; txIndex: number; eventIndex: number; eventId: string }[] = [];
  for (const e of events) {
    for (const key of new Set(rules.itemKeysOf(e.event))) history.push({ key, height, txIndex: e.txIndex, eventIndex: e.eventIndex, eventId: e.eventId });
  }
  const stored = await store.historyAt(history);
  for (const [k, h] of history.entries()) {
    if (stored[k] !== h.eventId) return `EPC history missing for ${h.key} at event ${h.eventId}`;
  }
  if (checkLinks) {
    const links: { key: string; role: LinkRole; height: number; txIndex: number; eventIndex: number; kind: string; other: string | undefined; eventId: string }[] = [];
    for (const e of events) {
      for (const l of rules.linksOf(e.event)) links.push({ key: l.key, role: roleOfKind(l.kind), height, txIndex: e.txIndex, eventIndex: e.eventIndex, kind: l.kind, other: l.other, eventId: e.eventId });
    }
    const got = await store.linksAt(links);
    for (const [k, l] of links.entries()) {
      const g = got[k];
      if (!g || g.kind !== l.kind || g.other !== l.other) return `link record (${l.kind}${l.other ? ` ${l.other}` : ''}) missing or wrong for ${l.key} at event ${l.eventId}`;
      onLink?.(`${l.key}\u0000${l.role}\u0000${height}:${l.txIndex}:${l.eventIndex}`);
    }
  }
  return undefined;
}
