/**
 * Blocks held back because their time is too far ahead of the local clock (TIME_TOO_NEW): kept,
 * bounded, and retried once due, never banned (DESIGN.md, Consensus). When full, the block
 * furthest in the future makes room for a nearer one.
 */
import type { Block } from './block.js';

export class FutureBlocks {
  private readonly held = new Map<string, Block>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.held.size;
  }

  /** Hold a block; false when it is not kept (already held, or the pool is full of nearer blocks). */
  hold(block: Block): boolean {
    if (this.held.has(block.hashHex)) return false;
    if (this.held.size >= this.max) {
      let worst: Block | undefined;
      for (const b of this.held.values()) if (!worst || b.header.time > worst.header.time) worst = b;
      if (worst && worst.header.time > block.header.time) this.held.delete(worst.hashHex);
      else return false;
    }
    this.held.set(block.hashHex, block);
    return true;
  }

  /** The blocks whose time is at most `latest`, lowest height first (still held: release each when retried). */
  due(latest: number): Block[] {
    return [...this.held.values()].filter((b) => b.header.time <= latest).sort((a, b) => a.header.height - b.header.height);
  }

  release(hash: string): void {
    this.held.delete(hash);
  }

  clear(): void {
    this.held.clear();
  }
}
