/**
 * A stage of block import: fork choice. Moves the main chain's tip to the valid candidate with
 * the most cumulative work (on a tie the tip, first seen, stays), disconnecting down to the fork
 * and connecting up the new branch one block and one batch at a time. A block that fails to
 * connect is marked invalid with its descendants, and the previous chain is restored before the
 * next best candidate is tried. Txs of disconnected blocks that the new chain lacks go back to
 * the mempool. Runs in the chain's writer.
 */
import type { Logger } from 'pino';
import { BlockError, TxError } from '../common/errors.js';
import { toHex } from '../common/bytes.js';
import type { Block } from './block.js';
import type { HeaderIndex } from './header-index.js';
import type { BlockConnector } from './connect.js';
import type { TxAdmission } from './admission.js';
import type { ChainStore, HeaderEntry } from './store.js';
import type { SignedTx } from './types.js';

export interface ReorgInfo {
  fork: { hash: string; height: number };
  disconnected: string[];
  connected: string[];
  orphanedTxs: number;
}

/** What the chain tells its listeners, in this order: each block connected, the new tip, each tx returned to the pool, the reorg. */
export interface ForkChoiceHooks {
  connected(block: Block): void;
  tip(tip: HeaderEntry): void;
  returned(tx: SignedTx, txId: string, bytes: Uint8Array): void;
  reorg(info: ReorgInfo): void;
  /** After each block connected on the way to a new tip (reindex progress). */
  progress?(height: number, targetHeight: number): void;
}

export interface ForkChoiceModules {
  index: HeaderIndex;
  connector: BlockConnector;
  admission: TxAdmission;
  store: Pick<ChainStore, 'putHeaderEntry'>;
  logger: Logger;
  hooks: ForkChoiceHooks;
}

/** Connect attempts per activation (each failure marks a block invalid, so the next try differs). */
const MAX_ATTEMPTS = 8;

export class ForkChoice {
  constructor(private readonly modules: ForkChoiceModules) {}

  /** Mark a block (and its indexed descendants) invalid, in the index and the store. */
  async markInvalid(entry: HeaderEntry, code: string): Promise<void> {
    const bad = this.modules.index.markInvalid(entry, code);
    for (const b of bad) await this.modules.store.putHeaderEntry(b);
    this.modules.logger.warn({ hash: entry.hash, height: entry.height, code, descendants: bad.length - 1 }, 'block marked invalid');
  }

  /** Move the tip to the most-work valid chain, reorganising as needed. */
  async activateBest(durable = true): Promise<void> {
    const { index, connector } = this.modules;
    for (let attempts = 0; attempts < MAX_ATTEMPTS; attempts++) {
      const best = index.best(connector.tip);
      if (best.hash === connector.tip.hash) return;
      if (await this.reorgTo(best, durable)) return;
    }
  }

  /** Returns false (state unchanged) when a block on the new branch fails to connect. */
  private async reorgTo(target: HeaderEntry, durable: boolean): Promise<boolean> {
    const { index, connector, hooks, logger } = this.modules;
    const { fork, disconnect, connect } = index.pathBetween(connector.tip, target);
    const disconnectedBlocks: Block[] = [];
    for (const e of disconnect) disconnectedBlocks.push(await connector.disconnect(e, index.parentOf(e)));
    const connectedBlocks: Block[] = [];
    for (const e of connect) {
      try {
        connectedBlocks.push(await connector.connect(e, durable));
        hooks.progress?.(e.height, target.height);
      } catch (err) {
        if (!(err instanceof BlockError || err instanceof TxError)) throw err;
        logger.warn({ hash: e.hash, height: e.height, err: err.message }, 'block failed to connect; restoring the previous chain');
        await this.markInvalid(e, err.code);
        for (const c of [...connectedBlocks].reverse()) {
          const entry = index.get(c.hashHex) as HeaderEntry;
          await connector.disconnect(entry, index.parentOf(entry));
        }
        for (const d of [...disconnectedBlocks].reverse()) await connector.connect(index.get(d.hashHex) as HeaderEntry);
        return false;
      }
    }
    for (const blk of connectedBlocks) hooks.connected(blk);
    hooks.tip(connector.tip);
    if (disconnect.length > 0) {
      const info: ReorgInfo = {
        fork: { hash: fork.hash, height: fork.height },
        disconnected: disconnect.map((e) => e.hash),
        connected: connect.map((e) => e.hash),
        orphanedTxs: await this.returnOrphans(disconnectedBlocks),
      };
      logger.warn(info, 'reorg');
      hooks.reorg(info);
    }
    return true;
  }

  /** After a reorg, orphaned txs not on the new chain go back to the mempool. */
  private async returnOrphans(blocks: Block[]): Promise<number> {
    let returned = 0;
    for (const block of blocks) {
      for (const [i, tx] of block.txs.entries()) {
        const id = block.txIds[i] as Uint8Array;
        const bytes = block.txBytes[i] as Uint8Array;
        try {
          await this.modules.admission.admitLocked(tx, { id, bytes });
          this.modules.hooks.returned(tx, toHex(id), bytes);
          returned++;
        } catch (err) {
          if (!(err instanceof TxError)) throw err;
          // ALREADY_KNOWN / DUPLICATE_EVENT: the new chain already holds it; nothing is lost.
        }
      }
    }
    return returned;
  }
}
