/**
 * Worker-pool miner: N `worker_threads` (default max(1, cores − 1)), each scanning its own
 * slice of the nonce space (see nonce-space.ts). Coordination is one shared control word: it
 * holds the id of the job being mined; abort, a new job or close() changes it and every worker
 * stops within one ~5 ms slice. A new job (template refresh, new tip) reuses the same workers.
 * Workers report hash totals through shared counters (read by hashrate()/totalHashes()) and
 * post a message only when they find a nonce or exhaust their range. A found nonce is checked
 * again here with the reference hash before mine() resolves. Workers are unref'd while idle,
 * so an idle pool never keeps a process alive; close() terminates them.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { workerEntryUrl } from '../../runtime/worker-entries.js';
import { HashrateMeter } from './meter.js';
import { checkJob, rangeIndexOf, verifyNonce, type NonceRange } from './nonce-space.js';
import { CTRL_CLOSED, CTRL_IDLE, type FromWorker, type JobMessage, type WorkerInit } from './protocol.js';
import type { MineJob, MineResult, Miner, MinerInfo, MinerLogger, PoolOptions } from './types.js';

export const MAX_WORKERS = 256;

interface ActiveJob {
  id: number;
  header: Uint8Array;
  target: Uint8Array;
  ranges: NonceRange[];
  startTotal: bigint;
  exhausted: number;
  resolve: (r: MineResult | null) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

export class WorkerPoolMiner implements Miner {
  readonly workers: number;
  private readonly ctrl: Int32Array;
  private readonly counters: BigUint64Array;
  private readonly threads: Worker[] = [];
  private live = 0;
  private readonly readyPromise: Promise<MinerInfo>;
  private resolveReady!: (info: MinerInfo) => void;
  private rejectReady!: (err: Error) => void;
  private readyCount = 0;
  private kernelName = '';
  private nextJobId = 1;
  private active: ActiveJob | undefined;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly meter = new HashrateMeter();
  private readonly sampler: NodeJS.Timeout;
  private readonly log: MinerLogger | undefined;

  constructor(opts: PoolOptions = {}) {
    const workers = opts.workers ?? defaultWorkerCount();
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new RangeError(`workers must be an integer in [1, ${MAX_WORKERS}]`);
    const sliceMs = opts.sliceMs ?? 5;
    if (!(sliceMs > 0)) throw new RangeError('sliceMs must be positive');
    this.workers = workers;
    this.log = opts.logger;
    const ctrl = new SharedArrayBuffer(4);
    const counters = new SharedArrayBuffer(8 * workers);
    this.ctrl = new Int32Array(ctrl);
    this.counters = new BigUint64Array(counters);
    this.readyPromise = new Promise<MinerInfo>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // a startup failure is also kept in this.failure and reported by mine(); this handler only
    // stops it from counting as unhandled when nobody awaits ready()
    this.readyPromise.catch(() => undefined);
    const workerUrl = opts.workerUrl ?? workerEntryUrl('miner');
    for (let i = 0; i < workers; i++) {
      const init: WorkerInit = { index: i, ctrl, counters, kernel: opts.kernel ?? 'auto', wasmUrl: opts.wasmUrl?.href, sliceMs };
      const w = new Worker(workerUrl, { workerData: init, name: `tracechain-miner-${i}` });
      w.unref();
      w.on('message', (m: FromWorker) => this.onMessage(i, m));
      w.on('error', (err: Error) => this.fail(new Error(`miner worker ${i} failed: ${err.message}`, { cause: err })));
      w.on('messageerror', (err: Error) => this.fail(new Error(`miner worker ${i} sent an unreadable message: ${err.message}`, { cause: err })));
      this.live++;
      w.on('exit', (code: number) => {
        this.live--;
        if (this.closing === undefined) this.fail(new Error(`miner worker ${i} exited unexpectedly with code ${code}`));
      });
      this.threads.push(w);
    }
    this.sampler = setInterval(() => this.meter.sample(this.totalHashes(), performance.now()), 250);
    this.sampler.unref();
  }

  ready(): Promise<MinerInfo> {
    return this.readyPromise;
  }

  mine(job: MineJob, signal?: AbortSignal): Promise<MineResult | null> {
    if (this.closing !== undefined) return Promise.reject(new Error('miner closed'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let checked;
    try {
      checked = checkJob(job, this.workers);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.active !== undefined) this.settle(this.active, null);
    if (signal?.aborted) return Promise.resolve(null);
    return new Promise<MineResult | null>((resolve, reject) => {
      const id = this.nextJobId;
      this.nextJobId = this.nextJobId >= 0x7fffffff ? 1 : this.nextJobId + 1;
      const active: ActiveJob = {
        id,
        ...checked,
        startTotal: this.totalHashes(),
        exhausted: 0,
        resolve,
        reject,
        signal,
        onAbort: () => this.settle(active, null),
      };
      this.active = active;
      signal?.addEventListener('abort', active.onAbort, { once: true });
      this.readyPromise.then(
        () => this.start(active),
        (err: unknown) => this.settle(active, null, err),
      );
    });
  }

  private start(job: ActiveJob): void {
    if (this.active !== job) return; // aborted or superseded while the workers were starting
    Atomics.store(this.ctrl, 0, job.id);
    for (let i = 0; i < this.threads.length; i++) {
      const range = job.ranges[i] as NonceRange;
      const msg: JobMessage = { type: 'job', jobId: job.id, header: job.header, target: job.target, start: range.start, end: range.end };
      const w = this.threads[i] as Worker;
      w.ref();
      w.postMessage(msg);
    }
  }

  private settle(job: ActiveJob, result: MineResult | null, err?: unknown): void {
    if (this.active !== job) return;
    this.active = undefined;
    if (Atomics.load(this.ctrl, 0) === job.id) Atomics.store(this.ctrl, 0, CTRL_IDLE);
    for (const w of this.threads) w.unref();
    job.signal?.removeEventListener('abort', job.onAbort);
    if (err !== undefined) job.reject(err);
    else job.resolve(result);
  }

  private onMessage(i: number, m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        this.kernelName = m.kernel;
        if (++this.readyCount === this.workers) {
          this.log?.debug({ workers: this.workers, kernel: this.kernelName }, 'miner workers ready');
          this.resolveReady({ kernel: this.kernelName, workers: this.workers });
        }
        return;
      case 'found': {
        const job = this.active;
        if (job === undefined || job.id !== m.jobId) return; // a nonce for a job already over: expected, not an error
        if (rangeIndexOf(job.ranges, m.nonce) !== i) {
          this.settle(job, null, new Error(`miner worker ${i} reported nonce ${m.nonce} outside its range`));
          return;
        }
        let checked;
        try {
          checked = verifyNonce(job.header, m.nonce, job.target, this.kernelName);
        } catch (err) {
          this.settle(job, null, err);
          return;
        }
        const hashes = Number(this.totalHashes() - job.startTotal);
        this.settle(job, { header: checked.header, nonce: m.nonce, hash: checked.hash, hashes, worker: i });
        return;
      }
      case 'exhausted': {
        const job = this.active;
        if (job === undefined || job.id !== m.jobId) return;
        if (++job.exhausted === this.workers) this.settle(job, null);
        return;
      }
    }
  }

  private fail(err: Error): void {
    if (this.failure !== undefined || this.closing !== undefined) return;
    this.failure = err;
    this.log?.warn({ err }, 'miner worker failed; the pool is out of service');
    this.rejectReady(err);
    if (this.active !== undefined) this.settle(this.active, null, err);
    Atomics.store(this.ctrl, 0, CTRL_CLOSED);
    for (const w of this.threads) void w.terminate();
  }

  /** Thread ids of the workers (stable for the pool's life: jobs never replace workers). */
  threadIds(): number[] {
    return this.threads.map((w) => w.threadId);
  }

  /** Workers that have not exited yet. */
  liveWorkers(): number {
    return this.live;
  }

  hashrate(): number {
    return this.meter.rate(this.totalHashes(), performance.now());
  }

  totalHashes(): bigint {
    let t = 0n;
    for (let i = 0; i < this.workers; i++) t += Atomics.load(this.counters, i);
    return t;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        Atomics.store(this.ctrl, 0, CTRL_CLOSED);
        if (this.active !== undefined) this.settle(this.active, null);
        clearInterval(this.sampler);
        this.rejectReady(new Error('miner closed'));
        await Promise.all(this.threads.map((w) => w.terminate()));
      })();
    }
    return this.closing;
  }
}
