/**
 * The chain: block import (all checks), cumulative-work fork choice, reorg with undo data,
 * and mempool admission. One writer at a time (SerialQueue). Every block connect or
 * disconnect is one atomic store batch; the in-memory tip only moves after the batch is
 * written, so a failed write leaves memory and disk agreeing.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { BlockError, StoreDamagedError, TxError } from './errors.js';
import { merkleRoot } from './merkle.js';
import { decodeBlock, encodeBlock, type Block, type BlockLimits } from './block.js';
import { genesisBlock } from './genesis.js';
import { equalBytes, toHex } from './bytes.js';
import { checkBody, checkHeader, isPermanentFailure } from './validate.js';
import { canonicalTx, type CanonicalTx } from './tx.js';
import { MemberRegistry } from './registry.js';
import { SerialQueue } from './serial.js';
import type { Mempool } from './mempool.js';
import { EventIdFilter } from './event-filter.js';
import type { TxVerifier } from './tx-verifier.js';
import type { TxLog } from './tx-log.js';
import { beginDurableAdmission } from './tx-log-admission.js';
import type { ItemReader, TxRules } from './tx-rules.js';
import type { ChainStore, ConnectBatch, EpcHistoryEntry, EventLocation, HeaderEntry, LotKey, StoredItem, UndoRecord } from './store.js';
import type { ConsortiumParams, Genesis, Member, SignedTx } from './types.js';
import { targetFromBits } from '../consensus/target.js';
import { workFromTarget } from '../consensus/work.js';
import { anchorAfter, genesisAnchor, nextBits, type AsertAnchor } from '../consensus/retarget.js';
import { medianTimePast } from '../consensus/time.js';

export interface ChainOptions {
  genesis: Genesis;
  /** Blocks held back because their time is ahead of the local clock. */
  maxFutureBlocks?: number;
  /** Called after each block a reorg (or the start-up activation) connects: reindex progress. */
  onConnect?: (height: number, targetHeight: number) => void;
}

export interface ChainModules {
  store: ChainStore;
  rules: TxRules;
  verifier: TxVerifier;
  mempool: Mempool;
  /** Where a local tx is made durable before submitTx resolves (absent: acknowledged from memory). */
  txLog?: TxLog;
  clock: () => number;
  logger: Logger;
}

export type ImportStatus = 'connected' | 'side' | 'reorg';

export interface ImportOptions {
  /**
   * Write the connect with fsync (default). Initial sync passes false for all but the last block
   * of a batch: a process crash loses nothing either way (LevelDB has handed the write to the OS),
   * and a power loss can cost only a suffix of blocks that peers serve again.
   */
  durable?: boolean;
}

/** A block decoded (and its sealer signature checked, where the verifier can) ahead of import: Chain.prepareBlocks. */
export interface PreparedBlock {
  readonly block: Block;
  readonly bytes: Uint8Array;
}

export interface ImportOutcome {
  status: ImportStatus;
  hash: string;
  height: number;
}

export interface ReorgInfo {
  fork: { hash: string; height: number };
  disconnected: string[];
  connected: string[];
  orphanedTxs: number;
}

export type TxOrigin = 'local' | 'gossip' | 'reorg';

export interface DuplicateEvent {
  eventId: string;
  txId: string;
  block: { hash: string; height: number } | null;
}

export interface ChainEvents {
  block: [block: Block];
  tip: [tip: HeaderEntry];
  reorg: [info: ReorgInfo];
  /** A tx admitted to the mempool; origin says where it came from ('local' API/CLI, 'gossip', 'reorg'). */
  tx: [tx: SignedTx, txId: string, origin: TxOrigin];
}

const MTP_SPAN = 11;
/** Sealer signatures verified ahead of import and not yet imported: at most this many (sync's window is 1,024 blocks). */
const SEAL_CHECKED_MAX = 4_096;

function alreadyInBlock(idHex: string, loc: { blockHash: string; height: number }): TxError {
  return new TxError('ALREADY_KNOWN', `tx ${idHex} is already in block ${loc.height}`, { txId: idHex, block: { hash: loc.blockHash, height: loc.height } });
}

export class Chain extends EventEmitter<ChainEvents> {
  readonly genesis: Genesis;
  readonly chainId: string;
  readonly params: ConsortiumParams;
  readonly registry: MemberRegistry;
  readonly limits: BlockLimits;

