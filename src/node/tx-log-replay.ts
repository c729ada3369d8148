/**
 * Start-up replay of the tx log: report what opening it found (torn tail cut, damage moved
 * aside), then re-admit every live record through the chain's normal admission in log order:
 * signatures and rules by the verifier (a window of records at a time, on its workers), then
 * the duplicate checks against the chain and the mempool, one tx after the other (so the
 * mempool keeps capture order). A tx mined meanwhile is refused ALREADY_KNOWN and its record
 * kept until final (chain/tx-log-finality.ts drops it); a tx refused for good is dropped and
 * logged, never skipped silently.
 */
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.js';
import { toHex } from '../common/bytes.js';
import { TxError, type TxErrorCode } from '../common/errors.js';
import { decodeCanonicalTx } from '../chain/tx.js';
import type { TxVerifier } from '../chain/tx-verifier.js';
import type { SignedTx } from '../chain/types.js';
import type { FileTxLog, LogRecord, TxLogOpenReport } from '../storage/tx-log.js';
import { RECORD_KIND } from '../storage/tx-log-format.js';

/** Refusals that say "not now" or "already there": the record stays until finality decides. */
const KEEP: ReadonlySet<TxErrorCode> = new Set(['ALREADY_KNOWN', 'DUPLICATE_EVENT', 'MEMPOOL_FULL', 'TIME_TOO_NEW']);
/** Records verified per round trip to the verifier. */
const WINDOW = 64;

export interface ReplayFigures {
  records: number;
  /** Admitted to the mempool again. */
  restored: number;
  /** Refused but kept (mined already, a duplicate pending, the pool full): by code. */
  kept: Record<string, number>;
  /** Refused for good and dropped from the log (each logged): by code. */
  dropped: Record<string, number>;
}

/** Log what opening the tx log found. */
export function reportTxLogOpen(report: TxLogOpenReport, log: Logger): void {
  for (const t of report.tornTails) {
    log.warn({ segment: t.segment, offset: t.offset, bytes: t.bytes, reason: t.reason }, 'tx log: torn tail cut at the last good record (a write the stop interrupted, never acknowledged)');
  }
  for (const d of report.damaged) {
    log.error({ segment: d.segment, offset: d.offset, bytes: d.bytes, reason: d.reason, movedTo: d.movedTo }, 'tx log: damaged bytes moved aside; the records after them are replayed');
  }
  for (const r of report.removed) log.info({ segment: r.segment, bytes: r.bytes, reason: r.reason }, 'tx log: empty segment removed');
}

export async function replayTxLog(txLog: FileTxLog, chain: Chain, verifier: TxVerifier, log: Logger): Promise<ReplayFigures> {
  const figures: ReplayFigures = { records: 0, restored: 0, kept: {}, dropped: {} };
  const drop: string[] = [];
  const refuse = (key: string, code: string, reason: string): void => {
    figures.dropped[code] = (figures.dropped[code] ?? 0) + 1;
    drop.push(key);
    log.warn({ txId: key, code, reason }, 'tx log record refused for good at replay: dropped');
  };
  let window: LogRecord[] = [];
  const admitWindow = async (): Promise<void> => {
    const decoded: { key: string; tx: SignedTx; id: Uint8Array; raw: Uint8Array }[] = [];
    for (const r of window) {
      try {
        const d = decodeCanonicalTx(r.payload, chain.limits);
        if (toHex(d.id) !== r.key) refuse(r.key, 'KEY_MISMATCH', `the record's tx hashes to ${toHex(d.id)}`);
        else decoded.push({ key: r.key, tx: d.tx, id: d.id, raw: r.payload });
      } catch (err) {
        if (!(err instanceof TxError)) throw err;
        refuse(r.key, err.code, err.message);
      }
    }
    window = [];
    const results = await verifier.verify(
      decoded.map((d) => d.tx),
      decoded.map((d) => d.id),
    );
    for (const [i, d] of decoded.entries()) {
      const bad = results[i];
      if (bad) {
        refuse(d.key, bad.code, bad.message);
        continue;
      }
      try {
        await chain.submitTx(d.tx, { id: d.id, raw: d.raw, origin: 'local', verified: true, inLog: true });
        figures.restored++;
      } catch (err) {
        if (!(err instanceof TxError)) throw err;
        if (KEEP.has(err.code)) figures.kept[err.code] = (figures.kept[err.code] ?? 0) + 1;
        else refuse(d.key, err.code, err.message);
      }
    }
  };
  for await (const r of txLog.replay()) {
    if (r.kind !== RECORD_KIND.tx) continue;
    figures.records++;
    window.push(r);
    if (window.length >= WINDOW) await admitWindow();
  }
  if (window.length > 0) await admitWindow();
  if (drop.length > 0) await txLog.settle(drop);
  if (figures.records > 0) log.info({ ...figures }, 'tx log replayed');
  return figures;
}
