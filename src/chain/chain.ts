/**
 * The chain: the facade that sequences block import and mempool admission over its stages.
 *
 *   prepareBlocks  SealPrecheck     decode, sealer signatures ahead of import (sync)
 *   importBlock    HeaderIndex      the parent, its retarget context (mtp, bits)
 *                  block-checks     header in context, body (merkle root, size, duplicates)
 *                  TxVerifier       every tx not already verified in our mempool
 *                  store.putBlock   stored (side branch, or candidate tip)
 *                  ForkChoice       most chainwork wins; reorg along HeaderIndex.pathBetween
 *                  BlockConnector   connect/disconnect: one atomic batch per block
 *   submitTx       TxAdmission      stateless checks, duplicates, optimistic add
 *
 * One writer at a time (SerialQueue): imports, connects and raced admissions run in it. A block
 * that fails a check for good is marked invalid with its descendants; a block from too far in
 * the future is held back (FutureBlocks) and retried.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { BlockError, ChainStateError, StoreDamagedError } from '../common/errors.js';
import { decodeBlock, encodeBlock, type Block, type BlockLimits } from './block.js';
import { genesisBlock } from './genesis.js';
import { toHex } from '../common/bytes.js';
import { checkBody, checkHeader, isPermanentFailure } from './block-checks.js';
import type { MemberRegistry } from './registry.js';
import { genesisGovernance, type GovernanceState } from './governance.js';
import { BranchRegistry } from './branch-registry.js';
import { SerialQueue } from './serial.js';
import type { Mempool } from './mempool.js';
import { EventIdFilter } from './event-filter.js';
import type { TxVerifier } from './tx-verifier.js';
import type { TxLog } from './tx-log.js';
import { beginDurableAdmission } from './tx-log-admission.js';
import { canonicalTx, type CanonicalTx } from './tx.js';
import type { TxRules } from './tx-rules-port.js';
import type { ChainStore, HeaderEntry } from './store.js';
import type { ConsortiumParams, Genesis, SignedTx } from './types.js';
import { childEntry, genesisEntryOf, HeaderIndex } from './header-index.js';
import { BlockConnector } from './connect.js';
import { TxAdmission, type AdmitOptions, type DuplicateEvent } from './admission.js';
import { SealPrecheck, type PreparedBlock } from './seal-precheck.js';
import { FutureBlocks } from './future-blocks.js';
import { ForkChoice, type ReorgInfo } from './fork-choice.js';
import { StoredBlocks } from './stored-blocks.js';
import type { AsertAnchor } from '../consensus/retarget.js';

export type { PreparedBlock } from './seal-precheck.js';
export type { DuplicateEvent } from './admission.js';
export type { ReorgInfo } from './fork-choice.js';

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

export interface ImportOutcome {
  status: ImportStatus;
  hash: string;
  height: number;
}

export type TxOrigin = 'local' | 'gossip' | 'reorg';

function limitsOf(params: ConsortiumParams): BlockLimits {
  return { maxBlockBytes: params.maxBlockBytes, maxTxBytes: params.maxTxBytes, maxEventsPerTx: params.maxEventsPerTx };
}

export interface ChainEvents {
  block: [block: Block];
  tip: [tip: HeaderEntry];
  reorg: [info: ReorgInfo];
  /**
   * A tx admitted to the mempool; origin says where it came from ('local' API/CLI, 'gossip',
   * 'reorg'), `bytes` are its canonical bytes (as the mempool holds them: gossip sends these).
   */
  tx: [tx: SignedTx, txId: string, origin: TxOrigin, bytes: Uint8Array];
}

/** What Chain.open builds from the store's contents for the facade to sequence. */
interface Stages {
  log: Logger;
  index: HeaderIndex;
  connector: BlockConnector;
  admission: TxAdmission;
  blocks: StoredBlocks;
  writer: SerialQueue;
}

export class Chain extends EventEmitter<ChainEvents> {
  readonly genesis: Genesis;
  readonly chainId: string;
  readonly params: ConsortiumParams;
  readonly limits: BlockLimits;

  private readonly index: HeaderIndex;
  private readonly connector: BlockConnector;
  private readonly admission: TxAdmission;
  private readonly blocks: StoredBlocks;
  private readonly writer: SerialQueue;
  private readonly seals: SealPrecheck;
  private readonly future: FutureBlocks;
  private readonly forkChoice: ForkChoice;
  private readonly branches: BranchRegistry;
  private readonly log: Logger;
  private closing = false;

