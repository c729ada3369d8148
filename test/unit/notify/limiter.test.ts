import { describe, expect, it } from 'vitest';
import { Limiter } from '../../../src/notify/limiter.js';

describe('limiter', () => {
  it('runs at most max tasks at once, all of them, in arrival order; a failing task frees its slot', async () => {
    const limiter = new Limiter(3);
    let now = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (i: number) => async (): Promise<number> => {
      started.push(i);
      now++;
      peak = Math.max(peak, now);
      await new Promise((r) => setTimeout(r, 5));
      now--;
      if (i === 4) throw new Error('task 4 fails');
      return i;
    };
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => limiter.run(task(i))));
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(19);
    expect((results[4] as PromiseRejectedResult).reason.message).toBe('task 4 fails');
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it('refuses a bound below 1', () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
  });
});
