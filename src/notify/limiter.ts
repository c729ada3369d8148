/**
 * At most `max` tasks at once; the others wait in arrival order. The notification service passes
 * every subscription's chain scan through one, so a new block that wakes hundreds of
 * subscriptions starts a few scans at a time, not hundreds (the waiting list holds at most one
 * entry per subscription: each waits for one scan at a time).
 */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`Limiter: max must be a whole number ≥ 1, got ${max}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes to the next waiter (running stays the same), or is freed.
      if (next !== undefined) next();
      else this.running--;
    }
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
