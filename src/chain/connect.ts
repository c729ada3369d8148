/**
 * A stage of block import: connecting a stored block to the main chain, and disconnecting the
 * tip (reorgs), each as ONE atomic store batch with the tip pointer in it.
 *
 * A connect checks what only the main chain can say (no tx or event of the block is on it
 * already), runs every event through the item-status rules over an overlay of the block's own
 * writes, and writes the indexes, the item states, the recalled lots and the undo record that
 * lets a disconnect restore the state before. The in-memory tip moves only after the batch is
 * written, so a failed write leaves memory and disk agreeing. While one runs, `stateBusy` is
 * set, and `stateVersion` moves after it, so mempool admission can run its reads outside the
 * chain's writer and still know whether the chain changed under them.
 */
import { BlockError, ChainStateError, StoreDamagedError, TxError } from '../common/errors.js';
import { toHex } from '../common/bytes.js';
import type { Block } from './block.js';
import type { EventIdFilter } from './event-filter.js';
import { linksOfBlock } from './links.js';
import { chainSubmitters, checkDeclarations, declarationsOf, eitherSubmitters, type DeclarationOfTx } from './declarations.js';
import type { Mempool } from './mempool.js';
import { MemberRegistry } from './registry.js';
import { activateAt, applyGovTx, type GovernanceState } from './governance.js';
import { jcs } from './tx.js';
import { AlertStep, disconnectIndexOps } from './alert-state.js';
import type { StoredBlocks } from './stored-blocks.js';
import type { ItemReader, TxRules } from './tx-rules-port.js';
import type { ChainStore, ConnectBatch, EpcHistoryEntry, HeaderEntry, LotKey, StoredItem, TermRow, UndoRecord } from './store.js';
import type { Member } from './types.js';

export interface ConnectModules {
  store: ChainStore;
  rules: TxRules;
  blocks: StoredBlocks;
  mempool: Mempool;
  /** The main chain's event IDs (admission's duplicate pre-check): a connect adds its events. */
  eventFilter: EventIdFilter;
}

/** The EPC history rows of a block: one per item an event names. */
export function historyOf(rules: TxRules, block: Block): EpcHistoryEntry[] {
  const out: EpcHistoryEntry[] = [];
  block.txs.forEach((tx, txIndex) => {
    tx.events.forEach((event, eventIndex) => {
      const eventId = tx.eventIds[eventIndex] as string;
      for (const key of new Set(rules.itemKeysOf(event))) {
        out.push({ key, height: block.header.height, txIndex, eventIndex, eventId });
      }
    });
  });
  return out;
}

/**
 * The query index rows of a block (trace/query-terms.ts): one per term the block's events have,
 * holding those events' positions in chain order (never under an item key: items are not read
 * or written for them).
 */
export function termsOf(rules: Pick<TxRules, 'queryTermsOf'>, block: Block): TermRow[] {
  const of = rules.queryTermsOf;
  if (of === undefined) return [];
  const byTerm = new Map<string, number[]>();
  block.txs.forEach((tx, txIndex) => {
    tx.events.forEach((event, eventIndex) => {
      for (const term of of(event)) {
        const positions = byTerm.get(term);
        if (positions === undefined) byTerm.set(term, [txIndex, eventIndex]);
        else positions.push(txIndex, eventIndex);
      }
    });
  });
  const height = block.header.height;
  return [...byTerm].map(([term, positions]) => ({ term, height, positions }));
}

export class BlockConnector {
  private tipEntry: HeaderEntry;
  private version = 0;
  private busy = false;
  private govState: GovernanceState;
  private nextView: MemberRegistry;
  /** The connect or disconnect running now (settled, never rejected), for readers that wait it out. */
  private running: Promise<void> | undefined;

  constructor(
    private readonly opts: { chainId: string; genesisGovernance: GovernanceState },
    private readonly modules: ConnectModules,
    tip: HeaderEntry,
    /** The governance state at the tip, as stored (undefined: the genesis state). */
    governance: GovernanceState | undefined,
  ) {
    this.tipEntry = tip;
    this.govState = governance ?? opts.genesisGovernance;
    this.nextView = this.viewAt(tip.height + 1);
  }

  /** The governance state at genesis. */
  get genesisGovernance(): GovernanceState {
    return this.opts.genesisGovernance;
  }

  /** The governance state after the tip. */
  get governance(): GovernanceState {
    return this.govState;
  }

  /** The registry at the tip's successor (what the next block and the mempool are checked against). */
  get registry(): MemberRegistry {
    return this.nextView;
  }

  /** The registry at `height` > tip, from the tip's state with the changes due up to it. */
  viewAt(height: number): MemberRegistry {
    let s = this.govState;
    for (let h = this.tipEntry.height + 1; h <= height; h++) s = activateAt(s, h, this.opts.chainId);
    return new MemberRegistry(s, height);
  }

  /** The main chain's tip. */
  get tip(): HeaderEntry {
    return this.tipEntry;
  }