  private readonly headers = new Map<string, HeaderEntry>();
  private readonly recent = new Map<string, Block>();
  /** Event IDs on the main chain (Bloom filter): a capture of new events skips the duplicate read. */
  private readonly eventFilter = new EventIdFilter();
  /** The filter holds every stored event (filled from the store after open); until then it is not asked. */
  private eventFilterReady = false;
  private eventFilterFill: Promise<void> = Promise.resolve();
  /** Bumped after every connect/disconnect; stateBusy while one runs (optimistic admission). */
  private stateVersion = 0;
  private stateBusy = false;
  /** Hashes of valid blocks with no valid child: where fork choice looks for the best chain. */
  private readonly candidates = new Set<string>();
  /** Memo of each header's retarget anchor (one small object per header, like the index). */
  private readonly anchors = new Map<string, AsertAnchor>();
  private tipEntry!: HeaderEntry;
  private genesisEntry!: HeaderEntry;
  private readonly writer = new SerialQueue();
  private readonly future = new Map<string, Block>();
  /**
   * Block hash → the sealer signature this node verified for it ahead of import (prepareBlocks),
   * oldest first, bounded. Import skips the signature verify only for the same hash and the same
   * signature bytes, and drops the entry; anything else is verified inline as ever.
   */
  private readonly sealChecked = new Map<string, Uint8Array>();
  private readonly maxFuture: number;
  private readonly log: Logger;
  private closing = false;
  private readonly onConnect: ((height: number, targetHeight: number) => void) | undefined;

  private constructor(
    opts: ChainOptions,
    private readonly modules: ChainModules,
  ) {
    super();
    this.genesis = opts.genesis;
    this.params = opts.genesis.params;
    this.registry = MemberRegistry.fromGenesis(opts.genesis);
    this.chainId = genesisBlock(opts.genesis).hashHex;
    this.limits = { maxBlockBytes: this.params.maxBlockBytes, maxTxBytes: this.params.maxTxBytes, maxEventsPerTx: this.params.maxEventsPerTx };
    this.maxFuture = opts.maxFutureBlocks ?? 64;
    this.onConnect = opts.onConnect;
    this.log = modules.logger.child({ module: 'chain' });
  }

  /** Open the chain on a store: write genesis if the store is empty, else resume from the stored tip. */
  static async open(opts: ChainOptions, modules: ChainModules): Promise<Chain> {
    const chain = new Chain(opts, modules);
    await chain.load();
    chain.eventFilterFill = chain.fillEventFilter();
    return chain;
  }

  /** Resolves once the event filter holds every stored event (or failed to, then it is not used). */
  whenEventFilterFilled(): Promise<void> {
    return this.eventFilterFill;
  }

  /**
   * Add every stored event ID to the filter (in the background: ~1 s per million events), then
   * let admission use it. Blocks connected meanwhile add their own events as they connect.
   */
  private async fillEventFilter(): Promise<void> {
    const started = Date.now();
    try {
      for await (const digests of this.modules.store.eventDigestBatches()) {
        if (this.closing) return;
        for (const d of digests) this.eventFilter.addDigest(d);
      }
      this.eventFilterReady = true;
      this.log.info({ events: this.eventFilter.size, ms: Date.now() - started }, 'event filter ready');
    } catch (err) {
      if (this.closing) return;
      // Admission keeps reading the store for every event: slower, never wrong.
      this.log.warn({ err: (err as Error).message }, 'event filter not built; duplicate checks read the store');
    }
  }

  get store(): ChainStore {
    return this.modules.store;
  }

  get mempool(): Mempool {
    return this.modules.mempool;
  }

  get tip(): HeaderEntry {
    return this.tipEntry;
  }

  get futureCount(): number {
    return this.future.size;
  }

  header(hash: string): HeaderEntry | undefined {
    return this.headers.get(hash);
  }

  get headerCount(): number {
    return this.headers.size;
  }

  private async load(): Promise<void> {
    const { store } = this.modules;
    const genesis = genesisBlock(this.genesis);
    const storedGenesis = await store.getGenesis();
    const target = targetFromBits(genesis.header.bits);
    this.genesisEntry = {
      hash: genesis.hashHex,
      height: 0,
      prevHash: toHex(genesis.header.prevHash),
      time: genesis.header.time,
      bits: genesis.header.bits,
      chainwork: workFromTarget(target),
      status: 'stored',
    };
    if (storedGenesis === undefined) {
      await store.putGenesis(JSON.stringify(this.genesis), genesis, this.genesisEntry);
    } else {
      const stored = JSON.parse(storedGenesis) as Genesis;
      if (genesisBlock(stored).hashHex !== genesis.hashHex) {
        throw new Error(`the store belongs to chain ${genesisBlock(stored).hashHex}, not ${genesis.hashHex}`);
      }
    }
    for await (const e of store.loadHeaderEntries()) this.headers.set(e.hash, e);
    this.headers.set(this.genesisEntry.hash, this.genesisEntry);
    // Candidate tips: valid entries without a valid child.
    const hasValidChild = new Set<string>();
    for (const e of this.headers.values()) if (e.status === 'stored') hasValidChild.add(e.prevHash);
    for (const e of this.headers.values()) if (e.status === 'stored' && !hasValidChild.has(e.hash)) this.candidates.add(e.hash);
    const tipHash = (await store.getTip()) ?? genesis.hashHex;
    const tip = this.headers.get(tipHash);
    if (!tip) throw new Error(`stored tip ${tipHash} has no header entry: the store is damaged (run tracechain reindex)`);
    this.tipEntry = tip;
    this.log.info({ height: tip.height, hash: tip.hash, headers: this.headers.size }, 'chain loaded');
    // A crash between storing a heavier block and connecting it: finish the job now.
    await this.writer.run(() => this.activateBest());
  }

