import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../src/common/lru.js';

// Cost budgets are tested with the proof cache that uses them (test/unit/api/provenance.test.ts);
// here the entry-count use of p2p's header cache (every entry costs 1).
describe('LruCache by entry count', () => {
  it('keeps at most `budget` entries, dropping the least recently used', () => {
    const c = new LruCache<string, number>(3);
    for (const [k, v] of [['a', 1], ['b', 2], ['c', 3]] as const) c.set(k, v);
    expect(c.get('a')).toBe(1); // a is now the most recent; b the least
    c.set('d', 4);
    expect(c.size).toBe(3);
    expect(c.get('b')).toBeUndefined();
    expect([c.get('a'), c.get('c'), c.get('d')]).toEqual([1, 3, 4]);
    c.set('a', 10); // replacing an entry neither grows the cache nor evicts another
    expect(c.size).toBe(3);
    expect(c.get('a')).toBe(10);
    expect(c.hits).toBe(5);
    expect(c.misses).toBe(1);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.cost).toBe(0);
  });

  it('refuses a budget that is not a non-negative number', () => {
    expect(() => new LruCache(-1)).toThrow(RangeError);
    expect(() => new LruCache(Number.NaN)).toThrow(RangeError);
  });
});
