import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  SingleThreadMiner,
  WorkerPoolMiner,
  createMiner,
  workerRanges,
  headerWithNonce,
  DEFAULT_RANGE_SIZE,
  type Miner,
  type MineResult,
} from '../../../src/consensus/miner/index.js';
import { targetToBytes, digestMeetsTarget } from '../../../src/consensus/kernel/index.js';
import { benchHashrate, formatHashrateTable, type HashrateReport } from '../../../bench/hashrate.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let buildDir: string;
let workerUrl: URL;
let wasmUrl: URL;

function run(script: string, args: string[]): void {
  try {
    execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`${script} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/**
 * Worker threads need JavaScript: compile the worker entry (and what it imports) and the wasm
 * kernel from the current sources into a scratch directory, so these tests never run a stale
 * dist/.
 */
beforeAll(() => {
  mkdirSync(join(root, '.vitest-tmp'), { recursive: true });
  buildDir = mkdtempSync(join(root, '.vitest-tmp', 'miner-'));
  run(join(root, 'node_modules/typescript/bin/tsc'), [
    ...['--ignoreConfig', '--outDir', buildDir, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext'],
    ...['--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node', '--declaration', 'false'],
    join(root, 'src/runtime/miner-worker.ts'),
  ]);
  run(join(root, 'assembly/build.mjs'), [join(buildDir, 'src/consensus/kernel')]);
  workerUrl = pathToFileURL(join(buildDir, 'src/runtime/miner-worker.js'));
  wasmUrl = pathToFileURL(join(buildDir, 'src/consensus/kernel/sha256d.wasm'));
}, 120_000);

afterAll(() => {
  rmSync(buildDir, { recursive: true, force: true });
});

const open: Miner[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});
function track<M extends Miner>(m: M): M {
  open.push(m);
  return m;
}

function makeHeader(seed: number): Uint8Array {
  const h = new Uint8Array(112);
  for (let i = 0; i < 112; i++) h[i] = (i * 89 + seed * 31 + 7) & 0xff;
  return h;
}

function ref(header: Uint8Array, nonce: bigint): Uint8Array {
  return sha256(sha256(headerWithNonce(header, nonce)));
}

function big(d: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(d).toString('hex'));
}

const EASY = (1n << 248n) - 1n; // about one hash in 256
const NEVER = 0n; // an all-zero digest: never in practice

function expectValid(r: MineResult | null, header: Uint8Array, target: bigint): MineResult {
  expect(r).not.toBeNull();
  const res = r as MineResult;
  expect(res.header.subarray(0, 104)).toEqual(header.subarray(0, 104));
  expect(new DataView(res.header.buffer, res.header.byteOffset).getBigUint64(104, true)).toBe(res.nonce);
  expect(res.hash).toEqual(ref(header, res.nonce));
  expect(digestMeetsTarget(res.hash, targetToBytes(target))).toBe(true);
  expect(res.hashes).toBeGreaterThan(0);
  return res;
}

describe('workerRanges', () => {
  it('gives each worker a disjoint contiguous range, worker index in the top byte by default', () => {
    const r = workerRanges(3);
    expect(r).toEqual([
      { start: 0n, end: 1n << 56n },
      { start: 1n << 56n, end: 2n << 56n },
      { start: 2n << 56n, end: 3n << 56n },
    ]);
    expect(DEFAULT_RANGE_SIZE).toBe(1n << 56n);
    const last = workerRanges(256)[255];
    expect(last).toEqual({ start: 255n << 56n, end: 1n << 64n });
  });

  it('honours base and size, and refuses ranges past the last nonce', () => {
    expect(workerRanges(2, 10n, 5n)).toEqual([
      { start: 10n, end: 15n },
      { start: 15n, end: 20n },
    ]);
    expect(() => workerRanges(257)).toThrow(RangeError);
    expect(() => workerRanges(2, (1n << 64n) - 9n, 5n)).toThrow(RangeError);
    expect(() => workerRanges(0)).toThrow(RangeError);
    expect(() => workerRanges(1, 0n, 0n)).toThrow(RangeError);
  });
});

describe.each(['ts-midstate', 'auto'] as const)('SingleThreadMiner (%s kernel)', (kernel) => {
  const make = (): SingleThreadMiner => track(new SingleThreadMiner({ kernel, wasmUrl }));

  it('finds a nonce for an easy target and it verifies', async () => {
    const m = make();
    const info = await m.ready();
    expect(info.kernel).toBe(kernel === 'auto' ? 'wasm-simd128' : 'ts-midstate');
    const header = makeHeader(1);
    const r = expectValid(await m.mine({ header, target: EASY }), header, EASY);
    expect(r.worker).toBe(0);
    expect(m.totalHashes()).toBeGreaterThanOrEqual(BigInt(r.hashes));
  });

  it('yields to the event loop: a timer aborts it and it resolves null', async () => {
    const m = make();
    const ac = new AbortController();
    const p = m.mine({ header: makeHeader(2), target: NEVER }, ac.signal);
    setTimeout(() => ac.abort(), 30);
    await expect(p).resolves.toBeNull();
    expect(m.totalHashes()).toBeGreaterThan(0n);
  });

  it('a new job supersedes the running one, which resolves null', async () => {
    const m = make();
    const first = m.mine({ header: makeHeader(3), target: NEVER });
    const header = makeHeader(4);
    const second = m.mine({ header, target: EASY });
    await expect(first).resolves.toBeNull();
    expectValid(await second, header, EASY);
  });

  it('resolves null when its range is exhausted, after hashing exactly that range', async () => {
    const m = make();
    const before = m.totalHashes();
    await expect(m.mine({ header: makeHeader(5), target: NEVER, nonceBase: (1n << 32n) - 1000n, rangeSize: 5000n })).resolves.toBeNull();
    expect(m.totalHashes() - before).toBe(5000n);
  });

  it('rejects invalid jobs and mining after close', async () => {
    const m = make();
    await expect(m.mine({ header: new Uint8Array(111), target: EASY })).rejects.toThrow(RangeError);
    await expect(m.mine({ header: makeHeader(1), target: -1n })).rejects.toThrow(RangeError);
    await expect(m.mine({ header: makeHeader(1), target: 1n << 256n })).rejects.toThrow(RangeError);
    const pending = m.mine({ header: makeHeader(6), target: NEVER });
    await m.close();
    await expect(pending).resolves.toBeNull();
    await expect(m.mine({ header: makeHeader(1), target: EASY })).rejects.toThrow(/closed/);
  });
});

describe('WorkerPoolMiner', () => {
  const make = (workers: number, kernel: 'auto' | 'ts-midstate' = 'auto'): WorkerPoolMiner =>
    track(new WorkerPoolMiner({ workers, kernel, workerUrl, wasmUrl }));

  it('starts warm workers running the wasm kernel', async () => {
    const m = make(2);
    expect(await m.ready()).toEqual({ kernel: 'wasm-simd128', workers: 2 });
    expect(m.liveWorkers()).toBe(2);
  });

  it('finds a nonce for an easy target and it verifies (wasm and ts kernels)', async () => {
    for (const kernel of ['auto', 'ts-midstate'] as const) {
      const m = make(2, kernel);
      const header = makeHeader(7);
      const r = expectValid(await m.mine({ header, target: EASY }), header, EASY);
      expect(workerRanges(2)[r.worker]?.start).toBeLessThanOrEqual(r.nonce);
      expect(workerRanges(2)[r.worker]?.end).toBeGreaterThan(r.nonce);
    }
  });

  it('resolves null on abort, promptly and for an already aborted signal', async () => {
    const m = make(2);
    await m.ready();
    const ac = new AbortController();
    const p = m.mine({ header: makeHeader(8), target: NEVER }, ac.signal);
    await sleep(50);
    ac.abort();
    await expect(p).resolves.toBeNull();
    await expect(m.mine({ header: makeHeader(8), target: NEVER }, AbortSignal.abort())).resolves.toBeNull();
    // the workers stopped and are ready for the next job
    const header = makeHeader(9);
    expectValid(await m.mine({ header, target: EASY }), header, EASY);
  });

  it('a template refresh supersedes the running job on the same workers', async () => {
    const m = make(2);
    await m.ready();
    const ids = m.threadIds();
    const stale = m.mine({ header: makeHeader(10), target: NEVER });
    await sleep(20);
    const header = makeHeader(11);
    const fresh = m.mine({ header, target: EASY });
    await expect(stale).resolves.toBeNull();
    expectValid(await fresh, header, EASY);
    expect(m.threadIds()).toEqual(ids);
    expect(m.liveWorkers()).toBe(2);
  });

  it('reports hashes: totals grow while mining and the hash rate is positive', async () => {
    const m = make(2);
    await m.ready();
    const before = m.totalHashes();
    const ac = new AbortController();
    const p = m.mine({ header: makeHeader(12), target: NEVER }, ac.signal);
    // no timing assumption: wait (bounded by the test timeout) until the counters move
    while (m.totalHashes() === before) await sleep(20);
    while (m.hashrate() === 0) await sleep(20);
    expect(m.totalHashes()).toBeGreaterThan(before);
    expect(m.hashrate()).toBeGreaterThan(0);
    ac.abort();
    await expect(p).resolves.toBeNull();
  });

  /**
   * Deterministic range check: with ranges of 2048 nonces, pick a header where the smallest
   * digest of one worker's range is below every digest of the other's, and use that digest as
   * the target. Exactly one nonce in the union meets it, so the pool must return that nonce,
   * from that worker: a worker scanning anything but its own range would miss it or find
   * nothing. Both directions are checked.
   */
  it('workers scan disjoint ranges: a target met by one nonce of one range is found by its worker', async () => {
    const size = 2048n;
    const base = (1n << 40n) - 1000n; // ranges straddle a change of the nonce's high word
    const ranges = workerRanges(2, base, size);
    const m = make(2);
    await m.ready();
    const seen = new Set<number>();
    for (let seed = 100; seen.size < 2 && seed < 140; seed++) {
      const header = makeHeader(seed);
      const mins = ranges.map((r) => {
        let best = { nonce: -1n, value: 1n << 256n };
        for (let n = r.start; n < r.end; n++) {
          const v = big(ref(header, n));
          if (v < best.value) best = { nonce: n, value: v };
        }
        return best;
      });
      const winner = mins[0]!.value < mins[1]!.value ? 0 : 1;
      if (seen.has(winner)) continue;
      seen.add(winner);
      const target = mins[winner]!.value;
      const r = await m.mine({ header, target, nonceBase: base, rangeSize: size });
      const res = expectValid(r, header, target);
      expect(res.nonce).toBe(mins[winner]!.nonce);
      expect(res.worker).toBe(winner);
    }
    expect(seen).toEqual(new Set([0, 1]));
  });

  it('covers every nonce of every range exactly once before reporting exhaustion', async () => {
    const m = make(2);
    await m.ready();
    const before = m.totalHashes();
    await expect(m.mine({ header: makeHeader(13), target: NEVER, nonceBase: 123n, rangeSize: 30_000n })).resolves.toBeNull();
    expect(m.totalHashes() - before).toBe(60_000n);
  });

  it('close() terminates the workers and resolves a pending job with null', async () => {
    const m = make(2);
    await m.ready();
    const pending = m.mine({ header: makeHeader(14), target: NEVER });
    await m.close();
    await expect(pending).resolves.toBeNull();
    expect(m.liveWorkers()).toBe(0);
    await expect(m.mine({ header: makeHeader(14), target: EASY })).rejects.toThrow(/closed/);
    await m.close(); // idempotent
  });

  it('a failing worker rejects ready() and mine() with a clear error', async () => {
    const m = track(new WorkerPoolMiner({ workers: 1, kernel: 'wasm-simd128', workerUrl, wasmUrl: pathToFileURL(join(buildDir, 'missing.wasm')) }));
    await expect(m.ready()).rejects.toThrow(/miner worker 0 failed: cannot read the SHA-256d wasm kernel/);
    await expect(m.mine({ header: makeHeader(15), target: EASY })).rejects.toThrow(/miner worker 0 failed/);
  });

  it('rejects invalid jobs and job ranges past the nonce space', async () => {
    const m = make(2);
    await expect(m.mine({ header: new Uint8Array(112), target: 1n << 256n })).rejects.toThrow(RangeError);
    await expect(m.mine({ header: new Uint8Array(112), target: EASY, nonceBase: (1n << 64n) - 10n, rangeSize: 10n })).rejects.toThrow(RangeError);
  });

  it('createMiner waits for readiness and workers: 0 gives the single-thread miner', async () => {
    const pool = track(await createMiner({ workers: 1, workerUrl, wasmUrl }));
    expect(pool).toBeInstanceOf(WorkerPoolMiner);
    const single = track(await createMiner({ workers: 0, wasmUrl }));
    expect(single).toBeInstanceOf(SingleThreadMiner);
    await expect(createMiner({ workers: 1, workerUrl, kernel: 'wasm-simd128', wasmUrl: pathToFileURL(join(buildDir, 'missing.wasm')) })).rejects.toThrow(/failed/);
  });
});

describe('benchHashrate', () => {
  it('measures baseline, one worker and N workers, and reports progress up to the total', async () => {
    const progress: Array<[number, number]> = [];
    const r = await benchHashrate({ seconds: 0.9, workers: 2, workerUrl, wasmUrl, onProgress: (d, t) => progress.push([d, t]) });
    expect(r.kernel).toBe('wasm-simd128');
    expect(r.workers).toBe(2);
    expect(Object.keys(r.scaling).sort()).toEqual(['1', '2']);
    expect(r.hashesPerSecond).toBe(r.scaling['2']);
    expect(r.perWorker).toBeCloseTo(r.hashesPerSecond / 2);
    expect(r.baselinePerWorker).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.perWorker / r.baselinePerWorker);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.every(([, t]) => t === 900)).toBe(true);
    expect(progress.map(([d]) => d)).toEqual([...progress.map(([d]) => d)].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).toEqual([900, 900]);
    const parsed = JSON.parse(JSON.stringify(r)) as HashrateReport;
    expect(parsed).toEqual(r);
    const table = formatHashrateTable(r);
    expect(table).toContain('wasm-simd128');
    expect(table).toMatch(/2 workers/);
  });

  it('with one worker, scaling has only "1" and the rate is the one-worker rate', async () => {
    const r = await benchHashrate({ seconds: 0.4, workers: 1, kernel: 'ts-midstate', workerUrl, wasmUrl });
    expect(r.kernel).toBe('ts-midstate');
    expect(Object.keys(r.scaling)).toEqual(['1']);
    expect(r.hashesPerSecond).toBe(r.scaling['1']);
  });

  it('formats a report as a table', () => {
    const table = formatHashrateTable({
      kernel: 'k',
      workers: 2,
      hashesPerSecond: 12_340_000,
      perWorker: 6_170_000,
      baselinePerWorker: 300_000,
      ratio: 20.5667,
      scaling: { '1': 6_500_000, '2': 12_340_000 },
    });
    expect(table).toContain('12.34 MH/s');
    expect(table).toContain('300.00 kH/s per worker');
    expect(table).toContain('20.6x');
    expect(table).toContain('(1.90x of 1 worker)');
  });

  it('rejects bad options', async () => {
    await expect(benchHashrate({ seconds: 0, workers: 1 })).rejects.toThrow(RangeError);
    await expect(benchHashrate({ seconds: 1, workers: 0 })).rejects.toThrow(RangeError);
  });
});