  /**
   * Run fork choice again: after the store refused a write (disk full) a stored candidate may
   * be heavier than the tip; connect it now that writes work. Returns whether the tip moved.
   */
  async reactivate(): Promise<boolean> {
    this.assertOpen();
    const before = this.tipEntry.hash;
    await this.writer.run(() => this.activateBest());
    return this.tipEntry.hash !== before;
  }

  /** Let queued writes finish and refuse new ones; call before closing the store. */
  async close(): Promise<void> {
    this.closing = true;
    this.future.clear();
    this.sealChecked.clear();
    await this.writer.run(async () => undefined);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('the chain is shutting down');
  }

  /** Ancestor of an entry at a given height (walks the header index). */
  ancestor(entry: HeaderEntry, height: number): HeaderEntry | undefined {
    let e: HeaderEntry | undefined = entry;
    while (e && e.height > height) e = this.headers.get(e.prevHash);
    return e && e.height === height ? e : undefined;
  }

  /** Median of the times of `entry` and up to 10 of its ancestors. */
  medianTimePast(entry: HeaderEntry): number {
    const times: number[] = [];
    let e: HeaderEntry | undefined = entry;
    for (let i = 0; i < MTP_SPAN && e; i++) {
      times.push(e.time);
      e = e.height === 0 ? undefined : this.headers.get(e.prevHash);
    }
    return medianTimePast(times);
  }

  /** The retarget anchor the children of `entry` use (genesis, or the last block after an outage). */
  anchorFor(entry: HeaderEntry): AsertAnchor {
    const path: HeaderEntry[] = [];
    let e: HeaderEntry | undefined = entry;
    let anchor: AsertAnchor | undefined;
    while (e) {
      anchor = e.height === 0 ? genesisAnchor(this.genesis) : this.anchors.get(e.hash);
      if (anchor) break;
      path.push(e);
      e = this.headers.get(e.prevHash);
    }
    if (!anchor) throw new Error(`header index broken below ${entry.hash}`);
    for (let i = path.length - 1; i >= 0; i--) {
      const cur = path[i] as HeaderEntry;
      const parent = this.headers.get(cur.prevHash) as HeaderEntry;
      anchor = anchorAfter(this.params, anchor, cur, parent.time);
      this.anchors.set(cur.hash, anchor);
    }
    return anchor;
  }

  /** Bits the retarget rule requires for a child of `parent`. */
  nextBitsAfter(parent: HeaderEntry): number {
    return nextBits(this.params, this.anchorFor(parent), { height: parent.height, time: parent.time });
  }

