/**
 * Mempool admission: a tx enters the pool only after every check, stateless (the verifier:
 * shape, chain ID, submitter, signature, events and role rules) and against the chain and the
 * pool (its events must be new, and it must not be on the chain already). Duplicates are
 * refused with where their original is.
 *
 * Admission is optimistic: its chain reads run outside the chain's writer, and the tx is added
 * only if no block was connected or disconnected meanwhile (BlockConnector's state version),
 * else it goes through the writer like a block, so captures do not wait behind block imports.
 * A Bloom filter of the main chain's event IDs (filled from the store in the background after
 * open) lets a capture of new events skip the duplicate read.
 */
import type { Logger } from 'pino';
import { ChainStateError, TxError } from '../common/errors.js';
import { toHex } from '../common/bytes.js';
import { canonicalTx, type CanonicalTx } from './tx.js';
import type { EventIdFilter } from './event-filter.js';
import type { Mempool, PoolEntry } from './mempool.js';
import { applyGovTx } from './governance.js';
import { checkAlertTx } from './alert-state.js';
import type { MemberRegistry } from './registry.js';
import type { TxRules } from './tx-rules-port.js';
import type { StoredBlocks } from './stored-blocks.js';
import { chainSubmitters, checkDeclarations, declarationsOf, eitherSubmitters } from './declarations.js';
import type { SerialQueue } from './serial.js';
import type { TxVerifier } from './tx-verifier.js';
import type { ChainStore, EventLocation } from './store.js';
import type { SignedTx } from './types.js';

export interface DuplicateEvent {
  eventId: string;
  txId: string;
  block: { hash: string; height: number } | null;
}

export interface AdmitOptions {
  id?: Uint8Array;
  /** Canonical bytes, when the caller already has them (with `id`). */
  raw?: Uint8Array;
  /** Built and signed by this node after the same checks: skip re-verifying. */
  verified?: boolean;
}

export interface AdmissionModules {
  store: ChainStore;
  mempool: Mempool;
  verifier: TxVerifier;
  rules: TxRules;
  clock: () => number;
  logger: Logger;
  /** The chain's single writer: an admission that raced a connect waits its turn there. */
  writer: SerialQueue;
  /** Whether a connect/disconnect runs, and how many have run (BlockConnector); the registry at the tip's successor. */
  state: { readonly stateVersion: number; readonly stateBusy: boolean; readonly registry: MemberRegistry };
  /** The main chain's event IDs; connects add to it. */
  eventFilter: EventIdFilter;
  /** Stored blocks (who submitted an event an error declaration names). */
  blocks: Pick<StoredBlocks, 'read'>;
}

function alreadyInBlock(idHex: string, loc: { blockHash: string; height: number }): TxError {
  return new TxError('ALREADY_KNOWN', `tx ${idHex} is already in block ${loc.height}`, { txId: idHex, block: { hash: loc.blockHash, height: loc.height } });
}

export class TxAdmission {
  /** The filter holds every stored event (filled from the store after open); until then it is not asked. */
  private filterReady = false;
  private filterFill: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(
    private readonly opts: { maxTxBytes: number; chainId: string },
    private readonly modules: AdmissionModules,
  ) {}

  /**
   * Add every stored event ID to the filter, in the background (~1 s per million events), then let
   * admission use it. Blocks connected meanwhile add their own events as they connect.
   */
  startFilterFill(): void {
    this.filterFill = this.fillFilter();
  }

  /** Resolves once the event filter holds every stored event (or failed to, then it is not used). */
  whenFilterFilled(): Promise<void> {
    return this.filterFill;
  }

  /** Refuse new admissions (the chain is shutting down). */
  close(): void {
    this.closing = true;
  }

