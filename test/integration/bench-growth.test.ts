/**
 * `tracechain bench ingest --grow-to` (bench/ingest-growth.ts) on a real node, at a tiny size:
 * the samples follow the store as it grows, each rate is measured over its own interval, and
 * the disk and memory figures are read from the node.
 */
import { describe, expect, it } from 'vitest';
import { benchIngestGrowth } from '../../bench/ingest-growth.js';

describe('bench ingest --grow-to', () => {
  it('samples the committed rate, disk and memory as one node grows', async () => {
    const r = await benchIngestGrowth({ target: 6_000, sampleEvery: 2_000, clients: 4, eventsPerDocument: 100, maxBacklogEvents: 1_000 });
    expect(r.maxBacklogEvents).toBe(1_000);
    expect(r.errors).toBe(0);
    expect(r.samples.length).toBeGreaterThanOrEqual(2);
    let previous = 0;
    for (const [i, s] of r.samples.entries()) {
      expect(s.events).toBeGreaterThan(previous);
      // A sample is taken once a block carries the count past the next mark (the last one may follow the drain).
      if (i < r.samples.length - 1) expect(s.events).toBeGreaterThanOrEqual((i + 1) * 2_000);
      expect(s.eventsPerSecond).toBeGreaterThan(0);
      expect(s.diskBytes).toBeGreaterThan(0);
      expect(s.diskBytesPerEvent).toBe(Math.round(s.diskBytes / s.events));
      expect(s.latencyP99Ms).toBeGreaterThanOrEqual(s.latencyP50Ms);
      previous = s.events;
    }
    expect(r.samples[r.samples.length - 1]?.events).toBeGreaterThanOrEqual(6_000);
    const first = r.samples[0]?.eventsPerSecond ?? 0;
    expect(r.lastVsFirstPercent).toBe(Math.round((100 * (r.samples[r.samples.length - 1]?.eventsPerSecond ?? 0)) / first));
  }, 120_000);
});
