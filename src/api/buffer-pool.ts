/**
 * Reusable answer buffers for large JSON answers (/trace). A /trace answer is ~170 KB at 1M
 * events; allocating it fresh per request churns external (off-heap) memory, which V8 counts
 * toward its old-generation limit: at a few hundred answers a second that alone set off a
 * mark-compact every 200–300 ms, the main source of the answers' p99. A buffer goes back to the
 * pool only once the socket has taken every byte of it (the response's `finish`), never on an
 * aborted answer (libuv may still hold a write of it), so a buffer is never written while sent.
 *
 * Bounded: at most `maxBuffers` buffers are kept, none larger than `maxBufferBytes`; anything
 * else is left to the garbage collector.
 */

export interface BufferPoolOptions {
  /** Buffers kept for reuse. */
  maxBuffers: number;
  /** A buffer larger than this is not kept (one huge answer should not pin its memory). */
  maxBufferBytes: number;
  /** Size of a new buffer when the pool is empty (at least what is asked for). */
  defaultBytes: number;
}

export const DEFAULT_BUFFER_POOL: BufferPoolOptions = { maxBuffers: 16, maxBufferBytes: 2 * 1024 * 1024, defaultBytes: 256 * 1024 };

export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Buffers handed out by this pool: only those come back. */
  private readonly lent = new WeakSet<Buffer>();
  private allocations = 0;
  private reuses = 0;

  constructor(private readonly opts: BufferPoolOptions = DEFAULT_BUFFER_POOL) {}

  /** A buffer of at least `minBytes` (contents undefined). */
  acquire(minBytes: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const b = this.free[i] as Buffer;
      if (b.length >= minBytes) {
        this.free.splice(i, 1);
        this.reuses++;
        this.lent.add(b);
        return b;
      }
    }
    this.allocations++;
    const b = Buffer.allocUnsafeSlow(Math.max(minBytes, this.opts.defaultBytes));
    this.lent.add(b);
    return b;
  }

  /** Give a buffer back (it must not be in use any more). Ignores buffers not from this pool or already returned. */
  release(b: Buffer): void {
    if (!this.lent.has(b)) return;
    this.lent.delete(b);
    if (b.length > this.opts.maxBufferBytes) return;
    if (this.free.length >= this.opts.maxBuffers) {
      // Keep the larger ones: drop the smallest kept buffer if this one is larger.
      let smallest = 0;
      for (let i = 1; i < this.free.length; i++) if ((this.free[i] as Buffer).length < (this.free[smallest] as Buffer).length) smallest = i;
      if ((this.free[smallest] as Buffer).length >= b.length) return;
      this.free.splice(smallest, 1);
    }
    this.free.push(b);
  }

  stats(): { kept: number; keptBytes: number; allocations: number; reuses: number } {
    return { kept: this.free.length, keptBytes: this.free.reduce((n, b) => n + b.length, 0), allocations: this.allocations, reuses: this.reuses };
  }
}
