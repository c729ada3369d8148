/**
 * When a tx log record may be dropped: its tx is on the main chain at finality depth k (the
 * consortium's `finalityDepth`: confirmations ≥ k), or it can never be recorded (one of its
 * events is in another tx that is final, or admission refused it for good at replay). Until
 * then the record stays, so a crash, a reorg shallower than k or a restart never loses it.
 *
 * Driven by the chain's events: `noteBlock` for each connected block (heights of logged txs,
 * without reading the store), `noteReorg` (forget them), `update` after each tip change (one
 * run at a time; a request during a run runs once more after it). Each settle is confirmed
 * against the store first (tx location at a final height), so a stale note cannot drop a
 * record whose block was disconnected.
 */
import type { Logger } from 'pino';
import { toHex } from '../common/bytes.js';
import type { Block } from './block.js';
import type { Mempool } from './mempool.js';
import type { ChainStore } from './store.js';
import { decodeCanonicalTx, type TxLimits } from './tx.js';
import type { TxLog } from './tx-log.js';

export interface TxLogFinalityOptions {
  /** Confirmations at which a tx is final (k). */
  finalityDepth: number;
  limits: TxLimits;
}

export interface TxLogFinalityModules {
  txLog: TxLog;
  mempool: Pick<Mempool, 'has'>;
  store: Pick<ChainStore, 'getTxLocations' | 'getEventLocations'>;
  logger: Logger;
}

export interface FinalityRun {
  /** Records dropped because their tx is final. */
  final: number;
  /** Records dropped because their tx can never be recorded (an event of it is final in another tx). */
  superseded: number;
  /** Live records neither pending nor on the main chain, kept (a reorg in progress, or refused for now). */
  unplaced: number;
}

const READ_BATCH = 4_096;

export class TxLogFinality {
  /** Logged tx → height of the main-chain block holding it, as noted from connected blocks. */
  private readonly heights = new Map<string, number>();
  /**
   * Unplaced tx → the tip height when its events were last looked up, and the lowest height of
   * another tx holding one of them (if any). Looked up again when that height becomes final, or
   * (none found) k blocks later.
   */
  private readonly unplacedSeen = new Map<string, { checkedAt: number; conflictHeight: number | undefined }>();
  private running: Promise<void> | undefined;
  private again = false;
  private latestTip = 0;
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly opts: TxLogFinalityOptions,
    private readonly modules: TxLogFinalityModules,
  ) {
    if (!Number.isSafeInteger(opts.finalityDepth) || opts.finalityDepth < 1) throw new RangeError('finalityDepth must be a positive integer');
    this.log = modules.logger.child({ module: 'tx-log' });
  }

  /** A block was connected to the main chain. */
  noteBlock(block: Block): void {
    for (const id of block.txIds) this.heights.set(toHex(id), block.header.height);
    // Only logged txs are kept (bounded by the log); the rest is dropped at the next run.
  }

  /** The main chain changed below its tip: forget every noted height (the store is asked again). */
  noteReorg(): void {
    this.heights.clear();
    this.unplacedSeen.clear();
  }

  /** Settle what the tip at `tipHeight` makes final; coalesces with a run in progress. */
  update(tipHeight: number): Promise<void> {
    this.latestTip = Math.max(this.latestTip, tipHeight);
    if (this.stopped) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.runOnce(this.latestTip);
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Start no more passes; resolves once the one running (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  /** One pass over the live records at a given tip (exported for tests through update). */
  async runOnce(tipHeight: number): Promise<FinalityRun> {
    const { txLog, mempool, store } = this.modules;
    const finalHeight = tipHeight - this.opts.finalityDepth + 1;
    const live = new Set<string>();
    const candidates: string[] = [];
    const unknown: string[] = [];
    for (const id of txLog.liveTxIds()) {
      live.add(id);
      if (mempool.has(id)) continue;
      const h = this.heights.get(id);
      if (h === undefined) unknown.push(id);
      else if (h <= finalHeight) candidates.push(id);
    }
    // Heights noted for txs that have no record (gossip, or settled) are not needed.
    for (const id of this.heights.keys()) if (!live.has(id)) this.heights.delete(id);
    for (const id of this.unplacedSeen.keys()) if (!live.has(id)) this.unplacedSeen.delete(id);

    const unplaced: string[] = [];
    for (let i = 0; i < unknown.length; i += READ_BATCH) {
      const ids = unknown.slice(i, i + READ_BATCH);
      const locs = await store.getTxLocations(ids);
      ids.forEach((id, j) => {
        const loc = locs[j];
        if (loc === undefined) unplaced.push(id);
        else {
          this.heights.set(id, loc.height);
          if (loc.height <= finalHeight) candidates.push(id);
        }
      });
    }
    // Confirm against the store: on the main chain, at a final height, now.
    const settle: string[] = [];
    for (let i = 0; i < candidates.length; i += READ_BATCH) {
      const ids = candidates.slice(i, i + READ_BATCH);
      const locs = await store.getTxLocations(ids);
      ids.forEach((id, j) => {
        const loc = locs[j];
        if (loc !== undefined && loc.height <= finalHeight) settle.push(id);
        else this.heights.delete(id);
      });
    }
    const final = settle.length;
    const superseded = await this.superseded(unplaced, tipHeight, finalHeight);
    settle.push(...superseded);
    if (settle.length > 0) {
      for (const id of settle) {
        this.heights.delete(id);
        this.unplacedSeen.delete(id);
      }
      await txLog.settle(settle);
    }
    if (superseded.length > 0) this.log.info({ txs: superseded.length }, 'tx log records dropped: each tx has an event recorded final in another tx');
    return { final, superseded: superseded.length, unplaced: unplaced.length - superseded.length };
  }

  /**
   * Of txs neither pending nor on the main chain: those with an event that is final in another
   * tx (a conflicting capture won; admission would refuse them forever).
   */
  private async superseded(unplaced: readonly string[], tipHeight: number, finalHeight: number): Promise<string[]> {
    const { txLog, store } = this.modules;
    const out: string[] = [];
    for (const id of unplaced) {
      const seen = this.unplacedSeen.get(id);
      if (seen !== undefined) {
        const due = seen.conflictHeight !== undefined ? seen.conflictHeight <= finalHeight : tipHeight - seen.checkedAt >= this.opts.finalityDepth;
        if (!due) continue;
      }
      let eventIds: string[];
      try {
        const bytes = await txLog.readTx(id);
        if (bytes === undefined) continue;
        eventIds = decodeCanonicalTx(bytes, this.opts.limits).tx.eventIds;
      } catch (err) {
        this.unplacedSeen.set(id, { checkedAt: tipHeight, conflictHeight: undefined });
        this.log.warn({ txId: id, err: (err as Error).message }, 'tx log record not readable to check for a conflicting final tx; kept');
        continue;
      }
      const locs = await store.getEventLocations(eventIds);
      const others = [...new Set(locs.flatMap((l) => (l !== undefined && l.txId !== id ? [l.txId] : [])))];
      const heights = others.length === 0 ? [] : (await store.getTxLocations(others)).flatMap((l) => (l !== undefined ? [l.height] : []));
      const conflictHeight = heights.length === 0 ? undefined : Math.min(...heights);
      if (conflictHeight !== undefined && conflictHeight <= finalHeight) out.push(id);
      else this.unplacedSeen.set(id, { checkedAt: tipHeight, conflictHeight });
    }
    return out;
  }
}
