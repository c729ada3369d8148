/** Messages between the worker pool and its workers (structured clone; bigints allowed). */
import type { KernelChoice } from '../kernel/index.js';

/** Control word values other than a job id (job ids are positive). */
export const CTRL_IDLE = 0;
export const CTRL_CLOSED = -1;

export interface WorkerInit {
  index: number;
  /** Int32Array(1): the id of the job workers should be mining, or CTRL_IDLE / CTRL_CLOSED. */
  ctrl: SharedArrayBuffer;
  /** BigUint64Array(workers): each worker's running hash total, written after every slice. */
  counters: SharedArrayBuffer;
  kernel: KernelChoice;
  wasmUrl: string | undefined;
  sliceMs: number;
}

export interface JobMessage {
  type: 'job';
  jobId: number;
  header: Uint8Array;
  target: Uint8Array;
  start: bigint;
  end: bigint;
}

export type ToWorker = JobMessage;

export type FromWorker =
  | { type: 'ready'; kernel: string }
  | { type: 'found'; jobId: number; nonce: bigint }
  | { type: 'exhausted'; jobId: number };
