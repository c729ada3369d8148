import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/common/errors.js';
import { asertFactor, asertTarget, checkBits, genesisAnchor, nextBits, type AsertAnchor } from '../../../src/consensus/retarget.js';
import { encodeCompact, targetFromBits } from '../../../src/consensus/target.js';
import { bitsForWork, workFromBits } from '../../../src/consensus/work.js';
import { meanInterval, prng, simulate, type SimBlock } from '../../../bench/retarget-sim.js';

// Recommended dev parameters: 2 s blocks, half-life 30 blocks, genesis sized for ~2 MH/s.
const T = 2_000;
const DEV = { blockIntervalMs: T, powLimitBits: 0x1f00ffff, asertHalfLifeMs: 60_000 };
const GENESIS_BITS = bitsForWork(BigInt(2_000 * T)); // 4·10^6 hashes per block
const G0 = 1_800_000_000_000;
const anchor: AsertAnchor = { height: 0, time: G0, bits: GENESIS_BITS };
const A = targetFromBits(GENESIS_BITS);
const POW_LIMIT = targetFromBits(DEV.powLimitBits);

function target(parentHeight: number, parentTime: number, params = DEV, a = anchor): bigint {
  return targetFromBits(nextBits(params, a, { height: parentHeight, time: parentTime }));
}

describe('asertFactor (2^x cubic, 16-bit fixed point)', () => {
  it('spans [65536, 131071], never decreases, and is within 0.013% of 2^x', () => {
    let prev = 0n;
    let decreases = 0;
    let maxRelErr = 0;
    for (let f = 0; f < 65536; f++) {
      const v = asertFactor(BigInt(f));
      if (v < prev) decreases++;
      prev = v;
      const exact = 65536 * 2 ** (f / 65536);
      maxRelErr = Math.max(maxRelErr, Math.abs(Number(v) - exact) / exact);
    }
    expect(decreases).toBe(0);
    expect(maxRelErr).toBeLessThan(0.00013);
    expect(asertFactor(0n)).toBe(65536n);
    expect(asertFactor(65535n)).toBe(131071n);
    expect(() => asertFactor(65536n)).toThrow(RangeError);
    expect(() => asertFactor(-1n)).toThrow(RangeError);
  });
});

describe('nextBits: deterministic cases', () => {
  it('child of genesis, and every block on schedule, gets the anchor bits', () => {
    expect(GENESIS_BITS).toBe(0x1e0431bd);
    expect(nextBits(DEV, anchor, { height: 0, time: G0 })).toBe(GENESIS_BITS);
    for (const h of [1, 2, 10, 1000, 1_000_000]) expect(nextBits(DEV, anchor, { height: h, time: G0 + h * T })).toBe(GENESIS_BITS);
  });

  it('one half-life behind schedule doubles the target; one ahead halves it (exactly)', () => {
    expect(target(100, G0 + 100 * T + 60_000)).toBe(targetFromBits(encodeCompact(2n * A)));
    expect(target(100, G0 + 100 * T - 60_000)).toBe(targetFromBits(encodeCompact(A / 2n)));
    expect(target(100, G0 + 100 * T + 3 * 60_000)).toBe(targetFromBits(encodeCompact(8n * A)));
  });

  it('half a half-life late multiplies by the polynomial 2^0.5', () => {
    const t = target(10, G0 + 10 * T + 30_000);
    expect(t).toBe(targetFromBits(encodeCompact((A * asertFactor(32768n)) >> 16n)));
    expect(Number((t * 1_000_000n) / A) / 1e6).toBeCloseTo(Math.SQRT2, 3);
  });

  it('the exponent division truncates toward zero (as the C++ reference), the shift floors', () => {
    // halfLife 3 ms, 1 ms early: −65536/3 = −21845.33 → −21845 (floor would give −21846)
    const p = { ...DEV, asertHalfLifeMs: 3 };
    const got = asertTarget(p, anchor, { height: 5, time: G0 + 5 * T - 1 });
    // shifts = −21845 >> 16 = −1, frac = 65536 − 21845 = 43691
    expect(got).toBe((A * asertFactor(43691n)) >> 17n);
    expect(got).not.toBe((A * asertFactor(43690n)) >> 17n);
  });

  it('matches the BCH formulation (anchor = block before the fork, time of its parent, height_delta + 1)', () => {
    // Electron Cash / BCHN form, transcribed: exponent = trunc((Δt − T·(Δh + 1))·65536 / H)
    function bch(anchorTarget: bigint, spacing: bigint, timeDiff: bigint, heightDiff: bigint, halfLife: bigint, powLimit: bigint): bigint {
      const num = (timeDiff - spacing * (heightDiff + 1n)) * 65536n;
      const exponent = num / halfLife; // BigInt division truncates like C++
      const shifts = exponent >> 16n;
      const frac = exponent - shifts * 65536n;
      let t = anchorTarget * (65536n + ((195766423245049n * frac + 971821376n * frac ** 2n + 5127n * frac ** 3n + (1n << 47n)) >> 48n));
      t = shifts < 0n ? t >> -shifts : t << shifts;
      t >>= 16n;
      if (t === 0n) return 1n;
      return t > powLimit ? powLimit : t;
    }
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: -5_000_000, max: 5_000_000 }), (h, drift) => {
        const time = G0 + h * T + drift;
        // our anchor (height 0, genesis time) is BCH's "anchor parent": BCH anchor height 1
        const ours = asertTarget(DEV, anchor, { height: h, time });
        const theirs = bch(A, BigInt(T), BigInt(time - G0), BigInt(h - 1), BigInt(DEV.asertHalfLifeMs), POW_LIMIT);
        expect(ours).toBe(theirs);
      }),
    );
  });

  it('genesisAnchor takes the genesis time and bits at height 0', () => {
    expect(genesisAnchor({ time: G0, params: { genesisBits: GENESIS_BITS } })).toEqual(anchor);
  });
});

