/**
 * API responsiveness while mining: start a real dev node mining at full speed (default
 * workers), then time GET /health one request at a time for a few seconds. Issue 3's goal:
 * p99 within 50 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient, percentile, round, startBenchNode } from './support.js';

export interface HealthLatencyReport {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The node's own hash rate while it was being polled, H/s. */
  nodeHashrate: number;
}

export async function benchHealthLatency(opts: { seconds: number; workers?: number; onProgress?: (done: number, total: number) => void }): Promise<HealthLatencyReport> {
  const dir = await mkdtemp(join(tmpdir(), 'tracechain-bench-health-'));
  const node = await startBenchNode(['--data', dir, '--block-interval', '2000', ...(opts.workers ? ['--workers', String(opts.workers)] : [])]);
  const client = new HttpClient(node.api, 1);
  try {
    // Let the miner reach full speed first.
    await new Promise((r) => setTimeout(r, 1_000));
    const times: number[] = [];
    let hashrate = 0;
    const end = Date.now() + opts.seconds * 1000;
    while (Date.now() < end) {
      const t0 = performance.now();
      const res = await client.request('GET', '/health');
      times.push(performance.now() - t0);
      if (res.status === 200) hashrate = (JSON.parse(res.body) as { hashrate: number }).hashrate;
      opts.onProgress?.(opts.seconds * 1000 - Math.max(0, end - Date.now()), opts.seconds * 1000);
      await new Promise((r) => setTimeout(r, 5));
    }
    times.sort((a, b) => a - b);
    return { samples: times.length, p50Ms: round(percentile(times, 50), 2), p99Ms: round(percentile(times, 99), 2), maxMs: round(times[times.length - 1] ?? NaN, 2), nodeHashrate: Math.round(hashrate) };
  } finally {
    client.close();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatHealthLatency(r: HealthLatencyReport): string {
  return [
    'GET /health while a dev node mines at full speed',
    `  samples ${r.samples}   p50 ${r.p50Ms} ms   p99 ${r.p99Ms} ms   max ${r.maxMs} ms   (target p99 < 50 ms)`,
    `  node hash rate ${(r.nodeHashrate / 1e6).toFixed(2)} MH/s`,
  ].join('\n');
}
