/**
 * Builds the query index (the terms bucket's rows, trace/query-terms.ts) of a store written by a
 * build without it, or with an older version of it: each main-chain block is read and decoded, its rows
 * computed with the node's rules (as block connect computes them), and the store writes them and
 * marks the index complete (LevelChainStore.addQueryTerms). Runs at start, before the chain
 * opens, so nothing else writes meanwhile; a crash part-way leaves the index unmarked, built
 * again at the next start. Until then queries without an EPC scan the chain (api/query.ts).
 */
import type { Logger } from 'pino';
import { decodeBlock, type BlockLimits } from '../chain/block.js';
import { termsOf } from '../chain/connect.js';
import type { TermRow } from '../chain/store.js';
import type { TxRules } from '../chain/tx-rules-port.js';
import { StoreDamagedError } from '../common/errors.js';
import type { LevelChainStore } from '../storage/index.js';

/** Rows per store write (each a block's events with one term). */
const BATCH = 2_000;
/** Progress log interval. */
const LOG_EVERY_MS = 5_000;

export async function backfillQueryTerms(store: LevelChainStore, rules: Pick<TxRules, 'queryTermsOf'>, limits: BlockLimits, logger: Pick<Logger, 'info'>, clock: () => number = Date.now): Promise<boolean> {
  if (store.queryTermsReady() || rules.queryTermsOf === undefined) return false;
  const started = clock();
  const tipHash = await store.getTip();
  const tip = tipHash === undefined ? undefined : await store.getHeaderEntry(tipHash);
  const target = tip?.height ?? 0;
  logger.info({ blocks: target }, 'building the query index from the stored blocks (store written by an older build)');
  let lastLog = started;
  let blocks = 0;
  async function* source(): AsyncGenerator<TermRow[]> {
    let batch: TermRow[] = [];
    for await (const { height, hash } of store.iterateMainChain(1)) {
      const bytes = await store.getBlockBytes(hash);
      if (bytes === undefined) throw new StoreDamagedError(hash, `is on the main chain at height ${height} but not stored`);
      const block = decodeBlock(bytes, limits);
      if (block.hashHex !== hash) throw new StoreDamagedError(hash, `is stored with a header that hashes to ${block.hashHex}`);
      for (const row of termsOf(rules, block)) batch.push(row);
      blocks++;
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
      if (clock() - lastLog >= LOG_EVERY_MS) {
        lastLog = clock();
        logger.info({ height, target }, 'building the query index');
      }
    }
    yield batch;
  }
  const rows = await store.addQueryTerms(source());
  logger.info({ blocks, rows, ms: clock() - started }, 'query index built');
  return true;
}
