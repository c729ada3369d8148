/**
 * The full audit as the CLI and a restore run it: with the tx verification (a signature and a
 * CBV 2.0 hash per event) on a worker pool, so it uses the machine's cores while the main thread
 * reads blocks, compares the indexes and replays item state (chain/audit.ts). The pool lives for
 * one audit and is closed after it, whatever the outcome.
 */
import { availableParallelism } from 'node:os';
import { auditChain, type AuditOptions, type AuditReport } from '../chain/audit.js';
import { WorkerPoolTxVerifier } from '../chain/verifier-pool.js';
import type { ChainStore } from '../chain/store.js';
import type { TxRules } from '../chain/tx-rules-port.js';
import type { Genesis } from '../chain/types.js';

export interface AuditRunOptions extends Omit<AuditOptions, 'verifier'> {
  /** Verifier worker threads (default: one per core; 0 verifies on the main thread). */
  workers?: number;
}

export async function runAudit(store: ChainStore, genesis: Genesis, rules: TxRules, onProgress?: (done: number, total: number) => void, opts: AuditRunOptions = {}): Promise<AuditReport> {
  const { workers: wanted, ...rest } = opts;
  const workers = wanted ?? Math.max(1, availableParallelism());
  // A snapshot check verifies no tx signatures: no pool to start.
  if (workers === 0 || rest.indexSample !== undefined) return auditChain(store, genesis, rules, onProgress, rest);
  // Small chunks: a block's few large txs spread over every worker instead of filling one.
  const verifier = new WorkerPoolTxVerifier({ workers, chunkSize: 2 }, { genesis });
  try {
    return await auditChain(store, genesis, rules, onProgress, { ...rest, verifier });
  } finally {
    await verifier.close();
  }
}
