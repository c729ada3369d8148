/**
 * Builds the links index (storage bucket `links`, trace/journey.ts) of a store written by a build
 * without it: each main-chain block is read and decoded, its link records computed with the
 * trace rules (as block connect computes them), and the store rewrites the bucket and marks
 * itself current (LevelChainStore.rebuildLinks). Runs at start, before the chain opens, so
 * nothing else writes meanwhile; a crash part-way leaves the store as it was, rebuilt again at
 * the next start. About as long as reading every block once (logged with progress).
 */
import type { Logger } from 'pino';
import { decodeBlock, type BlockLimits } from '../chain/block.js';
import { StoreDamagedError } from '../common/errors.js';
import { linksOfBlock } from '../chain/links.js';
import type { LinkEntry } from '../chain/store.js';
import type { TxRules } from '../chain/tx-rules-port.js';
import type { LevelChainStore } from '../storage/index.js';

/** Link records per store write. */
const BATCH = 10_000;
/** Progress log interval. */
const LOG_EVERY_MS = 5_000;

export async function backfillLinks(store: LevelChainStore, rules: Pick<TxRules, 'linksOf'>, limits: BlockLimits, logger: Pick<Logger, 'info'>, clock: () => number = Date.now): Promise<boolean> {
  if (store.linksReady()) return false;
  const started = clock();
  const tipHash = await store.getTip();
  const tip = tipHash === undefined ? undefined : await store.getHeaderEntry(tipHash);
  const target = tip?.height ?? 0;
  logger.info({ blocks: target }, 'building the links index from the stored blocks (store written by an older build)');
  let lastLog = started;
  let blocks = 0;
  async function* source(): AsyncGenerator<LinkEntry[]> {
    let batch: LinkEntry[] = [];
    for await (const { height, hash } of store.iterateMainChain(1)) {
      const bytes = await store.getBlockBytes(hash);
      if (bytes === undefined) throw new StoreDamagedError(hash, `is on the main chain at height ${height} but not stored`);
      const block = decodeBlock(bytes, limits);
      if (block.hashHex !== hash) throw new StoreDamagedError(hash, `is stored with a header that hashes to ${block.hashHex}`);
      for (const l of linksOfBlock(block, rules)) batch.push(l);
      blocks++;
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
      if (clock() - lastLog >= LOG_EVERY_MS) {
        lastLog = clock();
        logger.info({ height, target }, 'building the links index');
      }
    }
    yield batch;
  }
  const records = await store.rebuildLinks(source());
  logger.info({ blocks, records, ms: clock() - started }, 'links index built');
  return true;
}