  private constructor(
    opts: ChainOptions,
    private readonly modules: ChainModules,
    stages: Stages,
  ) {
    super();
    ({ log: this.log, index: this.index, connector: this.connector, admission: this.admission, blocks: this.blocks, writer: this.writer } = stages);
    this.genesis = opts.genesis;
    this.params = opts.genesis.params;
    this.chainId = genesisBlock(opts.genesis).hashHex;
    this.limits = limitsOf(this.params);
    this.seals = new SealPrecheck(this.limits, modules.verifier, this.log);
    this.future = new FutureBlocks(opts.maxFutureBlocks ?? 64);
    const hooks = {
      connected: (block: Block) => this.emit('block', block),
      tip: (tip: HeaderEntry) => {
        modules.verifier.setRegistry(this.connector.registry);
        this.emit('tip', tip);
      },
      returned: (tx: SignedTx, txId: string, bytes: Uint8Array) => this.emit('tx', tx, txId, 'reorg', bytes),
      reorg: (info: ReorgInfo) => this.emit('reorg', info),
      ...(opts.onConnect ? { progress: opts.onConnect } : {}),
    };
    this.branches = new BranchRegistry(
      { chainId: this.chainId },
      {
        store: modules.store,
        blocks: this.blocks,
        header: (hash) => this.index.get(hash),
        tip: () => ({ entry: this.connector.tip, state: this.connector.governance }),
        genesisState: this.connector.genesisGovernance,
      },
    );
    this.forkChoice = new ForkChoice({ index: this.index, connector: this.connector, admission: this.admission, store: modules.store, logger: this.log, hooks });
  }

  /** Open the chain on a store: write genesis if the store is empty, else resume from the stored tip. */
  static async open(opts: ChainOptions, modules: ChainModules): Promise<Chain> {
    const { store, mempool } = modules;
    const { genesis } = opts;
    const gBlock = genesisBlock(genesis);
    const gEntry = genesisEntryOf(genesis);
    const storedGenesis = await store.getGenesis();
    if (storedGenesis === undefined) {
      await store.putGenesis(JSON.stringify(genesis), gBlock, gEntry);
    } else {
      const stored = genesisBlock(JSON.parse(storedGenesis) as Genesis).hashHex;
      if (stored !== gBlock.hashHex) throw new ChainStateError('WRONG_CHAIN', `the store belongs to chain ${stored}, not ${gBlock.hashHex}`);
    }
    const entries: HeaderEntry[] = [];
    for await (const e of store.loadHeaderEntries()) entries.push(e);
    const index = new HeaderIndex(genesis, gEntry, entries);
    const tipHash = (await store.getTip()) ?? gBlock.hashHex;
    const tip = index.get(tipHash);
    if (!tip) throw new StoreDamagedError(tipHash, 'is the stored tip but has no header entry (run tracechain reindex)');
    const blocks = new StoredBlocks(store, limitsOf(genesis.params), gBlock.hashHex);
    const eventFilter = new EventIdFilter();
    const writer = new SerialQueue();
    const storedGov = await store.getGovernance();
    const connector = new BlockConnector(
      { chainId: gBlock.hashHex, genesisGovernance: genesisGovernance(genesis) },
      { store, rules: modules.rules, blocks, mempool, eventFilter },
      tip,
      storedGov === undefined ? undefined : (JSON.parse(storedGov) as GovernanceState),
    );
    modules.verifier.setRegistry(connector.registry);
    const log = modules.logger.child({ module: 'chain' });
    const admission = new TxAdmission({ maxTxBytes: genesis.params.maxTxBytes, chainId: gBlock.hashHex }, { ...modules, logger: log, writer, state: connector, eventFilter, blocks });
    const chain = new Chain(opts, modules, { log, index, connector, admission, blocks, writer });
    log.info({ height: tip.height, hash: tip.hash, headers: index.size }, 'chain loaded');
    // A crash between storing a heavier block and connecting it: finish the job now.
    await writer.run(() => chain.forkChoice.activateBest());
    admission.startFilterFill();
    return chain;
  }

  /** Resolves once the event filter holds every stored event (or failed to, then it is not used). */
  whenEventFilterFilled(): Promise<void> {
    return this.admission.whenFilterFilled();
  }

  get store(): ChainStore {
    return this.modules.store;
  }

  /**
   * A stamp of the stored chain state: changes with every block connect or disconnect, and is
   * undefined while one runs. What was read from the store between two equal stamps is current
   * (read-side caches tag their entries with it).
   */
  stateStamp(): number | undefined {
    return this.connector.stateBusy ? undefined : this.connector.stateVersion;
  }

  /** The member registry at the tip's successor: what the next block, the mempool, the API and the gater see. */
  get registry(): MemberRegistry {
    return this.connector.registry;
  }