  private async fillFilter(): Promise<void> {
    const { store, eventFilter, clock, logger } = this.modules;
    const started = clock();
    try {
      for await (const digests of store.eventDigestBatches()) {
        if (this.closing) return;
        for (const d of digests) eventFilter.addDigest(d);
      }
      this.filterReady = true;
      logger.info({ events: eventFilter.size, ms: clock() - started }, 'event filter ready');
    } catch (err) {
      if (this.closing) return;
      // Admission keeps reading the store for every event: slower, never wrong.
      logger.warn({ err: (err as Error).message }, 'event filter not built; duplicate checks read the store');
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new ChainStateError('SHUTTING_DOWN', 'the chain is shutting down');
  }

  /**
   * Admit a tx after every check. Throws TxError (DUPLICATE_EVENT lists every duplicate and where
   * its original is). Returns its ID and canonical bytes.
   */
  async submit(tx: SignedTx, opts: AdmitOptions = {}): Promise<CanonicalTx> {
    const { mempool, verifier, state, writer, clock } = this.modules;
    const c: CanonicalTx = opts.id && opts.raw ? { id: opts.id, bytes: opts.raw } : canonicalTx(tx);
    const idHex = toHex(c.id);
    if (c.bytes.length > this.opts.maxTxBytes) throw new TxError('OVERSIZE', `tx is ${c.bytes.length} bytes, limit ${this.opts.maxTxBytes}`);
    if (mempool.has(idHex)) throw new TxError('ALREADY_KNOWN', `tx ${idHex} is already pending`, { txId: idHex, block: null });
    if (!opts.verified) {
      const [result] = await verifier.verify([tx], [c.id]);
      if (result) throw result;
    }
    this.checkStanding(tx, idHex, state.registry);
    const version = state.stateVersion;
    let admitted = false;
    if (!state.stateBusy) {
      await this.checkAdmissible(tx, c);
      if (!state.stateBusy && state.stateVersion === version) {
        this.assertOpen();
        mempool.add(tx, c.id, c.bytes, clock());
        admitted = true;
      }
    }
    if (!admitted) await writer.run(() => this.admitLocked(tx, c));
    return c;
  }

  /** Admit a checked tx with the chain's writer held (a reorg returning orphans, or a raced submit). */
  async admitLocked(tx: SignedTx, c: CanonicalTx): Promise<void> {
    this.assertOpen();
    this.checkStanding(tx, toHex(c.id), this.modules.state.registry);
    await this.checkAdmissible(tx, c);
    this.modules.mempool.add(tx, c.id, c.bytes, this.modules.clock());
  }

  /**
   * The registry's rules at the tip's successor (cheap, on this thread, for local txs too): the
   * submitter's standing and role, and for a governance tx the governance rules against the
   * chain's state. Throws TxError.
   */
  private checkStanding(tx: SignedTx, idHex: string, registry: MemberRegistry): void {
    const s = registry.signer(tx.submitter);
    if ('error' in s) throw s.error;
    if (tx.kind === 'epcis' || tx.kind === 'private') this.modules.rules.checkRoles(tx, s.member);
    else if (tx.gov !== undefined) applyGovTx(registry.state, tx.gov, { chainId: this.opts.chainId, height: registry.height, txId: idHex, submitter: tx.submitter });
  }

  /**
   * The entries of a selection that a block at the registry's height takes, in order: each
   * checked as the block's connect will check it (governance txs in sequence, so two approvals
   * of one member never share a block). Entries refused for good leave the pool.
   */
  fitForBlock(entries: readonly PoolEntry[], registry: MemberRegistry): PoolEntry[] {
    let state = registry.state;
    const out: PoolEntry[] = [];
    for (const e of entries) {
      try {
        const s = registry.signer(e.tx.submitter);
        if ('error' in s) throw s.error;
        if (e.tx.kind === 'epcis' || e.tx.kind === 'private') this.modules.rules.checkRoles(e.tx, s.member);
        else if (e.tx.gov !== undefined) state = applyGovTx(state, e.tx.gov, { chainId: this.opts.chainId, height: registry.height, txId: e.idHex, submitter: e.tx.submitter });
        out.push(e);
      } catch (err) {
        if (!(err instanceof TxError)) throw err;
        this.modules.mempool.remove(e.idHex);
        this.modules.logger.info({ txId: e.idHex, code: err.code }, 'pending tx dropped: the registry at the next height refuses it');
      }
    }
    // An error declaration whose declared event is still pending goes in the block of that event, not before it.
    const chosen = new Set(out.map((e) => e.idHex));
    return out.filter((e) =>
      declarationsOf(this.modules.rules, e.tx).every((d) => {
        const pending = this.modules.mempool.txOfEvent(d.declaredId);
        return pending === undefined || chosen.has(pending);
      }),
    );
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
    // An alert's lifecycle change must be allowed by the alert's state at the tip (chain/alert-state.ts).
    if (tx.alert !== undefined) await checkAlertTx(this.modules.store, this.modules.state.registry, tx);
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
    const decls = declarationsOf(this.modules.rules, tx);
    if (decls.length > 0) {
      const s = this.modules.state.registry.signer(tx.submitter);
      if ('error' in s) throw s.error;
      await checkDeclarations(tx, s.member, decls, eitherSubmitters(this.pendingSubmitters, chainSubmitters(this.modules.store, (hash) => this.modules.blocks.read(hash))));
    }
  }

  /** The submitters of pending events (their txs in the pool). */
  private readonly pendingSubmitters = async (eventIds: readonly string[]): Promise<(string | undefined)[]> => {
    const { mempool } = this.modules;
    return eventIds.map((id) => {
      const txId = mempool.txOfEvent(id);
      return txId === undefined ? undefined : mempool.get(txId)?.tx.submitter;
    });
  };

  /** Where each of these event IDs already is, in the mempool or on the main chain (batched reads). */
  async findDuplicateEvents(eventIds: readonly string[]): Promise<DuplicateEvent[]> {
    const { mempool, store, eventFilter } = this.modules;
    const out: DuplicateEvent[] = [];
    const onChain: string[] = [];
    for (const eventId of eventIds) {
      const pending = mempool.txOfEvent(eventId);
      if (pending !== undefined) out.push({ eventId, txId: pending, block: null });
      else onChain.push(eventId);
    }
    // Events the filter has never seen are certainly not on the chain: read only the others.
    const toRead = this.filterReady ? onChain.filter((id) => eventFilter.mightContain(id)) : onChain;
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
}