  /**
   * Decode blocks and verify their sealer signatures ahead of import, on the verifier's worker
   * threads when it has them (sync calls this for each chunk of bodies as it arrives, so the
   * checks overlap the import of earlier blocks). A signature that verifies is remembered for
   * importBlock, which then skips only that verify; a bad one is not remembered, so the import
   * rejects it with BAD_SEALER_SIGNATURE as always. An entry is undefined when the bytes do not
   * decode (importBlockBytes reports why). A verifier failure only costs the head start.
   */
  async prepareBlocks(list: readonly Uint8Array[]): Promise<(PreparedBlock | undefined)[]> {
    const prepared = list.map((bytes): PreparedBlock | undefined => {
      try {
        return { block: decodeBlock(bytes, this.limits), bytes };
      } catch (err) {
        if (err instanceof BlockError) return undefined;
        throw err;
      }
    });
    const { verifier } = this.modules;
    const todo = prepared.filter((p): p is PreparedBlock => p !== undefined && !this.headers.has(p.block.hashHex));
    if (!verifier.verifySeals || todo.length === 0 || this.closing) return prepared;
    let valid: boolean[];
    try {
      // Copies, so posting them to a worker never clones a larger buffer they might view.
      const seals = todo.map((p) => ({ hash: p.block.hash.slice(), sealer: toHex(p.block.header.sealer), signature: p.block.signature.slice() }));
      valid = await verifier.verifySeals(seals);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, blocks: todo.length }, 'sealer signatures not checked ahead; import checks them');
      return prepared;
    }
    todo.forEach((p, i) => {
      if (valid[i] !== true) return;
      this.sealChecked.delete(p.block.hashHex);
      this.sealChecked.set(p.block.hashHex, p.block.signature.slice()); // a copy: not a view pinning the block's bytes
      if (this.sealChecked.size > SEAL_CHECKED_MAX) this.sealChecked.delete(this.sealChecked.keys().next().value as string);
    });
    return prepared;
  }

  /** Decode and import block bytes (from a peer or the miner). */
  async importBlockBytes(bytes: Uint8Array, opts: ImportOptions = {}): Promise<ImportOutcome> {
    const block = decodeBlock(bytes, this.limits);
    return this.importBlock(block, bytes, opts);
  }

  /**
   * Validate, store and, if it makes the most-work chain, connect a block. Throws BlockError.
   * A block whose time is too far ahead is held back and retried by retryFutureBlocks().
   */
  async importBlock(block: Block, bytes?: Uint8Array, opts: ImportOptions = {}): Promise<ImportOutcome> {
    try {
      return await this.writer.run(() => this.importLocked(block, bytes ?? encodeBlock(block), opts.durable ?? true));
    } catch (err) {
      if (err instanceof BlockError && err.code === 'TIME_TOO_NEW') this.holdFuture(block);
      throw err;
    }
  }

  private holdFuture(block: Block): void {
    if (this.future.has(block.hashHex)) return;
    if (this.future.size >= this.maxFuture) {
      // Bounded: drop the block furthest in the future to make room.
      let worst: Block | undefined;
      for (const b of this.future.values()) if (!worst || b.header.time > worst.header.time) worst = b;
      if (worst && worst.header.time > block.header.time) this.future.delete(worst.hashHex);
      else return;
    }
    this.future.set(block.hashHex, block);
    this.log.info({ hash: block.hashHex, aheadMs: block.header.time - this.modules.clock() }, 'block from the future held back');
  }

  /** Retry held-back blocks that are now due. Returns how many were imported. */
  async retryFutureBlocks(): Promise<number> {
    const now = this.modules.clock();
    const due = [...this.future.values()].filter((b) => b.header.time <= now + this.params.futureWindowMs).sort((a, b) => a.header.height - b.header.height);
    let imported = 0;
    for (const b of due) {
      this.future.delete(b.hashHex);
      try {
        await this.importBlock(b);
        imported++;
      } catch (err) {
        this.log.warn({ hash: b.hashHex, err: (err as Error).message }, 'held-back block rejected on retry');
      }
    }
    return imported;
  }

  private async importLocked(block: Block, bytes: Uint8Array, durable: boolean): Promise<ImportOutcome> {
    this.assertOpen();
    const hash = block.hashHex;
    const known = this.headers.get(hash);
    if (known) {
      if (known.status === 'invalid') throw new BlockError('INVALID_ANCESTOR', `block ${hash} is known to be invalid (${known.invalidCode ?? 'unknown'})`);
      throw new BlockError('ALREADY_KNOWN', `block ${hash} is already stored`);
    }
    const prevHash = toHex(block.header.prevHash);
    const parent = this.headers.get(prevHash);
    if (!parent) throw new BlockError('UNKNOWN_PARENT', `parent ${prevHash} of block ${hash} is unknown`, { parent: prevHash, height: block.header.height });
    if (parent.status === 'invalid') throw new BlockError('INVALID_ANCESTOR', `parent ${prevHash} is invalid`);

    const checkedSig = this.sealChecked.get(hash);
    this.sealChecked.delete(hash);
    checkHeader(block, {
      sealVerified: checkedSig !== undefined && equalBytes(checkedSig, block.signature),
      parent,
      mtp: this.medianTimePast(parent),
      expectedBits: this.nextBitsAfter(parent),
      now: this.modules.clock(),
      params: this.params,
      registry: this.registry,
    });
    const entry: HeaderEntry = {
      hash,
      height: block.header.height,
      prevHash,
      time: block.header.time,
      bits: block.header.bits,
      chainwork: parent.chainwork + workFromTarget(targetFromBits(block.header.bits)),
      status: 'stored',
    };
    try {
      checkBody(block, this.params);
      await this.verifyBlockTxs(block);
    } catch (err) {
      if (err instanceof BlockError && isPermanentFailure(err.code)) await this.markInvalid(entry, err.code);
      throw err;
    }
    await this.modules.store.putBlock(block, bytes, entry);
    this.addEntry(entry);
    this.rememberBlock(block);
    if (entry.chainwork <= this.tipEntry.chainwork) {
      this.log.info({ hash, height: entry.height }, 'side-chain block stored');
      return { status: 'side', hash, height: entry.height };
    }
    const before = this.tipEntry;
    await this.activateBest(durable);
    if (this.tipEntry.hash !== hash && this.headers.get(hash)?.status === 'invalid') {
      throw new BlockError('BAD_TX', `block ${hash} failed when connected: ${this.headers.get(hash)?.invalidCode ?? ''}`);
    }
    const status: ImportStatus = before.hash === prevHash ? 'connected' : 'reorg';
    return { status, hash, height: entry.height };
  }

  /** Stateless tx checks for the txs not already verified in our mempool. */
  private async verifyBlockTxs(block: Block): Promise<void> {
    const pending: SignedTx[] = [];
    const pendingIds: Uint8Array[] = [];
    const index: number[] = [];
    block.txs.forEach((tx, i) => {
      const id = block.txIds[i] as Uint8Array;
      if (!this.modules.mempool.has(toHex(id))) {
        pending.push(tx);
        pendingIds.push(id);
        index.push(i);
      }
    });
    if (pending.length === 0) return;
    const results = await this.modules.verifier.verify(pending, pendingIds);
    results.forEach((r, k) => {
      if (r) throw new BlockError('BAD_TX', `tx ${index[k]}: ${r.message}`, { index: index[k], txCode: r.code });
    });
  }

  /** Add a stored entry to the index; it replaces its parent as a candidate tip. */
  private addEntry(entry: HeaderEntry): void {
    this.headers.set(entry.hash, entry);
    this.candidates.delete(entry.prevHash);
    this.candidates.add(entry.hash);
  }

  /**
   * Mark a block invalid, and every stored descendant with it (so a candidate tip is valid
   * exactly when its status says so). Its parent becomes a candidate tip again.
   */
  private async markInvalid(entry: HeaderEntry, code: string): Promise<void> {
    const bad: HeaderEntry[] = [{ ...entry, status: 'invalid', invalidCode: code }];
    for (const leaf of [...this.candidates]) {
      const path: HeaderEntry[] = [];
      let e = this.headers.get(leaf);
      while (e && e.height > entry.height) {
        path.push(e);
        e = this.headers.get(e.prevHash);
      }
      if (e?.hash === entry.hash) for (const d of path) bad.push({ ...d, status: 'invalid', invalidCode: 'INVALID_ANCESTOR' });
    }
    for (const b of bad) {
      this.headers.set(b.hash, b);
      this.candidates.delete(b.hash);
      await this.modules.store.putHeaderEntry(b);
    }
    if (this.headers.get(entry.prevHash)?.status === 'stored') this.candidates.add(entry.prevHash);
    this.log.warn({ hash: entry.hash, height: entry.height, code, descendants: bad.length - 1 }, 'block marked invalid');
  }

  /** Best valid candidate tip: most chainwork; on a tie the current tip (first seen) stays. */
  private bestCandidate(): HeaderEntry {
    let best = this.tipEntry;
    for (const hash of this.candidates) {
      const e = this.headers.get(hash);
      if (e && e.status === 'stored' && e.chainwork > best.chainwork) best = e;
    }
    return best;
  }

  /** Move the tip to the most-work valid chain, reorganising as needed. */
  private async activateBest(durable = true): Promise<void> {
    for (let attempts = 0; attempts < 8; attempts++) {
      const best = this.bestCandidate();
      if (best.hash === this.tipEntry.hash) return;
      const ok = await this.reorgTo(best, durable);
      if (ok) return;
    }
  }

  /** Returns false (state unchanged) when a block on the new branch fails to connect. */
  private async reorgTo(target: HeaderEntry, durable: boolean): Promise<boolean> {
    const oldTip = this.tipEntry;
    const toConnect: HeaderEntry[] = [];
    const toDisconnect: HeaderEntry[] = [];
    let a: HeaderEntry = oldTip;
    let b: HeaderEntry = target;
    const up = (e: HeaderEntry): HeaderEntry => {
      const p = this.headers.get(e.prevHash);
      if (!p) throw new Error(`header index broken: no parent for ${e.hash}`);
      return p;
    };
    while (b.height > a.height) {
      toConnect.push(b);
      b = up(b);
    }
    while (a.height > b.height) {
      toDisconnect.push(a);
      a = up(a);
    }
    while (a.hash !== b.hash) {
      toDisconnect.push(a);
      toConnect.push(b);
      a = up(a);
      b = up(b);
    }
    toConnect.reverse();
    const fork = a;

    const disconnectedBlocks: Block[] = [];
    for (const e of toDisconnect) disconnectedBlocks.push(await this.disconnectTip(e));
    const connectedBlocks: Block[] = [];
    for (const e of toConnect) {
      try {
        connectedBlocks.push(await this.connectBlock(e, durable));
        this.onConnect?.(e.height, target.height);
      } catch (err) {
        if (!(err instanceof BlockError || err instanceof TxError)) throw err;
        this.log.warn({ hash: e.hash, height: e.height, err: err.message }, 'block failed to connect; restoring the previous chain');
        await this.markInvalid(e, err.code);
        for (const c of [...connectedBlocks].reverse()) await this.disconnectTip(this.headers.get(c.hashHex) as HeaderEntry);
        for (const d of [...disconnectedBlocks].reverse()) await this.connectBlock(this.headers.get(d.hashHex) as HeaderEntry);
        return false;
      }
    }
    for (const blk of connectedBlocks) this.emit('block', blk);
    this.emit('tip', this.tipEntry);
    if (toDisconnect.length > 0) {
      const orphaned = await this.returnOrphans(disconnectedBlocks);
      const info: ReorgInfo = {
        fork: { hash: fork.hash, height: fork.height },
        disconnected: toDisconnect.map((e) => e.hash),
        connected: toConnect.map((e) => e.hash),
        orphanedTxs: orphaned,
      };
      this.log.warn(info, 'reorg');
      this.emit('reorg', info);
    }
    return true;
  }

  /** The last few blocks imported, so connecting one right after storing it does not decode it again. */
  private rememberBlock(block: Block): void {
    this.recent.set(block.hashHex, block);
    if (this.recent.size > 16) this.recent.delete(this.recent.keys().next().value as string);
  }

  private async readBlock(hash: string): Promise<Block> {
    const cached = this.recent.get(hash);
    if (cached) return cached;
    const bytes = await this.modules.store.getBlockBytes(hash);
    if (!bytes) throw new StoreDamagedError(hash, 'is in the header index but not stored');
    return this.decodeStored(hash, bytes);
  }

  /**
   * Decode stored block bytes and check they are the block asked for: the header hashes to the
   * key and the txs to the merkle root. Flipped bytes on disk must never be served or connected.
   */
  private decodeStored(hash: string, bytes: Uint8Array): Block {
    let block: Block;
    try {
      block = decodeBlock(bytes, this.limits);
    } catch (err) {
      throw new StoreDamagedError(hash, `does not decode: ${(err as Error).message}`);
    }
    if (block.hashHex !== hash) throw new StoreDamagedError(hash, `is stored with a header that hashes to ${block.hashHex}`);
    // The genesis block commits to the consortium document, not to txs (it has none).
    if (hash !== this.chainId && toHex(merkleRoot(block.txIds)) !== toHex(block.header.merkleRoot)) {
      throw new StoreDamagedError(hash, 'has txs that do not hash to its merkle root');
    }
    return block;
  }

  private historyOf(block: Block): EpcHistoryEntry[] {
    const out: EpcHistoryEntry[] = [];
    block.txs.forEach((tx, txIndex) => {
      tx.events.forEach((event, eventIndex) => {
        const eventId = tx.eventIds[eventIndex] as string;
        for (const key of new Set(this.modules.rules.itemKeysOf(event))) {
          out.push({ key, height: block.header.height, txIndex, eventIndex, eventId });
        }
      });
    });
    return out;
  }

  /** Connect a stored block on top of the current tip: one atomic batch. */
  /** Run a change of chain state (connect/disconnect), visible to optimistic admission. */
  private async changingState<T>(fn: () => Promise<T>): Promise<T> {
    this.stateBusy = true;
    try {
      return await fn();
    } finally {
      this.stateBusy = false;
      this.stateVersion++;
    }
  }

  private connectBlock(entry: HeaderEntry, durable = true): Promise<Block> {
    return this.changingState(() => this.connectBlockInner(entry, durable));
  }

  private async connectBlockInner(entry: HeaderEntry, durable: boolean): Promise<Block> {
    const { store } = this.modules;
    const block = await this.readBlock(entry.hash);
    if (entry.prevHash !== this.tipEntry.hash) throw new Error(`connect ${entry.hash}: parent is not the tip`);
    const history = this.historyOf(block);
    const batch: ConnectBatch = { block, txLocations: [], events: [], history, items: [], recalledLots: [], undo: { items: [], lots: [] } };
    const txIds = block.txIds.map((t) => toHex(t));
    const eventIds = block.txs.flatMap((t) => t.eventIds);
    const itemKeys = [...new Set(history.map((h) => h.key))];
    // One round trip each for what the block must not repeat, and for the items it touches.
    const [txLocs, eventLocs, items] = await Promise.all([
      store.getTxLocations(txIds),
      store.getEventLocations(eventIds),
      store.getItems(itemKeys),
    ]);
    txLocs.forEach((loc, i) => {
      if (loc) throw new BlockError('DUPLICATE_TX', `tx ${txIds[i]} is already on the chain`, { txId: txIds[i] });
    });
    const seenEvents = new Set<string>();
    let k = 0;
    for (const [i, tx] of block.txs.entries()) {
      const id = txIds[i] as string;
      batch.txLocations.push({ txId: id, loc: { blockHash: entry.hash, height: entry.height, index: i } });
      for (const [j, eventId] of tx.eventIds.entries()) {
        if (seenEvents.has(eventId) || eventLocs[k++]) {
          throw new TxError('DUPLICATE_EVENT', `event ${eventId} of tx ${id} is already on the chain`, { eventId });
        }
        seenEvents.add(eventId);
        batch.events.push({ eventId, loc: { txId: id, index: j } });
      }
    }
    const before = new Map<string, StoredItem | null>();
    itemKeys.forEach((key, i) => before.set(key, items[i] ?? null));
    await this.applyItemEffects(block, batch, before);
    await store.connect(batch, { sync: durable });
    for (const e of batch.events) this.eventFilter.add(e.eventId);
    this.tipEntry = entry;
    this.modules.mempool.removeIncluded(txIds, seenEvents);
    return block;
  }

  /**
   * Run every event through the item-status rules over an overlay of this block's writes.
   * `before` holds the pre-block state of the items the block names (prefetched); other items
   * (children of a shipped case, say) are read on demand and remembered there.
   */
  private async applyItemEffects(block: Block, batch: ConnectBatch, before: Map<string, StoredItem | null>): Promise<void> {
    const { store, rules } = this.modules;
    const items = new Map<string, StoredItem>();
    const lots = new Map<string, LotKey>();
    const undo: UndoRecord = batch.undo;
    const lotKey = (l: LotKey): string => `${l.gtin}\u0000${l.lot}`;
    const prior = async (key: string): Promise<StoredItem | null> => {
      let v = before.get(key);
      if (v === undefined) {
        v = (await store.getItem(key)) ?? null;
        before.set(key, v);
      }
      return v;
    };
    const reader: ItemReader = {
      getItem: async (key) => items.get(key) ?? (await prior(key)) ?? undefined,
      isLotRecalled: async (lot) => lots.has(lotKey(lot)) || (await store.isLotRecalled(lot)),
    };
    for (const tx of block.txs) {
      const submitter = this.registry.get(tx.submitter) as Member;
      for (const [j, event] of tx.events.entries()) {
        const effects = await rules.applyEvent(reader, { event, eventId: tx.eventIds[j] as string, submitter, blockTime: block.header.time });
        for (const item of effects.items) {
          if (!items.has(item.key)) undo.items.push({ key: item.key, prev: await prior(item.key) });
          items.set(item.key, item);
        }
        for (const lot of effects.recalledLots) {
          const k = lotKey(lot);
          if (lots.has(k)) continue;
          const prev = await store.isLotRecalled(lot);
          if (prev) continue;
          lots.set(k, lot);
          undo.lots.push({ lot, prev });
        }
      }
    }
    batch.items = [...items.values()];
    batch.recalledLots = [...lots.values()];
  }

  /** Disconnect the tip block: one atomic batch restoring the undo data. */
  private disconnectTip(entry: HeaderEntry): Promise<Block> {
    return this.changingState(() => this.disconnectTipInner(entry));
  }

  private async disconnectTipInner(entry: HeaderEntry): Promise<Block> {
    const { store } = this.modules;
    if (entry.hash !== this.tipEntry.hash) throw new Error(`disconnect ${entry.hash}: not the tip`);
    const block = await this.readBlock(entry.hash);
    const undo = await store.getUndo(entry.hash);
    if (!undo) throw new Error(`no undo data for block ${entry.hash}: the store is damaged (run tracechain reindex)`);
    const parent = this.headers.get(entry.prevHash);
    if (!parent) throw new Error(`no parent for ${entry.hash}`);
    await store.disconnect({
      block,
      txIds: block.txIds.map((t) => toHex(t)),
      eventIds: block.txs.flatMap((t) => t.eventIds),
      history: this.historyOf(block),
      undo,
      newTip: { hash: parent.hash, height: parent.height },
    });
    this.tipEntry = parent;
    return block;
  }

  /** After a reorg, orphaned txs not on the new chain go back to the mempool. */
  private async returnOrphans(blocks: Block[]): Promise<number> {
    let returned = 0;
    for (const block of blocks) {
      for (const [i, tx] of block.txs.entries()) {
        const id = block.txIds[i] as Uint8Array;
        try {
          await this.admitLocked(tx, { id, bytes: block.txBytes[i] as Uint8Array });
          this.emit('tx', tx, toHex(id), 'reorg');
          returned++;
        } catch (err) {
          if (!(err instanceof TxError)) throw err;
          // ALREADY_KNOWN / DUPLICATE_EVENT: the new chain already holds it; nothing is lost.
        }
      }
    }
    return returned;
  }

  /**
   * Admit a tx to the mempool after every check: stateless (verifier) and against the chain
   * and pool (duplicates). Throws TxError; DUPLICATE_EVENT lists every duplicate and where
   * its original is.
   */
  async submitTx(
    tx: SignedTx,
    opts: {
      id?: Uint8Array;
      /** Canonical bytes, when the caller already has them (with `id`). */
      raw?: Uint8Array;
      origin?: TxOrigin;
      /** Built and signed by this node after the same checks: skip re-verifying. */
      verified?: boolean;
      /** Replayed from the tx log: its record is there already. */
      inLog?: boolean;
    } = {},
  ): Promise<{ txId: string }> {
    const c: CanonicalTx = opts.id && opts.raw ? { id: opts.id, bytes: opts.raw } : canonicalTx(tx);
    const idHex = toHex(c.id);
    // A local tx resolves only once its tx log record is fsynced (chain/tx-log-admission.ts).
    const durable = beginDurableAdmission(this.modules.txLog, this.modules.mempool, idHex, opts);
    try {
      await this.admitTx(tx, c, idHex, opts);
      await durable?.record(c.id, c.bytes);
    } finally {
      durable?.done();
    }
    this.emit('tx', tx, idHex, opts.origin ?? 'local');
    return { txId: idHex };
  }

  private async admitTx(tx: SignedTx, c: CanonicalTx, idHex: string, opts: { verified?: boolean }): Promise<void> {
    if (c.bytes.length > this.params.maxTxBytes) throw new TxError('OVERSIZE', `tx is ${c.bytes.length} bytes, limit ${this.params.maxTxBytes}`);
    if (this.modules.mempool.has(idHex)) throw new TxError('ALREADY_KNOWN', `tx ${idHex} is already pending`, { txId: idHex, block: null });
    if (!opts.verified) {
      const [result] = await this.modules.verifier.verify([tx], [c.id]);
      if (result) throw result;
    }
    // Optimistic admission: the chain reads run outside the writer queue, and the tx is added
    // only if no block was connected or disconnected meanwhile (else it goes through the queue),
    // so captures do not wait behind block imports.
    const version = this.stateVersion;
    let admitted = false;
    if (!this.stateBusy) {
      await this.checkAdmissible(tx, c);
      if (!this.stateBusy && this.stateVersion === version) {
        this.assertOpen();
        this.modules.mempool.add(tx, c.id, c.bytes, this.modules.clock());
        admitted = true;
      }
    }
    if (!admitted) await this.writer.run(() => this.admitLocked(tx, c));
  }

  /**
   * Throws TxError ALREADY_KNOWN or DUPLICATE_EVENT (every duplicate, with where it is).
   *
   * One store round trip in the common case: a tx on the main chain has every one of its events
   * indexed there pointing at it (connect writes them all, disconnect deletes them all, and a tx
   * carries at least one event), so the tx is on chain exactly when its events' locations name
   * it, and the event lookup finds it. Only a tx without events (never valid; refused elsewhere)
   * reads its own location.
   */
  private async checkAdmissible(tx: SignedTx, c: CanonicalTx): Promise<void> {
    const idHex = toHex(c.id);
    if (tx.eventIds.length === 0) {
      const loc = await this.modules.store.getTxLocation(idHex);
      if (loc) throw alreadyInBlock(idHex, loc);
      return;
    }
    const duplicates = await this.findDuplicateEvents(tx.eventIds);
    const own = duplicates.find((d) => d.txId === idHex && d.block !== null);
    if (own?.block) throw alreadyInBlock(idHex, { blockHash: own.block.hash, height: own.block.height });
    if (duplicates.length > 0) {
      throw new TxError('DUPLICATE_EVENT', `${duplicates.length} event(s) already recorded`, { duplicates });
    }
  }

  private async admitLocked(tx: SignedTx, c: CanonicalTx): Promise<void> {
    this.assertOpen();
    await this.checkAdmissible(tx, c);
    this.modules.mempool.add(tx, c.id, c.bytes, this.modules.clock());
  }

  /** Where each of these event IDs already is, in the mempool or on the main chain (batched reads). */
  async findDuplicateEvents(eventIds: readonly string[]): Promise<DuplicateEvent[]> {
    const { mempool, store } = this.modules;
    const out: DuplicateEvent[] = [];
    const onChain: string[] = [];
    for (const eventId of eventIds) {
      const pending = mempool.txOfEvent(eventId);
      if (pending !== undefined) out.push({ eventId, txId: pending, block: null });
      else onChain.push(eventId);
    }
    // Events the filter has never seen are certainly not on the chain: read only the others.
    const toRead = this.eventFilterReady ? onChain.filter((id) => this.eventFilter.mightContain(id)) : onChain;
    const locs = toRead.length === 0 ? [] : await store.getEventLocations(toRead);
    const found = toRead.map((eventId, i) => ({ eventId, loc: locs[i] })).filter((x): x is { eventId: string; loc: EventLocation } => x.loc !== undefined);
    if (found.length > 0) {
      // Usually one tx holds them all (a capture sent again): read each location once.
      const txIds = [...new Set(found.map((f) => f.loc.txId))];
      const txLocs = await store.getTxLocations(txIds);
      const byTx = new Map(txIds.map((id, i) => [id, txLocs[i]]));
      found.forEach((f) => {
        const t = byTx.get(f.loc.txId);
        out.push({ eventId: f.eventId, txId: f.loc.txId, block: t ? { hash: t.blockHash, height: t.height } : null });
      });
    }
    return out;
  }

  /** Confirmations of a block on the main chain (tip = 1), 0 if not on it. */
  confirmations(height: number | null): number {
    return height === null ? 0 : Math.max(0, this.tipEntry.height - height + 1);
  }

  async getBlock(hash: string): Promise<Block | undefined> {
    // The last few blocks imported are in memory, checked on import: the tip and its parents
    // are what explorers and followers ask for most, and decoding a full block costs ~10 ms.
    const cached = this.recent.get(hash);
    if (cached) return cached;
    const bytes = await this.modules.store.getBlockBytes(hash);
    return bytes ? this.decodeStored(hash, bytes) : undefined;
  }

  async getMainBlock(height: number): Promise<Block | undefined> {
    if (!Number.isSafeInteger(height) || height < 0 || height > this.tipEntry.height) return undefined;
    const hash = await this.modules.store.getMainHash(height);
    return hash ? this.getBlock(hash) : undefined;
  }

  /** Whether a header entry is on the main chain. */
  async isMain(entry: HeaderEntry): Promise<boolean> {
    return (await this.modules.store.getMainHash(entry.height)) === entry.hash;
  }
}
