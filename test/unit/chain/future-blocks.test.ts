/** FutureBlocks (src/chain/future-blocks.ts): bounded, the furthest ahead makes room, due ones come out lowest height first. */
import { describe, expect, it } from 'vitest';
import type { Block } from '../../../src/chain/block.js';
import { FutureBlocks } from '../../../src/chain/future-blocks.js';

const block = (name: string, height: number, time: number): Block => ({ hashHex: name, header: { height, time } }) as unknown as Block;

describe('FutureBlocks', () => {
  it('holds at most its bound; a nearer block evicts the furthest, a further one is not kept', () => {
    const f = new FutureBlocks(2);
    expect(f.hold(block('a', 5, 1_000))).toBe(true);
    expect(f.hold(block('a', 5, 1_000))).toBe(false);
    expect(f.hold(block('b', 6, 3_000))).toBe(true);
    expect(f.hold(block('c', 7, 9_000))).toBe(false); // further than all held
    expect(f.hold(block('d', 4, 2_000))).toBe(true); // evicts b (3,000)
    expect(f.size).toBe(2);
    expect(f.due(10_000).map((b) => b.hashHex)).toEqual(['d', 'a']);
  });

  it('due: only those at or before the time, lowest height first, still held until released', () => {
    const f = new FutureBlocks(8);
    f.hold(block('x', 9, 500));
    f.hold(block('y', 3, 400));
    f.hold(block('z', 1, 900));
    expect(f.due(500).map((b) => b.hashHex)).toEqual(['y', 'x']);
    expect(f.size).toBe(3);
    f.release('y');
    expect(f.due(500).map((b) => b.hashHex)).toEqual(['x']);
    f.clear();
    expect(f.size).toBe(0);
  });
});
