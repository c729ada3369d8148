/**
 * Miner worker thread entry (for consensus/miner/pool.ts). Mines the job it is sent in slices of about `sliceMs`, checking the
 * shared control word between slices: when it no longer holds this job's id (abort, new job,
 * close) the worker stops within one slice and returns to its message loop. Hash totals go to
 * a shared counter after every slice. Errors are not caught: they end the worker and reach the
 * pool's 'error' handler, which rejects the pending job.
 */
import './shims.js';
import { parentPort, workerData } from 'node:worker_threads';
import { createKernel, targetToBytes } from '../consensus/kernel/index.js';
import type { FromWorker, ToWorker, WorkerInit } from '../consensus/miner/protocol.js';

const MIN_SLICE = 64;
const MAX_SLICE = 1 << 22;

if (parentPort === null) throw new Error('miner worker must run in a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;
const ctrl = new Int32Array(init.ctrl);
const counters = new BigUint64Array(init.counters);
const kernel = await createKernel(init.kernel, init.wasmUrl === undefined ? undefined : new URL(init.wasmUrl));
let total = 0;
let counting = false;
let slice = 1024;

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

/** Runs `count` nonces and adapts the slice size towards sliceMs per slice. */
function timedScan(start: bigint, count: number, target: Uint8Array): ReturnType<typeof kernel.scan> {
  const t0 = performance.now();
  const r = kernel.scan(start, count, target);
  const dt = performance.now() - t0;
  total += r.hashes;
  // The warm-up's hashes are not reported: the pool samples the counters from its start, and a
  // counter that went back to 0 afterwards would read as a negative hash rate.
  if (counting) Atomics.store(counters, init.index, BigInt(total));
  const ideal = dt > 0.01 ? (count * init.sliceMs) / dt : count * 2;
  slice = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.round((slice + ideal) / 2)));
  return r;
}

function mine(job: ToWorker): void {
  if (Atomics.load(ctrl, 0) !== job.jobId) return; // superseded before it started
  kernel.setHeader(job.header);
  let n = job.start;
  while (Atomics.load(ctrl, 0) === job.jobId) {
    const left = job.end - n;
    if (left === 0n) {
      post({ type: 'exhausted', jobId: job.jobId });
      return;
    }
    const count = left < BigInt(slice) ? Number(left) : slice;
    const r = timedScan(n, count, job.target);
    if (r.found) {
      post({ type: 'found', jobId: job.jobId, nonce: r.nonce });
      return;
    }
    n += BigInt(count);
  }
}

// Warm up (wasm tiers up from the baseline compiler to the optimising one after some calls)
// and size the slices, so a job's first milliseconds already run at full speed.
{
  kernel.setHeader(new Uint8Array(112));
  const never = targetToBytes(0n);
  const until = performance.now() + 60;
  let n = 0n;
  while (performance.now() < until) {
    const count = slice;
    timedScan(n, count, never);
    n += BigInt(count);
  }
  total = 0;
  counting = true;
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'job') mine(msg);
});
post({ type: 'ready', kernel: kernel.name });
