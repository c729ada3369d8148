/** Miner API: find a nonce for a header template, cancellable, with a hash-rate readout. */
import type { KernelChoice } from '../kernel/index.js';

export interface MineJob {
  /** 112-byte header; its nonce bytes are ignored. Copied when mining starts. */
  header: Uint8Array;
  /** Proof of work holds when SHA-256d(header), read big-endian, is <= target (0 <= target < 2^256). */
  target: bigint;
  /**
   * First nonce of worker 0's range (default 0n). Worker i scans
   * [nonceBase + i·rangeSize, nonceBase + (i+1)·rangeSize) upwards; ranges never overlap.
   */
  nonceBase?: bigint;
  /** Nonces per worker (default 2^56: with base 0 the worker index is the nonce's top byte). */
  rangeSize?: bigint;
}

export interface MineResult {
  /** The job's header with the winning nonce written in (a copy). */
  header: Uint8Array;
  nonce: bigint;
  /** SHA-256d of `header`, recomputed on the calling thread with the reference hash. */
  hash: Uint8Array;
  /** Hashes computed for this job by all workers, as reported when it was found. */
  hashes: number;
  /** Index of the worker whose range holds the nonce. */
  worker: number;
}

export interface MinerInfo {
  kernel: string;
  workers: number;
}

export interface Miner {
  /**
   * Mines one job. Resolves null when `signal` aborts, when another mine() call supersedes
   * this one (template refresh: same workers, new job), when close() is called, or when every
   * worker has exhausted its nonce range. Rejects on invalid jobs and on worker failures.
   */
  mine(job: MineJob, signal?: AbortSignal): Promise<MineResult | null>;
  /** Hashes per second over the recent moving window (about 5 s). */
  hashrate(): number;
  /** Hashes computed since the miner was created. */
  totalHashes(): bigint;
  /** Resolves once the kernel is loaded (and, for the pool, every worker is up and warm). */
  ready(): Promise<MinerInfo>;
  /** Stops mining (the pending job resolves null) and releases workers. Idempotent. */
  close(): Promise<void>;
}

/** Structurally satisfied by a pino logger. */
export interface MinerLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MinerOptions {
  /** Hash kernel (default `auto`: wasm SIMD where supported, else TypeScript). */
  kernel?: KernelChoice;
  /** Target duration of one uninterrupted kernel slice in ms (default 5). */
  sliceMs?: number;
  /** The SHA-256d wasm file (default: next to the compiled kernel module). */
  wasmUrl?: URL;
  logger?: MinerLogger;
}

export interface PoolOptions extends MinerOptions {
  /** Worker threads (default max(1, cores - 1)). */
  workers?: number;
  /** Worker entry script (default: the compiled runtime/miner-worker.js). */
  workerUrl?: URL;
}
