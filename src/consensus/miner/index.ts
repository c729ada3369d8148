/** Proof-of-work miners: a worker-thread pool for nodes, a single-thread one for tests. */
import { WorkerPoolMiner } from './pool.js';
import { SingleThreadMiner } from './single.js';
import type { Miner, PoolOptions } from './types.js';

export type { MineJob, MineResult, Miner, MinerInfo, MinerLogger, MinerOptions, PoolOptions } from './types.js';
export { WorkerPoolMiner, defaultWorkerCount, MAX_WORKERS } from './pool.js';
export { SingleThreadMiner } from './single.js';
export { workerRanges, checkJob, verifyNonce, headerWithNonce, DEFAULT_RANGE_SIZE, type NonceRange } from './nonce-space.js';
export { HashrateMeter } from './meter.js';

/**
 * Creates a miner and waits until it is ready (kernel loaded, workers up), so a broken build
 * or runtime fails here rather than at the first block. `workers: 0` mines on the calling
 * thread in short slices (SingleThreadMiner); otherwise a WorkerPoolMiner with that many
 * workers (default max(1, cores − 1)).
 */
export async function createMiner(opts: PoolOptions = {}): Promise<Miner> {
  const miner: Miner = opts.workers === 0 ? new SingleThreadMiner(opts) : new WorkerPoolMiner(opts);
  try {
    await miner.ready();
  } catch (err) {
    await miner.close();
    throw err;
  }
  return miner;
}
