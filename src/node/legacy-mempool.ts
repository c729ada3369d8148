/**
 * The `DATA/mempool.dat` of releases before the tx log (their graceful stop saved pending txs
 * there): read once at start, each tx admitted through the normal checks as a local tx (so the
 * tx log records it), then the file is deleted. A file that does not check out is moved aside
 * (`.bad`). If the tx log cannot take them now, the file stays for the next start.
 */
import { rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.js';
import { TxError } from '../common/errors.js';
import { decodeCanonicalTx } from '../chain/tx.js';
import { TxLogError } from '../chain/tx-log.js';
import { loadMempoolFile, MempoolFileError, removeMempoolFile } from '../storage/mempool-file.js';

/** Txs admitted at once: signatures are checked on the verifier pool, whose queue is bounded. */
const CONCURRENCY = 32;

export interface LegacyImport {
  saved: number;
  restored: number;
  dropped: Record<string, number>;
}

export async function importLegacyMempool(path: string, chain: Chain, log: Logger): Promise<LegacyImport | undefined> {
  let saved: Uint8Array[] | undefined;
  try {
    saved = await loadMempoolFile(path, chain.params.maxTxBytes);
  } catch (err) {
    if (!(err instanceof MempoolFileError)) throw err;
    log.warn({ err: err.message, path }, 'mempool.dat of an earlier release is unreadable; moved aside to mempool.dat.bad');
    await rename(path, `${path}.bad`);
    return undefined;
  }
  if (saved === undefined) return undefined;
  const figures: LegacyImport = { saved: saved.length, restored: 0, dropped: {} };
  let unwritable: TxLogError | undefined;
  const admit = async (raw: Uint8Array): Promise<void> => {
    try {
      const { tx, id } = decodeCanonicalTx(raw, chain.limits);
      await chain.submitTx(tx, { id, raw, origin: 'local' });
      figures.restored++;
    } catch (err) {
      if (err instanceof TxLogError) {
        unwritable ??= err;
        return;
      }
      if (!(err instanceof TxError)) throw err;
      figures.dropped[err.code] = (figures.dropped[err.code] ?? 0) + 1;
    }
  };
  for (let i = 0; i < saved.length; i += CONCURRENCY) await Promise.all(saved.slice(i, i + CONCURRENCY).map(admit));
  if (unwritable !== undefined) {
    log.error({ err: unwritable.message, path, ...figures }, 'mempool.dat of an earlier release not fully imported (the tx log refused writes); kept for the next start');
    return figures;
  }
  await removeMempoolFile(path);
  log.info({ ...figures, path }, 'mempool.dat of an earlier release imported into the tx log and deleted');
  return figures;
}
