/**
 * `tracechain reindex`: rebuild every index of a stopped node's store from its stored blocks.
 * Clears the indexes (main chain, tx/event locations, history, items, recalled lots, undo),
 * then opens the chain on the store, whose own start-up activation reconnects every block of
 * the most-work chain with the same connect logic as a live import (one synced batch each).
 * Stored blocks are checked against their hash and merkle root as they are read, so a damaged
 * block stops the reindex with its name instead of indexing wrong data.
 */
import { ClassicLevel } from 'classic-level';
import { pino } from 'pino';
import { Chain } from '../../chain/chain.js';
import { StoreDamagedError } from '../../common/errors.js';
import { genesisBlock } from '../../chain/genesis.js';
import { Mempool } from '../../chain/mempool.js';
import { MemberRegistry } from '../../chain/registry.js';
import { InlineTxVerifier } from '../../chain/tx-verifier.js';
import { LevelChainStore, StorageError } from '../../storage/index.js';
import { traceRules } from '../../trace/chain-rules.js';
import { DataDir, FILES } from '../data-dir.js';
import { progressBar, type Progress } from '../progress.js';

export interface ReindexReport {
  ok: boolean;
  height: number;
  tip: string;
  blocksConnected: number;
  /** Blocks whose per-tx proof copies were rewritten. */
  proofRecords: number;
  cleared: Record<string, number>;
  ms: number;
  error?: string;
}

export async function reindexCommand(
  opts: { data: string; json?: boolean; repair?: boolean; progress?: Progress },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const dir = new DataDir(opts.data);
  const genesis = await dir.readGenesis();
  if (!genesis) {
    err.write(`reindex: no consortium in ${dir.path} (no ${FILES.genesis})\n`);
    return 2;
  }
  let store: LevelChainStore;
  if (opts.repair) {
    // LevelDB's own repair: rebuilds the manifest from whatever table and log files survive
    // (deleted CURRENT/MANIFEST, garbled files). The reindex below then rebuilds the indexes.
    try {
      await ClassicLevel.repair(dir.file(FILES.chain));
    } catch (e) {
      err.write(`reindex: LevelDB repair failed: ${(e as Error).message}\n`);
      return 1;
    }
  }
  try {
    store = await LevelChainStore.open(dir.file(FILES.chain));
  } catch (e) {
    if (e instanceof StorageError && e.code === 'LOCKED') {
      err.write(`reindex: refusing to run: ${e.message}. Stop the node first (reindex rewrites every index).\n`);
      return 3;
    }
    err.write(`reindex: cannot open the store: ${(e as Error).message}${opts.repair ? '' : ' (try tracechain reindex --repair)'}\n`);
    return 1;
  }
  const bar = opts.progress ?? progressBar('reindex');
  const started = Date.now();
  const report: ReindexReport = { ok: false, height: 0, tip: '', blocksConnected: 0, proofRecords: 0, cleared: {}, ms: 0 };
  try {
    const cleared = await store.clearIndexes();
    report.cleared = cleared.deleted as Record<string, number>;
    const chainId = genesisBlock(genesis).hashHex;
    const rules = traceRules();
    const chain = await Chain.open(
      {
        genesis,
        onConnect: (height, target) => {
          report.blocksConnected++;
          bar.update(height, target);
        },
      },
      {
        store,
        rules,
        verifier: new InlineTxVerifier({ chainId }, { registry: MemberRegistry.fromGenesis(genesis), rules }),
        mempool: new Mempool({ maxTxs: 1, maxBytes: 1 }),
        clock: Date.now,
        logger: pino({ level: 'silent' }),
      },
    );
    await chain.close();
    // The per-tx copies kept for proofs: rewritten from the blocks just reconnected (repairs a
    // damaged copy; gives blocks stored by older builds theirs).
    for (let h = 1; h <= chain.tip.height; h++) {
      const block = await chain.getMainBlock(h);
      if (!block) throw new Error(`main-chain block ${h} vanished during reindex`);
      await store.putProofRecords(block);
      report.proofRecords++;
    }
    report.ok = true;
    report.height = chain.tip.height;
    report.tip = chain.tip.hash;
  } catch (e) {
    report.error =
      e instanceof StoreDamagedError
        ? `${e.message}. The indexes now end at the last good block; restore this block by re-syncing from peers (start the node with --bootstrap) or from a backup`
        : (e as Error).message;
  } finally {
    bar.stop();
    await store.close();
  }
  report.ms = Date.now() - started;
  if (opts.json) out.write(JSON.stringify(report) + '\n');
  else if (report.ok) out.write(`reindex ok: ${report.blocksConnected} blocks reconnected, tip ${report.height} (${report.tip}) in ${report.ms} ms\n`);
  else err.write(`reindex FAILED: ${report.error}\n`);
  return report.ok ? 0 : 1;
}