  /** The governance state after the tip (members with their history, proposals, policy). */
  get governance(): GovernanceState {
    return this.connector.governance;
  }

  /**
   * Pending txs for the next block: the pool's selection, less the txs the registry at that
   * height refuses (a submitter suspended by a change due there, an approval a proposal no longer
   * takes), so a sealer never seals a block its own connect would refuse.
   */
  selectForBlock(maxBytes: number): { tx: SignedTx; id: Uint8Array; raw: Uint8Array }[] {
    return this.admission.fitForBlock(this.modules.mempool.select(maxBytes), this.connector.registry);
  }

  /** Resolves once no block connect or disconnect runs: a reader whose stamp moved waits here before it reads again. */
  stateSettled(): Promise<void> {
    return this.connector.settled();
  }

  /**
   * Whether queries may read the query index (trace/query-terms.ts): the rules write its rows at
   * every connect and the store's index covers the main chain.
   */
  get queryIndexReady(): boolean {
    return this.modules.rules.queryTermsOf !== undefined && this.modules.store.queryTermsReady();
  }

  get mempool(): Mempool {
    return this.modules.mempool;
  }

  get tip(): HeaderEntry {
    return this.connector.tip;
  }

  get futureCount(): number {
    return this.future.size;
  }

  header(hash: string): HeaderEntry | undefined {
    return this.index.get(hash);
  }

  get headerCount(): number {
    return this.index.size;
  }

  /**
   * Run fork choice again: after the store refused a write (disk full) a stored candidate may
   * be heavier than the tip; connect it now that writes work. Returns whether the tip moved.
   */
  async reactivate(): Promise<boolean> {
    this.assertOpen();
    const before = this.tip.hash;
    await this.writer.run(() => this.forkChoice.activateBest());
    return this.tip.hash !== before;
  }

  /** Let queued writes finish and refuse new ones; call before closing the store. */
  async close(): Promise<void> {
    this.closing = true;
    this.admission.close();
    this.future.clear();
    this.seals.close();
    await this.writer.run(async () => undefined);
  }

  private assertOpen(): void {
    if (this.closing) throw new ChainStateError('SHUTTING_DOWN', 'the chain is shutting down');
  }

  /** Ancestor of an entry at a given height (walks the header index). */
  ancestor(entry: HeaderEntry, height: number): HeaderEntry | undefined {
    return this.index.ancestor(entry, height);
  }

  /** Median of the times of `entry` and up to 10 of its ancestors. */
  medianTimePast(entry: HeaderEntry): number {
    return this.index.medianTimePast(entry);
  }

  /** The retarget anchor the children of `entry` use (genesis, or the last block after an outage). */
  anchorFor(entry: HeaderEntry): AsertAnchor {
    return this.index.anchorFor(entry);
  }

  /** Bits the retarget rule requires for a child of `parent`. */
  nextBitsAfter(parent: HeaderEntry): number {
    return this.index.nextBitsAfter(parent);
  }