  /** Bumped after every connect or disconnect. */
  get stateVersion(): number {
    return this.version;
  }

  /** A connect or disconnect is running. */
  get stateBusy(): boolean {
    return this.busy;
  }

  /** Connect the stored block of `entry` on top of the tip: one atomic batch. Throws BlockError/TxError for a block the main chain refuses. */
  connect(entry: HeaderEntry, durable = true): Promise<Block> {
    return this.changingState(() => this.connectInner(entry, durable));
  }

  /** Disconnect the tip block (`entry`): one atomic batch restoring its undo data; `parent` becomes the tip. */
  disconnect(entry: HeaderEntry, parent: HeaderEntry): Promise<Block> {
    return this.changingState(() => this.disconnectInner(entry, parent));
  }

  /** Resolves once no connect or disconnect runs (at once when none does). */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async changingState<T>(fn: () => Promise<T>): Promise<T> {
    this.busy = true;
    let ended: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (ended = resolve));
    this.running = running;
    try {
      return await fn();
    } finally {
      this.busy = false;
      this.version++;
      if (this.running === running) this.running = undefined;
      ended();
    }
  }

  private async connectInner(entry: HeaderEntry, durable: boolean): Promise<Block> {
    const { store, rules, blocks, eventFilter, mempool } = this.modules;
    const block = await blocks.read(entry.hash);
    if (entry.prevHash !== this.tipEntry.hash) throw new ChainStateError('NOT_THE_TIP', `connect ${entry.hash}: its parent ${entry.prevHash} is not the tip ${this.tipEntry.hash}`);
    const history = historyOf(rules, block);
    const links = linksOfBlock(block, rules);
    const batch: ConnectBatch = { block, txLocations: [], events: [], history, terms: termsOf(rules, block), links, items: [], recalledLots: [], undo: { items: [], lots: [] } };
    const txIds = block.txIds.map((t) => toHex(t));
    const eventIds = block.txs.flatMap((t) => t.eventIds);
    const itemKeys = [...new Set(history.map((h) => h.key))];
    // One round trip each for what the block must not repeat, and for the items it touches.
    const [txLocs, eventLocs, items] = await Promise.all([store.getTxLocations(txIds), store.getEventLocations(eventIds), store.getItems(itemKeys)]);
    txLocs.forEach((loc, i) => {
      if (loc) throw new BlockError('DUPLICATE_TX', `tx ${txIds[i]} is already on the chain`, { txId: txIds[i] as string });
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
    const registry = this.nextView;
    const governance = this.applyGovernance(block, registry, txIds);
    await this.checkBlockDeclarations(block, registry);
    const before = new Map<string, StoredItem | null>();
    itemKeys.forEach((key, i) => before.set(key, items[i] ?? null));
    const alertRules = rules.alerts;
    const step = alertRules ? new AlertStep({ height: entry.height, time: block.header.time, blockHash: entry.hash, registry }, { rules: alertRules, source: store }) : undefined;
    await this.applyItemEffects(block, batch, before, registry, step, txIds);
    if (step) {
      const derived = step.finish(batch.undo.items, batch.items);
      if (derived.records.length > 0) {
        batch.records = derived.records;
        batch.undo.records = derived.undo;
      }
      if (derived.index.del.length + derived.index.put.length > 0) batch.recordIndex = derived.index;
    }
    // The state is a new object only when the block changed it (an activation, a governance tx).
    if (governance !== this.govState) {
      batch.governance = jcs(governance);
      batch.undo.governance = this.govState === this.opts.genesisGovernance ? null : jcs(this.govState);
    }
    await store.connect(batch, { sync: durable });
    for (const e of batch.events) eventFilter.add(e.eventId);
    this.tipEntry = entry;
    this.setGovernance(governance);
    mempool.removeIncluded(txIds, seenEvents);
    return block;
  }

  /**
   * Error declarations (chain/declarations.ts): each declared event on the main chain or in this
   * block (anywhere in it: a pool returns a reorged original after its declaration), declared by
   * its submitter or a regulator. Throws TxError.
   */
  private async checkBlockDeclarations(block: Block, registry: MemberRegistry): Promise<void> {
    const { rules, store, blocks } = this.modules;
    const all = block.txs.map((tx) => declarationsOf(rules, tx));
    if (all.every((d) => d.length === 0)) return;
    const inBlock = new Map<string, string>();
    for (const tx of block.txs) for (const id of tx.eventIds) inBlock.set(id, tx.submitter);
    const lookup = eitherSubmitters(async (ids) => ids.map((id) => inBlock.get(id)), chainSubmitters(store, (hash) => blocks.read(hash)));
    for (const [i, tx] of block.txs.entries()) {
      const decls = all[i] as DeclarationOfTx[];
      if (decls.length > 0) await checkDeclarations(tx, registry.get(tx.submitter) as Member, decls, lookup);
    }
  }

  private setGovernance(state: GovernanceState): void {
    this.govState = state;
    this.nextView = this.viewAt(this.tipEntry.height + 1);
  }

  /**
   * The membership rules at the block's height (the registry with the changes due at it): the
   * sealer's right, each submitter's standing and role, and the governance txs in order.
   * Returns the governance state after the block. Throws BlockError/TxError.
   */
  private applyGovernance(block: Block, registry: MemberRegistry, txIds: readonly string[]): GovernanceState {
    const height = block.header.height;
    const sealer = toHex(block.header.sealer);
    if (!registry.canSealAt(sealer, height)) throw new BlockError('NOT_A_SEALER', `sealer ${sealer} is not a member with the seal right at height ${height}`);
    let state = registry.state;
    for (const [i, tx] of block.txs.entries()) {
      const s = registry.signer(tx.submitter);
      if ('error' in s) throw s.error;
      if (tx.kind === 'epcis' || tx.kind === 'private') this.modules.rules.checkRoles(tx, s.member);
      else if (tx.gov !== undefined) state = applyGovTx(state, tx.gov, { chainId: this.opts.chainId, height, txId: txIds[i] as string, submitter: tx.submitter });
    }
    return state;
  }

  /**
   * Run every event through the item-status rules over an overlay of this block's writes.
   * `before` holds the pre-block state of the items the block names (prefetched); other items
   * (children of a shipped case, say) are read on demand and remembered there.
   */
  private async applyItemEffects(
    block: Block,
    batch: ConnectBatch,
    before: Map<string, StoredItem | null>,
    registry: MemberRegistry,
    step: AlertStep | undefined,
    txIds: readonly string[],
  ): Promise<void> {
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
      prefetch: async (keys) => {
        const missing = keys.filter((k) => !items.has(k) && !before.has(k));
        if (missing.length === 0) return;
        const got = await store.getItems(missing);
        missing.forEach((k, i) => before.set(k, got[i] ?? null));
      },
    };
    const write = async (item: StoredItem): Promise<void> => {
      if (!items.has(item.key)) undo.items.push({ key: item.key, prev: await prior(item.key) });
      items.set(item.key, item);
    };
    for (const [i, tx] of block.txs.entries()) {
      const submitter = registry.get(tx.submitter) as Member;
      // Alert and pack txs (chain/alert-state.ts): a lifecycle change, an undone dispense, a code check.
      if (step && tx.alert !== undefined) await step.onAlertTx(tx, txIds[i] as string);
      if (step && tx.pack !== undefined) for (const item of await step.onPackTx(tx, txIds[i] as string, reader)) await write(item);
      for (const [j, event] of tx.events.entries()) {
        const eventId = tx.eventIds[j] as string;
        const effects = await rules.applyEvent(reader, { event, eventId, submitter, blockTime: block.header.time });
        const priorOf = new Map<string, StoredItem | null>();
        if (step) for (const item of effects.items) priorOf.set(item.key, items.get(item.key) ?? (await prior(item.key)));
        for (const item of effects.items) await write(item);
        if (step) await step.onEvent({ event, eventId, txId: txIds[i] as string, submitter, items: effects.items, prior: priorOf, recalledLots: effects.recalledLots, reader });
        for (const lot of effects.recalledLots) {
          const key = lotKey(lot);
          if (lots.has(key)) continue;
          const prev = await store.isLotRecalled(lot);
          if (prev) continue;
          lots.set(key, lot);
          undo.lots.push({ lot, prev });
        }
      }
    }
    batch.items = [...items.values()];
    batch.recalledLots = [...lots.values()];
  }

  private async disconnectInner(entry: HeaderEntry, parent: HeaderEntry): Promise<Block> {
    const { store, rules, blocks } = this.modules;
    if (entry.hash !== this.tipEntry.hash) throw new ChainStateError('NOT_THE_TIP', `disconnect ${entry.hash}: the tip is ${this.tipEntry.hash}`);
    const block = await blocks.read(entry.hash);
    const undo = await store.getUndo(entry.hash);
    if (!undo) throw new StoreDamagedError(entry.hash, 'has no undo data (run tracechain reindex)');
    const recordIndex = rules.alerts ? await disconnectIndexOps(rules.alerts, store, undo) : undefined;
    await store.disconnect({
      ...(recordIndex && recordIndex.del.length + recordIndex.put.length > 0 ? { recordIndex } : {}),
      block,
      txIds: block.txIds.map((t) => toHex(t)),
      eventIds: block.txs.flatMap((t) => t.eventIds),
      history: historyOf(rules, block),
      terms: termsOf(rules, block),
      links: linksOfBlock(block, rules),
      undo,
      newTip: { hash: parent.hash, height: parent.height },
    });
    this.tipEntry = parent;
    if (undo.governance !== undefined) this.setGovernance(undo.governance === null ? this.opts.genesisGovernance : (JSON.parse(undo.governance) as GovernanceState));
    else this.setGovernance(this.govState);
    return block;
  }
}
