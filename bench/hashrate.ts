/**
 * `tracechain bench hashrate`: proof-of-work hash rate of the miner's kernel.
 *
 * Three phases, run one after another on the same header, each in its own worker pool
 * (startup and the first quarter of each phase, up to 1 s, are not timed):
 *   1. baseline: one worker hashing with @noble/hashes, sha256(sha256(header)) per nonce;
 *   2. the kernel with one worker;
 *   3. the kernel with `workers` workers (skipped when workers = 1).
 * Each phase mines a job whose target no hash meets and counts hashes over its measured
 * window. `ratio` = per-worker rate of phase 3 (or 2) / baseline; `scaling` maps a worker
 * count ("1", "N") to the hashes per second measured with it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkerPoolMiner } from '../src/consensus/miner/index.js';
import { NOBLE_KERNEL_NAME, type KernelChoice } from '../src/consensus/kernel/index.js';

export interface HashrateReport {
  /** Kernel measured (e.g. `wasm-simd128`). */
  kernel: string;
  workers: number;
  /** Hashes per second with `workers` workers. */
  hashesPerSecond: number;
  /** hashesPerSecond / workers. */
  perWorker: number;
  /** @noble/hashes sha256(sha256(header)) per nonce, one worker, same header, same run. */
  baselinePerWorker: number;
  /** perWorker / baselinePerWorker. */
  ratio: number;
  /** Hashes per second by worker count: keys "1" and String(workers). */
  scaling: Record<string, number>;
}

export interface BenchHashrateOptions {
  /** Total measured time, split between the phases. */
  seconds: number;
  workers: number;
  /** Called about every 100 ms with measured milliseconds done and planned. */
  onProgress?: (done: number, total: number) => void;
  /** Kernel to measure (default `auto`). */
  kernel?: KernelChoice;
  /** Worker entry and wasm file (defaults: the compiled ones next to the miner). */
  workerUrl?: URL;
  wasmUrl?: URL;
}

const BENCH_HEADER = (() => {
  const h = new Uint8Array(112);
  for (let i = 0; i < 112; i++) h[i] = (i * 151 + 29) & 0xff;
  return h;
})();

interface Phase {
  kernel: KernelChoice;
  workers: number;
  ms: number;
}

export async function benchHashrate(opts: BenchHashrateOptions): Promise<HashrateReport> {
  const { seconds, workers } = opts;
  if (!(typeof seconds === 'number' && seconds > 0 && Number.isFinite(seconds))) throw new RangeError('seconds must be a positive number');
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError('workers must be a positive integer');
  const kernel = opts.kernel ?? 'auto';
  const totalMs = Math.round(seconds * 1000);
  const phaseCount = workers > 1 ? 3 : 2;
  const phaseMs = totalMs / phaseCount;
  const phases: Phase[] = [
    { kernel: NOBLE_KERNEL_NAME, workers: 1, ms: phaseMs },
    { kernel, workers: 1, ms: phaseMs },
  ];
  if (workers > 1) phases.push({ kernel, workers, ms: phaseMs });

  let doneBefore = 0;
  const progress = (phaseDone: number): void => opts.onProgress?.(Math.min(totalMs, Math.round(doneBefore + phaseDone)), totalMs);
  progress(0);
  const rates: number[] = [];
  let kernelName = '';
  for (const phase of phases) {
    const { rate, kernel: name } = await measure(phase, opts, progress);
    rates.push(rate);
    if (phase.kernel !== NOBLE_KERNEL_NAME) kernelName = name;
    doneBefore += phase.ms;
  }
  progress(0);

  const [baseline, one, many] = rates as [number, number, number | undefined];
  const hashesPerSecond = many ?? one;
  const perWorker = hashesPerSecond / workers;
  const scaling: Record<string, number> = { '1': one };
  if (many !== undefined) scaling[String(workers)] = many;
  return {
    kernel: kernelName,
    workers,
    hashesPerSecond,
    perWorker,
    baselinePerWorker: baseline,
    ratio: baseline > 0 ? perWorker / baseline : 0,
    scaling,
  };
}

async function measure(phase: Phase, opts: BenchHashrateOptions, progress: (ms: number) => void): Promise<{ rate: number; kernel: string }> {
  const pool = new WorkerPoolMiner({
    workers: phase.workers,
    kernel: phase.kernel,
    ...(opts.workerUrl !== undefined ? { workerUrl: opts.workerUrl } : {}),
    ...(opts.wasmUrl !== undefined ? { wasmUrl: opts.wasmUrl } : {}),
  });
  try {
    const info = await pool.ready();
    const ac = new AbortController();
    // target 0: only an all-zero digest would meet it, so the job runs until aborted
    const job = pool.mine({ header: BENCH_HEADER, target: 0n }, ac.signal);
    // untimed lead-in: every worker's first slices, and the JIT warming the JS baseline
    const settle = Math.min(1000, phase.ms * 0.25);
    await sleep(settle);
    const t0 = performance.now();
    const h0 = pool.totalHashes();
    const end = t0 + phase.ms - settle;
    for (let now = t0; now < end; now = performance.now()) {
      await sleep(Math.min(100, end - now));
      progress(performance.now() - t0 + settle);
    }
    const h1 = pool.totalHashes();
    const t1 = performance.now();
    ac.abort();
    const found = await job;
    if (found !== null) throw new Error(`benchmark job unexpectedly found nonce ${found.nonce}`);
    return { rate: (Number(h1 - h0) * 1000) / (t1 - t0), kernel: info.kernel };
  } finally {
    await pool.close();
  }
}

function rate(hps: number): string {
  if (hps >= 1e9) return `${(hps / 1e9).toFixed(2)} GH/s`;
  if (hps >= 1e6) return `${(hps / 1e6).toFixed(2)} MH/s`;
  if (hps >= 1e3) return `${(hps / 1e3).toFixed(2)} kH/s`;
  return `${hps.toFixed(0)} H/s`;
}

/** The report as a small table for people. */
export function formatHashrateTable(r: HashrateReport): string {
  const rows: Array<[string, string]> = [
    ['kernel', r.kernel],
    ['workers', String(r.workers)],
    ['hash rate', rate(r.hashesPerSecond)],
    ['per worker', rate(r.perWorker)],
    ['baseline', `${rate(r.baselinePerWorker)} per worker (@noble/hashes sha256(sha256(header)))`],
    ['ratio', `${r.ratio.toFixed(1)}x baseline per worker`],
  ];
  const one = r.scaling['1'];
  for (const [n, v] of Object.entries(r.scaling).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const x = one !== undefined && one > 0 && n !== '1' ? ` (${(v / one).toFixed(2)}x of 1 worker)` : '';
    rows.push([`${n} worker${n === '1' ? '' : 's'}`, `${rate(v)}${x}`]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  return ['hashrate: SHA-256d of the 112-byte header', ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}
