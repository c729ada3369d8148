/**
 * Reliability, scenario 7 (in-process, injected clock): ±3 h of clock skew. Blocks from a
 * sealer whose clock runs 3 h ahead (or, equally, seen by a node whose clock runs 3 h behind)
 * are held, not banned, and accepted once due; time-warp timestamps (not above the median of
 * the last 11) are rejected; the future window edge is exact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/common/errors.js';
import { buildBlock, extend, makeFixture, type Fixture } from '../../helpers/chain-fixture.js';

const HOUR = 3_600_000;
let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.close();
});

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof BlockError ? err.code : String(err);
  }
}

describe('clock skew', () => {
  it('holds blocks 3 h in the future and accepts them when due', async () => {
    await extend(fx, 2, { time: undefined });
    const tip = fx.chain.tip;
    const skewed = buildBlock(fx, { time: fx.clock.now + 3 * HOUR });
    const child = buildBlock(fx, { parent: { ...tip, hash: skewed.hashHex, height: tip.height + 1, time: skewed.header.time, prevHash: tip.hash }, time: fx.clock.now + 3 * HOUR + 10_000 });
    expect(await code(fx.chain.importBlock(child))).toBe('UNKNOWN_PARENT');
    expect(await code(fx.chain.importBlock(skewed))).toBe('TIME_TOO_NEW');
    expect(fx.chain.futureCount).toBe(1);
    expect(fx.chain.tip.hash).toBe(tip.hash);
    expect(await fx.chain.retryFutureBlocks()).toBe(0); // not due yet
    fx.clock.now += 3 * HOUR - fx.genesis.params.futureWindowMs + 1;
    expect(await fx.chain.retryFutureBlocks()).toBe(1);
    expect(fx.chain.tip.hash).toBe(skewed.hashHex);
    expect(fx.chain.futureCount).toBe(0);
  });

  it('the future window edge is exact: now + window is accepted, one ms more is held', async () => {
    const w = fx.genesis.params.futureWindowMs;
    const edge = buildBlock(fx, { time: fx.clock.now + w });
    await fx.chain.importBlock(edge);
    expect(fx.chain.tip.hash).toBe(edge.hashHex);
    const over = buildBlock(fx, { time: fx.clock.now + w + 1 });
    expect(await code(fx.chain.importBlock(over))).toBe('TIME_TOO_NEW');
  });

  it('rejects time-warp timestamps at or below the median of the last 11 blocks', async () => {
    await extend(fx, 12);
    const tip = fx.chain.tip;
    const mtp = fx.chain.medianTimePast(tip);
    expect(await code(fx.chain.importBlock(buildBlock(fx, { time: mtp })))).toBe('TIME_TOO_OLD');
    expect(await code(fx.chain.importBlock(buildBlock(fx, { time: mtp - 3 * HOUR })))).toBe('TIME_TOO_OLD');
    expect(fx.chain.tip.hash).toBe(tip.hash);
    // Just above the median is fine (a slow clock 3 h behind cannot rewrite history).
    await fx.chain.importBlock(buildBlock(fx, { time: mtp + 1 }));
    expect(fx.chain.tip.height).toBe(tip.height + 1);
  });

  it('a node whose clock runs 3 h behind holds the honest chain and catches up when its clock is fixed', async () => {
    const honest = [buildBlock(fx, { time: fx.clock.now })];
    fx.clock.now -= 3 * HOUR; // this node's clock is wrong
    expect(await code(fx.chain.importBlock(honest[0]!))).toBe('TIME_TOO_NEW');
    expect(fx.chain.tip.height).toBe(0);
    fx.clock.now += 3 * HOUR; // NTP fixes it
    expect(await fx.chain.retryFutureBlocks()).toBe(1);
    expect(fx.chain.tip.height).toBe(1);
  });
});