  /**
   * Decode blocks and verify their sealer signatures ahead of import (SealPrecheck), on the
   * verifier's worker threads when it has them: sync calls this for each chunk of bodies as it
   * arrives, so the checks overlap the import of earlier blocks. An entry is undefined when the
   * bytes do not decode (importBlockBytes reports why).
   */
  prepareBlocks(list: readonly Uint8Array[]): Promise<(PreparedBlock | undefined)[]> {
    return this.seals.prepare(list, (hash) => this.index.get(hash) !== undefined);
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
      if (err instanceof BlockError && err.code === 'TIME_TOO_NEW' && this.future.hold(block)) {
        this.log.info({ hash: block.hashHex, aheadMs: block.header.time - this.modules.clock() }, 'block from the future held back');
      }
      throw err;
    }
  }

  /** Retry held-back blocks that are now due. Returns how many were imported. */
  async retryFutureBlocks(): Promise<number> {
    let imported = 0;
    for (const b of this.future.due(this.modules.clock() + this.params.futureWindowMs)) {
      this.future.release(b.hashHex);
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
    const known = this.index.get(hash);
    if (known) {
      if (known.status === 'invalid') throw new BlockError('INVALID_ANCESTOR', `block ${hash} is known to be invalid (${known.invalidCode ?? 'unknown'})`);
      throw new BlockError('ALREADY_KNOWN', `block ${hash} is already stored`);
    }
    const prevHash = toHex(block.header.prevHash);
    const parent = this.index.get(prevHash);
    if (!parent) throw new BlockError('UNKNOWN_PARENT', `parent ${prevHash} of block ${hash} is unknown`, { parent: prevHash, height: block.header.height });
    if (parent.status === 'invalid') throw new BlockError('INVALID_ANCESTOR', `parent ${prevHash} is invalid`);

    // The registry of the block's own branch at its height (the tip's successor, or a side branch's).
    const registry = parent.hash === this.tip.hash ? this.registry : await this.branches.registryForChildOf(parent);
    checkHeader(block, {
      sealVerified: this.seals.take(block),
      parent,
      mtp: this.index.medianTimePast(parent),
      expectedBits: this.index.nextBitsAfter(parent),
      now: this.modules.clock(),
      params: this.params,
      registry,
    });
    const entry = childEntry(parent, { hash, height: block.header.height, prevHash, time: block.header.time, bits: block.header.bits });
    try {
      checkBody(block, this.params);
      await this.verifyBlockTxs(block, registry === this.registry ? undefined : registry);
    } catch (err) {
      if (err instanceof BlockError && isPermanentFailure(err.code)) await this.forkChoice.markInvalid(entry, err.code);
      throw err;
    }
    await this.modules.store.putBlock(block, bytes, entry);
    this.index.add(entry);
    this.blocks.remember(block);
    if (entry.chainwork <= this.tip.chainwork) {
      this.log.info({ hash, height: entry.height }, 'side-chain block stored');
      return { status: 'side', hash, height: entry.height };
    }
    const before = this.tip;
    await this.forkChoice.activateBest(durable);
    if (this.tip.hash !== hash && this.index.get(hash)?.status === 'invalid') {
      throw new BlockError('BAD_TX', `block ${hash} failed when connected: ${this.index.get(hash)?.invalidCode ?? ''}`);
    }
    const status: ImportStatus = before.hash === prevHash ? 'connected' : 'reorg';
    return { status, hash, height: entry.height };
  }

  /** Stateless tx checks for the txs not already verified in our mempool. */
  private async verifyBlockTxs(block: Block, registry?: MemberRegistry): Promise<void> {
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
    // Standing and roles depend on the block's height on its own branch: checked when it connects.
    const results = await this.modules.verifier.verify(pending, pendingIds, false, registry);
    results.forEach((r, k) => {
      const at = index[k] as number;
      if (r) throw new BlockError('BAD_TX', `tx ${at}: ${r.message}`, { index: at, txCode: r.code });
    });
  }

  /**
   * Admit a tx to the mempool after every check: stateless (verifier) and against the chain
   * and pool (duplicates). Throws TxError; DUPLICATE_EVENT lists every duplicate and where
   * its original is.
   */
  async submitTx(tx: SignedTx, opts: AdmitOptions & { origin?: TxOrigin; /** Replayed from the tx log: its record is there already. */ inLog?: boolean } = {}): Promise<{ txId: string }> {
    const c: CanonicalTx = opts.id && opts.raw ? { id: opts.id, bytes: opts.raw } : canonicalTx(tx);
    const txId = toHex(c.id);
    // A local tx resolves only once its tx log record is fsynced (chain/tx-log-admission.ts).
    const durable = beginDurableAdmission(this.modules.txLog, this.modules.mempool, txId, opts);
    try {
      await this.admission.submit(tx, { ...opts, id: c.id, raw: c.bytes });
      await durable?.record(c.id, c.bytes);
    } finally {
      durable?.done();
    }
    this.emit('tx', tx, txId, opts.origin ?? 'local', c.bytes);
    return { txId };
  }

  /** Where each of these event IDs already is, in the mempool or on the main chain (batched reads). */
  findDuplicateEvents(eventIds: readonly string[]): Promise<DuplicateEvent[]> {
    return this.admission.findDuplicateEvents(eventIds);
  }

  /** Confirmations of a block on the main chain (tip = 1), 0 if not on it. */
  confirmations(height: number | null): number {
    return height === null ? 0 : Math.max(0, this.tip.height - height + 1);
  }

  /** A stored block (checked: see StoredBlocks), or undefined. */
  getBlock(hash: string): Promise<Block | undefined> {
    return this.blocks.get(hash);
  }

  async getMainBlock(height: number): Promise<Block | undefined> {
    if (!Number.isSafeInteger(height) || height < 0 || height > this.tip.height) return undefined;
    const hash = await this.modules.store.getMainHash(height);
    return hash ? this.getBlock(hash) : undefined;
  }

  /** Whether a header entry is on the main chain. */
  async isMain(entry: HeaderEntry): Promise<boolean> {
    return (await this.modules.store.getMainHash(entry.height)) === entry.hash;
  }
}
