import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockError } from '../../../src/common/errors.js';
import { checkBlockTime, medianTimePast, MTP_WINDOW } from '../../../src/consensus/block-time.js';

function caught(fn: () => void): BlockError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BlockError) return e;
    throw e;
  }
  throw new Error('expected a BlockError');
}

describe('medianTimePast', () => {
  it('is the median of up to 11 times, in any order (upper middle for an even count)', () => {
    expect(medianTimePast([5])).toBe(5);
    expect(medianTimePast([1, 2])).toBe(2);
    expect(medianTimePast([3, 1, 2])).toBe(2);
    expect(medianTimePast([10, 40, 30, 20])).toBe(30);
    expect(medianTimePast([11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6])).toBe(6);
  });
  it('does not depend on order and does not mutate the input', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2 ** 45 }), { minLength: 1, maxLength: MTP_WINDOW }), (times) => {
        const copy = [...times];
        const m = medianTimePast(times);
        expect(times).toEqual(copy);
        expect(medianTimePast([...times].reverse())).toBe(m);
        const below = times.filter((t) => t < m).length;
        const above = times.filter((t) => t > m).length;
        expect(below).toBeLessThanOrEqual(Math.floor(times.length / 2));
        expect(above).toBeLessThanOrEqual(Math.floor((times.length - 1) / 2));
      }),
    );
  });
  it('rejects no times, more than 11, or non-integer times', () => {
    expect(() => medianTimePast([])).toThrow(RangeError);
    expect(() => medianTimePast(new Array<number>(12).fill(1))).toThrow(RangeError);
    expect(() => medianTimePast([1.5])).toThrow(RangeError);
    expect(() => medianTimePast([-1])).toThrow(RangeError);
  });
});

describe('checkBlockTime', () => {
  const now = 1_800_000_000_000;
  const window = 60_000;

  it('accepts a time after the MTP and within the window', () => {
    expect(() => checkBlockTime(now, now - 1, now, window)).not.toThrow();
    expect(() => checkBlockTime(now + window, now - 5_000, now, window)).not.toThrow();
  });

  it('TIME_TOO_OLD when the time does not strictly exceed the MTP', () => {
    const e = caught(() => checkBlockTime(now - 10_000, now - 10_000, now, window));
    expect(e.code).toBe('TIME_TOO_OLD');
    expect(e.details).toEqual({ time: now - 10_000, mtp: now - 10_000 });
    expect(caught(() => checkBlockTime(now - 10_001, now - 10_000, now, window)).code).toBe('TIME_TOO_OLD');
  });

  it('TIME_TOO_NEW beyond the window, saying how far ahead and when to retry', () => {
    const time = now + window + 2_500;
    const e = caught(() => checkBlockTime(time, now - 1_000, now, window));
    expect(e.code).toBe('TIME_TOO_NEW');
    expect(e.details).toEqual({ time, now, futureWindowMs: window, aheadMs: window + 2_500, excessMs: 2_500, retryAt: now + 2_500 });
    // held until retryAt, the same block is accepted
    expect(() => checkBlockTime(time, now - 1_000, e.details.retryAt as number, window)).not.toThrow();
  });

  it('rejects malformed numbers', () => {
    expect(() => checkBlockTime(1.5, 0, now, window)).toThrow(RangeError);
    expect(() => checkBlockTime(now, 0, now, -1)).toThrow(RangeError);
  });
});