describe('nextBits: bounds and monotonicity', () => {
  const heights = fc.integer({ min: 0, max: 10_000_000 });
  const drift = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });

  it('never easier than powLimit; never zero', () => {
    fc.assert(
      fc.property(heights, drift, (h, d) => {
        const time = Math.max(0, G0 + h * T + d);
        const t = target(h, time);
        expect(t >= 1n && t <= POW_LIMIT).toBe(true);
      }),
    );
    // a year with no blocks: clamped exactly at powLimit
    expect(nextBits(DEV, anchor, { height: 1, time: G0 + 365 * 86_400_000 })).toBe(DEV.powLimitBits);
    // an anchor easier than powLimit is clamped too
    expect(target(0, G0, DEV, { ...anchor, bits: 0x207fffff })).toBe(POW_LIMIT);
    // absurdly far ahead of schedule: target 1, not 0
    expect(nextBits(DEV, anchor, { height: 10_000_000, time: G0 })).toBe(0x01010000);
  });

  it('a later parent time never gives a harder target', () => {
    fc.assert(
      fc.property(heights, drift, fc.integer({ min: 0, max: 2 ** 36 }), (h, d, dt) => {
        const t1 = Math.max(0, G0 + h * T + d);
        expect(target(h, t1) <= target(h, t1 + dt)).toBe(true);
      }),
    );
  });

  it('more blocks at the same time never give an easier target', () => {
    fc.assert(
      fc.property(heights, drift, fc.integer({ min: 0, max: 100_000 }), (h, d, dh) => {
        const t = Math.max(0, G0 + h * T + d);
        expect(target(h + dh, t) <= target(h, t)).toBe(true);
      }),
    );
  });

  it('rejects malformed input', () => {
    expect(() => nextBits(DEV, { ...anchor, height: 5 }, { height: 4, time: G0 })).toThrow(RangeError);
    expect(() => nextBits(DEV, anchor, { height: 1, time: 1.5 })).toThrow(RangeError);
    expect(() => nextBits({ ...DEV, asertHalfLifeMs: 0 }, anchor, { height: 1, time: G0 })).toThrow(RangeError);
    expect(() => nextBits({ ...DEV, powLimitBits: 0x04923456 }, anchor, { height: 1, time: G0 })).toThrow(BlockError);
  });

  it('checkBits: BAD_BITS naming the required bits', () => {
    const parent = { height: 7, time: G0 + 7 * T + 5_000 };
    const want = nextBits(DEV, anchor, parent);
    expect(() => checkBits(DEV, anchor, parent, want)).not.toThrow();
    try {
      checkBits(DEV, anchor, parent, want + 1);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BlockError);
      expect((e as BlockError).code).toBe('BAD_BITS');
      expect((e as BlockError).details).toMatchObject({ expected: want, got: want + 1, height: 8 });
    }
  });
});

