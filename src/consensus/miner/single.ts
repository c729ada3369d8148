/**
 * Single-thread miner (tests, tiny targets, runtimes without worker threads): runs the kernel
 * on the calling thread in slices of about `sliceMs` and yields to the event loop between
 * slices, so it never blocks the loop for long.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createKernel, type HashKernel } from '../kernel/index.js';
import { HashrateMeter } from './meter.js';
import { checkJob, rangeIndexOf, verifyNonce } from './nonce-space.js';
import type { MineJob, MineResult, Miner, MinerInfo, MinerOptions } from './types.js';

const MIN_SLICE = 64;
const MAX_SLICE = 1 << 22;

export class SingleThreadMiner implements Miner {
  private readonly kernelPromise: Promise<HashKernel>;
  private readonly sliceMs: number;
  private readonly meter = new HashrateMeter();
  private total = 0n;
  private slice = 1024;
  private closed = false;
  /** Cancels the running job (resolving it null). */
  private cancelCurrent: (() => void) | undefined;

  constructor(opts: MinerOptions = {}) {
    this.sliceMs = opts.sliceMs ?? 5;
    if (!(this.sliceMs > 0)) throw new RangeError('sliceMs must be positive');
    this.kernelPromise = createKernel(opts.kernel ?? 'auto', opts.wasmUrl);
    // a failed load is reported by ready() and mine(); keep it from being an unhandled rejection meanwhile
    this.kernelPromise.catch(() => undefined);
  }

  async ready(): Promise<MinerInfo> {
    const k = await this.kernelPromise;
    return { kernel: k.name, workers: 1 };
  }

  mine(job: MineJob, signal?: AbortSignal): Promise<MineResult | null> {
    if (this.closed) return Promise.reject(new Error('miner closed'));
    let checked;
    try {
      checked = checkJob(job, 1);
    } catch (err) {
      return Promise.reject(err);
    }
    this.cancelCurrent?.();
    if (signal?.aborted) return Promise.resolve(null);
    const { header, target, ranges } = checked;
    const range = ranges[0] as { start: bigint; end: bigint };
    return new Promise<MineResult | null>((resolve, reject) => {
      let done = false;
      const finish = (r: MineResult | null, err?: unknown): void => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        if (this.cancelCurrent === cancel) this.cancelCurrent = undefined;
        if (err !== undefined) reject(err);
        else resolve(r);
      };
      const cancel = (): void => finish(null);
      const onAbort = (): void => finish(null);
      this.cancelCurrent = cancel;
      signal?.addEventListener('abort', onAbort, { once: true });

      const run = async (): Promise<void> => {
        const kernel = await this.kernelPromise;
        let n = range.start;
        let jobHashes = 0;
        if (done) return;
        // only one job's loop runs at a time: a superseded loop stops at its next check of `done`
        kernel.setHeader(header);
        while (!done) {
          const left = range.end - n;
          if (left === 0n) return finish(null);
          const count = left < BigInt(this.slice) ? Number(left) : this.slice;
          const t0 = performance.now();
          const r = kernel.scan(n, count, target);
          const dt = performance.now() - t0;
          this.total += BigInt(r.hashes);
          jobHashes += r.hashes;
          if (r.found) {
            const v = verifyNonce(header, r.nonce, target, kernel.name);
            return finish({ header: v.header, nonce: r.nonce, hash: v.hash, hashes: jobHashes, worker: rangeIndexOf(ranges, r.nonce) });
          }
          n += BigInt(count);
          const ideal = dt > 0.01 ? (count * this.sliceMs) / dt : count * 2;
          this.slice = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.round((this.slice + ideal) / 2)));
          await yieldToLoop();
        }
      };
      run().then(
        () => finish(null),
        (err: unknown) => finish(null, err ?? new Error('mining failed')),
      );
    });
  }

  hashrate(): number {
    return this.meter.rate(this.total, performance.now());
  }

  totalHashes(): bigint {
    return this.total;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelCurrent?.();
  }
}
