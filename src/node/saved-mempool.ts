/**
 * Pending txs across a graceful restart: saved to DATA/mempool.dat at shutdown, re-admitted at
 * the next start through the chain's normal admission (signature, rules, duplicates: those
 * mined meanwhile are dropped). The file format is storage/mempool-file.ts.
 */
import { rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.js';
import { TxError } from '../common/errors.js';
import { decodeCanonicalTx } from '../chain/tx.js';
import { loadMempoolFile, MempoolFileError, removeMempoolFile, saveMempoolFile } from '../storage/mempool-file.js';

/** Txs re-admitted at once: signatures are checked on the verifier pool, whose queue is bounded. */
const RESTORE_CONCURRENCY = 32;

/**
 * Re-admit the txs saved by the last graceful shutdown, then delete the file. A file that does
 * not check out is moved aside (`.bad`) and the node starts with an empty pool.
 */
export async function restoreMempool(path: string, chain: Chain, log: Logger): Promise<void> {
  let saved: Uint8Array[] | undefined;
  try {
    saved = await loadMempoolFile(path, chain.params.maxTxBytes);
  } catch (err) {
    if (!(err instanceof MempoolFileError)) throw err;
    log.warn({ err: err.message, path }, 'saved mempool is unreadable; moved aside to mempool.dat.bad, starting with an empty pool');
    await rename(path, `${path}.bad`);
    return;
  }
  if (saved === undefined) return;
  let restored = 0;
  const dropped: Record<string, number> = {};
  const admit = async (raw: Uint8Array): Promise<void> => {
    try {
      const { tx, id } = decodeCanonicalTx(raw, chain.limits);
      await chain.submitTx(tx, { id, raw, origin: 'local' });
      restored++;
    } catch (err) {
      if (!(err instanceof TxError)) throw err;
      dropped[err.code] = (dropped[err.code] ?? 0) + 1;
    }
  };
  for (let i = 0; i < saved.length; i += RESTORE_CONCURRENCY) await Promise.all(saved.slice(i, i + RESTORE_CONCURRENCY).map(admit));
  await removeMempoolFile(path);
  log.info({ saved: saved.length, restored, dropped }, 'mempool restored from the last shutdown');
}

/** Save the pending txs for the next start; a failure is logged, not thrown (the node is stopping). */
export async function saveMempool(path: string, chain: Chain, log: Logger): Promise<void> {
  const entries = chain.mempool.select(Number.MAX_SAFE_INTEGER);
  try {
    if (entries.length === 0) {
      await removeMempoolFile(path);
      return;
    }
    await saveMempoolFile(path, entries.map((e) => e.raw));
    log.info({ txs: entries.length, path }, 'mempool saved for the next start');
  } catch (err) {
    log.error({ err, path }, "mempool not saved: its pending txs live on only in peers' mempools");
  }
}
