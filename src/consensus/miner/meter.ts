/** Hash rate over a moving window, from samples of a monotonic hash total. */
export class HashrateMeter {
  private readonly samples: Array<{ t: number; total: bigint }> = [];

  constructor(private readonly windowMs = 5000) {}

  sample(total: bigint, now: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && now - last.t < 50) {
      if (this.samples.length > 1) {
        last.t = now;
        last.total = total;
      }
      return;
    }
    this.samples.push({ t: now, total });
    // keep one sample older than the window as the rate's left edge
    while (this.samples.length > 2 && now - (this.samples[1] as { t: number }).t >= this.windowMs) this.samples.shift();
  }

  /** Hashes per second between the oldest retained sample and `now`'s total. */
  rate(total: bigint, now: number): number {
    this.sample(total, now);
    const first = this.samples[0];
    if (first === undefined) return 0;
    const dt = now - first.t;
    if (dt <= 0) return 0;
    return (Number(total - first.total) * 1000) / dt;
  }
}
