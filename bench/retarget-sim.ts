/**
 * Retarget simulation: mines a chain in model time with the real ASERT rule (src/consensus/retarget.ts).
 * Each block's time is exponential with mean work(bits) / hashRate (hashes per ms), drawn from a
 * seeded PRNG, so every run is reproducible. Pure: no clock, no I/O in `simulate`.
 *
 * Used by test/unit/consensus/retarget.test.ts. To print the half-life survey:
 *   npx tsc -p tsconfig.json --noEmit false --outDir dist-check; node dist-check/bench/retarget-sim.js [--json]
 * (dist-check/ is git-ignored; tsc emits even when unrelated files have type errors).
 */
import { pathToFileURL } from 'node:url';
import type { ConsortiumParams } from '../src/chain/types.js';
import { nextBits, type AsertAnchor } from '../src/consensus/retarget.js';
import { bitsForWork, workFromBits } from '../src/consensus/work.js';

/** mulberry32: a small, well-mixed 32-bit PRNG; returns a float in (0, 1]. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296;
  };
}

export interface SimBlock {
  height: number;
  time: number;
  bits: number;
  /** Interval since the parent, ms. */
  interval: number;
}

export interface SimOptions {
  params: Pick<ConsortiumParams, 'blockIntervalMs' | 'powLimitBits' | 'genesisBits' | 'asertHalfLifeMs'>;
  /** Hash rate (hashes per ms) while mining the block at this height. */
  hashRate: (height: number) => number;
  blocks: number;
  seed: number;
  genesisTime?: number;
}

/** Mine `blocks` blocks after genesis; returns them in order (genesis excluded). */
export function simulate(opts: SimOptions): SimBlock[] {
  const rand = prng(opts.seed);
  const genesisTime = opts.genesisTime ?? 1_800_000_000_000;
  const anchor: AsertAnchor = { height: 0, time: genesisTime, bits: opts.params.genesisBits };
  const out: SimBlock[] = [];
  let parent = { height: 0, time: genesisTime };
  for (let i = 0; i < opts.blocks; i++) {
    const bits = nextBits(opts.params, anchor, parent);
    const height = parent.height + 1;
    const meanMs = Number(workFromBits(bits)) / opts.hashRate(height);
    const interval = Math.max(1, Math.round(-Math.log(rand()) * meanMs));
    const time = parent.time + interval;
    out.push({ height, time, bits, interval });
    parent = { height, time };
  }
  return out;
}

/** Mean interval of blocks[from, to). */
export function meanInterval(blocks: readonly SimBlock[], from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (blocks[i] as SimBlock).interval;
  return s / (to - from);
}

/** Hash rate that doubles at `up` and halves back at `down`. */
export function doubleThenHalve(base: number, up: number, down: number): (height: number) => number {
  return (h) => (h >= up && h < down ? 2 * base : base);
}

interface Survey {
  intervalMs: number;
  halfLifeBlocks: number;
  seeds: number;
  /** Share of (seed, phase) last-100-block means within 15% of the interval. */
  within15: number;
  /** Worst |mean − T| / T over all seeds and phases. */
  worst: number;
  /** RMS of the last-100 mean error. */
  rms: number;
  /** Median blocks after the doubling until the 100-block mean is back within 15%. */
  settleBlocks: number;
}

function survey(intervalMs: number, halfLifeBlocks: number, seeds: number, phase: number, genesisBits: number): Survey {
  const params = { blockIntervalMs: intervalMs, powLimitBits: 0x1f00ffff, genesisBits, asertHalfLifeMs: halfLifeBlocks * intervalMs };
  let ok = 0;
  let n = 0;
  let worst = 0;
  let sq = 0;
  const settles: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const blocks = simulate({ params, hashRate: doubleThenHalve(2000, phase, 2 * phase), blocks: 3 * phase, seed });
    for (const end of [phase, 2 * phase, 3 * phase]) {
      const err = Math.abs(meanInterval(blocks, end - 100, end) / intervalMs - 1);
      if (err <= 0.15) ok++;
      worst = Math.max(worst, err);
      sq += err * err;
      n++;
    }
    let settle = phase;
    for (let k = phase; k + 100 <= 2 * phase; k++) {
      if (Math.abs(meanInterval(blocks, k - 1, k + 99) / intervalMs - 1) <= 0.15) {
        settle = k - phase;
        break;
      }
    }
    settles.push(settle);
  }
  settles.sort((a, b) => a - b);
  return { intervalMs, halfLifeBlocks, seeds, within15: ok / n, worst, rms: Math.sqrt(sq / n), settleBlocks: settles[Math.floor(settles.length / 2)] as number };
}

function main(): void {
  const json = process.argv.includes('--json');
  const rows: Survey[] = [];
  // 2 MH/s = 2000 hashes/ms; genesis sized for it (bitsForWork(2000 × T)).
  // The rule is scale-invariant: results depend only on halfLife / T, so 2 s and 10 s rows match.
  for (const T of [2_000, 10_000]) {
    const gbits = bitsForWork(BigInt(2000 * T));
    for (const hl of [10, 20, 30, 60, 144, 288]) rows.push(survey(T, hl, 40, 1200, gbits));
  }
  if (json) {
    console.log(JSON.stringify(rows));
    return;
  }
  for (const r of rows) {
    console.log(
      `T=${r.intervalMs}ms halfLife=${r.halfLifeBlocks} blocks (${(r.halfLifeBlocks * r.intervalMs) / 1000}s): ` +
        `last-100 mean within 15%: ${(r.within15 * 100).toFixed(1)}%  rms ${(r.rms * 100).toFixed(1)}%  worst ${(r.worst * 100).toFixed(1)}%  ` +
        `settle after doubling ~${r.settleBlocks} blocks`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
