/**
 * `tracechain bench hashrate`: proof-of-work hash rate of the miner's kernel.
 *
 * Three configurations on the same header, each a worker pool of its own:
 *   - baseline: one worker hashing with @noble/hashes, sha256(sha256(header)) per nonce;
 *   - the kernel with one worker;
 *   - the kernel with `workers` workers (left out when workers = 1).
 * All pools start (untimed) before the clock runs; then the configurations take turns, one
 * pool mining at a time a job whose target no hash meets, in rounds of short turns. The first
 * round warms up (JIT, wasm tier-up) and is not counted; each configuration's rate is the
 * median of its turns. Interleaving exposes every configuration to the same background load,
 * so ratio and scaling stay meaningful on a shared machine.
 * `ratio` = per-worker rate with `workers` workers / baseline; `scaling` maps a worker count
 * ("1", "N") to hashes per second.
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

interface Config {
  kernel: KernelChoice;
  workers: number;
}

export async function benchHashrate(opts: BenchHashrateOptions): Promise<HashrateReport> {
  const { seconds, workers } = opts;
  if (!(typeof seconds === 'number' && seconds > 0 && Number.isFinite(seconds))) throw new RangeError('seconds must be a positive number');
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError('workers must be a positive integer');
  const kernel = opts.kernel ?? 'auto';
  const configs: Config[] = [
    { kernel: NOBLE_KERNEL_NAME, workers: 1 },
    { kernel, workers: 1 },
  ];
  if (workers > 1) configs.push({ kernel, workers });

  const totalMs = Math.round(seconds * 1000);
  const turnMs = Math.min(500, Math.max(100, totalMs / (configs.length * 6)));
  const rounds = Math.max(2, Math.floor(totalMs / (configs.length * turnMs)));
  const planned = rounds * configs.length * turnMs;
  let done = 0;
  const progress = (extra: number): void => opts.onProgress?.(Math.round((Math.min(planned, done + extra) / planned) * totalMs), totalMs);

  const pools = configs.map(
    (c) =>
      new WorkerPoolMiner({
        workers: c.workers,
        kernel: c.kernel,
        ...(opts.workerUrl !== undefined ? { workerUrl: opts.workerUrl } : {}),
        ...(opts.wasmUrl !== undefined ? { wasmUrl: opts.wasmUrl } : {}),
      }),
  );
  try {
    const infos = await Promise.all(pools.map((p) => p.ready()));
    progress(0);
    const samples: number[][] = configs.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < pools.length; i++) {
        const r = await turn(pools[i] as WorkerPoolMiner, turnMs, progress);
        done += turnMs;
        if (round > 0) samples[i]?.push(r);
      }
    }
    progress(0);
    const [baseline, one, many] = samples.map(median) as [number, number, number | undefined];
    const hashesPerSecond = many ?? one;
    const perWorker = hashesPerSecond / workers;
    const scaling: Record<string, number> = { '1': one };
    if (many !== undefined) scaling[String(workers)] = many;
    return {
      kernel: infos[1]?.kernel ?? '',
      workers,
      hashesPerSecond,
      perWorker,
      baselinePerWorker: baseline,
      ratio: baseline > 0 ? perWorker / baseline : 0,
      scaling,
    };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

/** One turn: mine for turnMs; the first fifth (workers' first slices) is not timed. Returns H/s. */
async function turn(pool: WorkerPoolMiner, turnMs: number, progress: (ms: number) => void): Promise<number> {
  const ac = new AbortController();
  // target 0: only an all-zero digest would meet it, so the job runs until aborted
  const job = pool.mine({ header: BENCH_HEADER, target: 0n }, ac.signal);
  const settle = turnMs / 5;
  await sleep(settle);
  const t0 = performance.now();
  const h0 = pool.totalHashes();
  const end = t0 + turnMs - settle;
  for (let now = t0; now < end; now = performance.now()) {
    await sleep(Math.min(100, end - now));
    progress(Math.min(turnMs, performance.now() - t0 + settle));
  }
  const h1 = pool.totalHashes();
  const t1 = performance.now();
  ac.abort();
  const found = await job;
  if (found !== null) throw new Error(`benchmark job unexpectedly found nonce ${found.nonce}`);
  return (Number(h1 - h0) * 1000) / (t1 - t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
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