describe('simulation: hash power doubles, then halves', () => {
  // Phases of 600 blocks: 2 MH/s on a genesis sized for 1 MH/s (so it first has to settle),
  // then 4 MH/s, then back to 2 MH/s. Hash rates in hashes per ms.
  const PHASE = 600;
  const rate = (h: number): number => (h > PHASE && h <= 2 * PHASE ? 4_000 : 2_000);
  const phaseEnds = [PHASE, 2 * PHASE, 3 * PHASE];

  function run(intervalMs: number, seed: number): SimBlock[] {
    const params = { blockIntervalMs: intervalMs, powLimitBits: 0x1f00ffff, asertHalfLifeMs: 30 * intervalMs, genesisBits: bitsForWork(BigInt(1_000 * intervalMs)) };
    return simulate({ params, hashRate: rate, blocks: 3 * PHASE, seed });
  }
  const last100 = (b: SimBlock[], end: number, intervalMs: number): number => meanInterval(b, end - 100, end) / intervalMs;
  const meanWork = (b: SimBlock[], end: number): number => {
    let s = 0;
    for (let i = end - 100; i < end; i++) s += Number(workFromBits((b[i] as SimBlock).bits));
    return s / 100;
  };

  it('dev chain (2 s, half-life 60 s): the last 100 blocks of each phase average within 15% of 2 s', () => {
    const blocks = run(2_000, 1);
    for (const end of phaseEnds) expect(Math.abs(last100(blocks, end, 2_000) - 1)).toBeLessThan(0.15);
    // difficulty followed the hash rate: about 2× the work per block while it was doubled
    const up = meanWork(blocks, 2 * PHASE) / meanWork(blocks, PHASE);
    const down = meanWork(blocks, 3 * PHASE) / meanWork(blocks, 2 * PHASE);
    expect(up).toBeGreaterThan(1.6);
    expect(up).toBeLessThan(2.5);
    expect(down).toBeGreaterThan(0.4);
    expect(down).toBeLessThan(0.625);
    for (const b of blocks) expect(targetFromBits(b.bits) <= POW_LIMIT).toBe(true);
  });

  it('consortium (10 s, half-life 300 s): the same within 15% of 10 s', () => {
    const blocks = run(10_000, 2);
    for (const end of phaseEnds) expect(Math.abs(last100(blocks, end, 10_000) - 1)).toBeLessThan(0.15);
  });

  it('not a lucky seed: over 20 seeds, the last-100 means are within 15% (≥ 90% of windows), 25% (all), and unbiased', () => {
    // A 100-block mean of exponential times has 10% relative noise on its own; ASERT's absolute
    // schedule pulls it back (~6% rms at a 30-block half-life), so a rare window can pass 15%.
    let within = 0;
    let n = 0;
    let sum = 0;
    for (let seed = 101; seed <= 120; seed++) {
      const blocks = run(2_000, seed);
      for (const end of phaseEnds) {
        const m = last100(blocks, end, 2_000);
        expect(Math.abs(m - 1)).toBeLessThan(0.25);
        if (Math.abs(m - 1) < 0.15) within++;
        sum += m;
        n++;
      }
    }
    expect(within / n).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(sum / n - 1)).toBeLessThan(0.05);
  });
});

describe('characterisation: a full stop is repaid (absolute schedule)', () => {
  it('after 8 h with no blocks, ~8 h / T blocks are mined at powLimit pace before the chain is back on schedule', () => {
    // Not a goal, a property of any absolutely scheduled rule anchored at genesis: the lateness
    // is remembered, and while the target is clamped at powLimit each block repays only
    // T − (its interval). Re-anchoring after a long gap would avoid it (a consensus change).
    const rand = prng(3);
    let p = { height: 1_000, time: G0 + 1_000 * T + 8 * 3_600_000 };
    const start = p.time;
    let blocks = 0;
    while (p.time - G0 - T * p.height > 60_000) {
      const bits = nextBits(DEV, anchor, p);
      const dt = Math.max(1, Math.round((-Math.log(rand()) * Number(workFromBits(bits))) / 2_000));
      p = { height: p.height + 1, time: p.time + dt };
      blocks++;
    }
    expect(blocks).toBeGreaterThan(0.9 * ((8 * 3_600_000) / T));
    expect(p.time - start).toBeLessThan(15 * 60_000); // all within ~10 minutes at 2 MH/s
  });
});
