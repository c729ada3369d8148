/**
 * The durable half of admitting a local tx (Chain.submitTx): the tx is held out of block
 * templates from before it enters the mempool until its tx log record is fsynced; if the
 * append fails it leaves the mempool again and the error goes to the caller, so the node
 * answers 503 instead of 202 and the tx was neither acknowledged nor offered to a block.
 */
import type { Mempool } from './mempool.js';
import type { TxLog } from './tx-log.js';

export interface DurableAdmission {
  /** Call after the tx entered the mempool: append its record; resolves once fsynced. */
  record(id: Uint8Array, bytes: Uint8Array): Promise<void>;
  /** Call once, whatever happened (a finally): lifts the hold. */
  done(): void;
}

/**
 * Start a durable admission when the tx needs a record: a tx submitted locally, with a tx log
 * configured, whose record is not already in the log (replay passes `inLog`). Undefined otherwise.
 */
export function beginDurableAdmission(
  log: TxLog | undefined,
  mempool: Mempool,
  idHex: string,
  opts: { origin?: string; inLog?: boolean },
): DurableAdmission | undefined {
  if (log === undefined || (opts.origin ?? 'local') !== 'local' || opts.inLog === true) return undefined;
  mempool.hold(idHex);
  return {
    async record(id, bytes) {
      try {
        await log.appendTx(id, bytes);
      } catch (err) {
        mempool.remove(idHex);
        throw err;
      }
    },
    done() {
      mempool.release(idHex);
    },
  };
}
