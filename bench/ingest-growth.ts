/**
 * `tracechain bench ingest --grow-to N`: committed events/s while one node's store grows from
 * empty to N events, sampled every `sampleEvery` committed events.
 *
 * The node is `bench ingest`'s (a fresh mining dev chain, its tx log on, the same config), and so
 * are the documents (100-event capture documents, items going commissioning → shipping →
 * receiving → dispensing); the clients post until N events were accepted, pausing while more
 * than `maxBacklogEvents` accepted events wait for a block (so the node runs at its committed
 * rate with a bounded mempool), then the backlog drains. At each sample: the rate over the interval since the previous one (events
 * committed in blocks / seconds), the capture-to-block latency of the txs committed in it, the
 * data directory's bytes on disk, and the node's RSS and own (anonymous) memory. The first
 * interval (from the first block holding a capture: the warm-up left out) is the empty-store rate
 * the later ones are compared with (issue #20: at 10 M events ≥ 90 % of it). Posting stops once
 * `target` events were accepted; the clients' requests in flight then land too, so the store ends
 * a little past it (up to clients × events per document).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChainFollower, DEFAULT_INGEST, DocumentSource, writeIngestConfig, type Pending } from './ingest.js';
import { dirBytes, HttpClient, nodeMemory, percentile, round, startBenchNode } from './support.js';

export interface GrowthOptions {
  /** Events to commit in all. */
  target: number;
  /** A sample every this many committed events. */
  sampleEvery: number;
  clients: number;
  eventsPerDocument: number;
  /** Mining worker threads of the node. */
  workers: number;
  blockIntervalMs: number;
  captureWorkers: number;
  /**
   * Accepted events not yet in a block above which the clients wait (0: no bound). Posting as
   * fast as the node accepts fills its mempool to its bound over a long run, and the committed
   * rate then measures the backlog (a 512 MiB pool of waiting txs) as much as the store's size.
   */
  maxBacklogEvents: number;
  onProgress?: (done: number, total: number) => void;
  /** Each sample as it is taken (a long run shows its curve while it grows). */
  onSample?: (s: GrowthSample) => void;
}

export const DEFAULT_GROWTH: GrowthOptions = {
  target: 10_000_000,
  sampleEvery: 1_000_000,
  clients: DEFAULT_INGEST.clients,
  eventsPerDocument: 100,
  workers: DEFAULT_INGEST.workers,
  blockIntervalMs: DEFAULT_INGEST.blockIntervalMs,
  captureWorkers: DEFAULT_INGEST.captureWorkers,
  maxBacklogEvents: 100_000,
};

export interface GrowthSample {
  /** Events committed when the sample was taken (the store's size in events). */
  events: number;
  /** Seconds since the clients started. */
  seconds: number;
  /** Events committed in the interval since the previous sample / its seconds. */
  eventsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Bytes of the node's data directory (chain store, tx log, keys). */
  diskBytes: number;
  diskBytesPerEvent: number;
  rssBytes: number | null;
  /** Of the RSS, the process's own memory (without memory-mapped store files); Linux only. */
  anonBytes: number | null;
}

export interface GrowthReport {
  target: number;
  maxBacklogEvents: number;
  sampleEvery: number;
  eventsPerDocument: number;
  clients: number;
  blockIntervalMs: number;
  samples: GrowthSample[];
  /** The last sample's rate as a percentage of the first's (the empty store's). */
  lastVsFirstPercent: number;
  seconds: number;
  refused: number;
  errors: number;
  cores: number;
}

export async function benchIngestGrowth(partial: Partial<GrowthOptions> = {}): Promise<GrowthReport> {
  const opts: GrowthOptions = { ...DEFAULT_GROWTH, ...partial };
  if (!(opts.target > 0 && opts.sampleEvery > 0 && opts.sampleEvery <= opts.target)) throw new Error('bench ingest --grow-to: need 0 < sample interval ≤ target');
  const dir = await mkdtemp(join(tmpdir(), 'tracechain-bench-growth-'));
  const data = join(dir, 'data');
  const config = join(dir, 'config.json');
  await writeIngestConfig(config, { captureWorkers: opts.captureWorkers, txLog: true });
  const node = await startBenchNode(['--data', data, '--workers', String(opts.workers), '--block-interval', String(opts.blockIntervalMs), '--config', config]);
  const http = new HttpClient(node.api, opts.clients + 4);
  try {
    const token = (await readFile(join(data, 'api-token'), 'utf8')).trim();
    const source = new DocumentSource(Math.floor(Math.random() * 9000) + 1000);
    const pending = new Map<string, Pending>();
    const samples: Promise<GrowthSample>[] = [];
    let committed = 0;
    let nextMark = opts.sampleEvery;
    let markEvents = 0;
    let interval: number[] = [];
    const t0 = performance.now();
    let markAt = t0;
    let started = false;
    let checking = false;
    const takeSample = (at: number): void => {
      const seconds = (at - markAt) / 1000;
      const lat = interval.sort((a, b) => a - b);
      const eventsPerSecond = seconds > 0 ? Math.round((committed - markEvents) / seconds) : 0;
      const events = committed;
      const p50 = Math.round(percentile(lat, 50));
      const p99 = Math.round(percentile(lat, 99));
      markAt = at;
      markEvents = committed;
      interval = [];
      const taken = (async (): Promise<GrowthSample> => {
        const [diskBytes, memory] = await Promise.all([dirBytes(data), nodeMemory(node, http)]);
        const s: GrowthSample = { events, seconds: round((at - t0) / 1000, 1), eventsPerSecond, latencyP50Ms: p50, latencyP99Ms: p99, diskBytes, diskBytesPerEvent: Math.round(diskBytes / events), rssBytes: memory.rssBytes, anonBytes: memory.anonBytes };
        opts.onSample?.(s);
        return s;
      })();
      samples.push(taken);
    };
    const follower = new ChainFollower(http, pending, (p, at) => {
      interval.push(at - p.at);
      committed += p.events;
      backlog -= p.events;
      if (!started) {
        // The first interval runs from the first block holding a capture, not from the start: the
        // empty-store rate leaves out the node's warm-up (the first block takes an interval to come).
        started = true;
        markAt = at;
        markEvents = committed;
      }
      // The follower reports a block's txs one after another with the block's time: sample once
      // the whole block is counted (a microtask runs after its loop), never twice at one time.
      if (committed >= nextMark && !checking) {
        checking = true;
        queueMicrotask(() => {
          checking = false;
          takeSample(at);
          while (nextMark <= committed) nextMark += opts.sampleEvery;
        });
      }
    });
    await follower.start();
    let accepted = 0;
    let refused = 0;
    let errors = 0;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    let backlog = 0;
    const client = async (): Promise<void> => {
      while (accepted < opts.target) {
        if (opts.maxBacklogEvents > 0 && backlog >= opts.maxBacklogEvents) {
          await new Promise((res) => setTimeout(res, 20));
          continue;
        }
        const doc = source.document(opts.eventsPerDocument);
        const at = performance.now();
        const r = await http.request('POST', '/capture', headers, doc.body);
        if (r.status === 202) {
          pending.set((JSON.parse(r.body) as { txId: string }).txId, { at, events: doc.count, phase: opts.eventsPerDocument });
          accepted += doc.count;
          backlog += doc.count;
        } else if (r.status === 429 || r.status === 503) {
          refused++;
          await new Promise((res) => setTimeout(res, 100));
        } else {
          errors++;
          if (errors <= 3) process.stderr.write(`bench ingest --grow-to: capture answered ${r.status}: ${r.body.slice(0, 300)}\n`);
          if (errors > 1_000) throw new Error(`bench ingest --grow-to: ${errors} captures failed (last: ${r.status} ${r.body.slice(0, 200)})`);
        }
      }
    };
    const ticker = setInterval(() => opts.onProgress?.(Math.min(committed, opts.target), opts.target), 500);
    try {
      await Promise.all(Array.from({ length: opts.clients }, client));
      // Drain the backlog (bounded), then a last sample if the last interval did not end on a mark.
      const drainUntil = performance.now() + 120_000;
      while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 100));
    } finally {
      clearInterval(ticker);
      await follower.stop();
    }
    if (committed > markEvents && committed - markEvents >= opts.sampleEvery / 10) takeSample(performance.now());
    const taken = await Promise.all(samples);
    const first = taken[0]?.eventsPerSecond ?? 0;
    const last = taken[taken.length - 1]?.eventsPerSecond ?? 0;
    return {
      target: opts.target,
      maxBacklogEvents: opts.maxBacklogEvents,
      sampleEvery: opts.sampleEvery,
      eventsPerDocument: opts.eventsPerDocument,
      clients: opts.clients,
      blockIntervalMs: opts.blockIntervalMs,
      samples: taken,
      lastVsFirstPercent: first > 0 ? Math.round((100 * last) / first) : 0,
      seconds: round((performance.now() - t0) / 1000, 1),
      refused,
      errors,
      cores: availableParallelism(),
    };
  } finally {
    http.close();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const mib = (b: number | null): string => (b === null ? '-' : String(Math.round(b / 1048576)));

export function formatGrowthTable(r: GrowthReport): string {
  const rows = [
    ['events stored', 'committed ev/s', 'vs first', 'p50 ms', 'p99 ms', 'disk MiB', 'bytes/event', 'RSS MiB', 'own MiB', 'at s'],
    ...r.samples.map((s) => {
      const first = r.samples[0]?.eventsPerSecond ?? 0;
      return [s.events.toLocaleString('en-US'), s.eventsPerSecond, first > 0 ? `${Math.round((100 * s.eventsPerSecond) / first)} %` : '-', s.latencyP50Ms, s.latencyP99Ms, mib(s.diskBytes), s.diskBytesPerEvent, mib(s.rssBytes), mib(s.anonBytes), s.seconds].map(String);
    }),
  ];
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return [
    ...rows.map((row) => row.map((c, i) => c.padStart(widths[i] as number)).join('  ')),
    '',
    `one node growing from empty to ${r.target.toLocaleString('en-US')} events: ${r.eventsPerDocument}-event documents, ${r.clients} clients, ${r.maxBacklogEvents > 0 ? `at most ${r.maxBacklogEvents.toLocaleString('en-US')} events accepted and not yet in a block` : 'no bound on the backlog'}, block interval ${r.blockIntervalMs} ms, tx log on; a sample every ${r.sampleEvery.toLocaleString('en-US')} committed events (rate over the interval since the previous one)`,
    `last interval ${r.lastVsFirstPercent} % of the first (the empty store's) · ${r.seconds} s in all · refused ${r.refused} · errors ${r.errors} · client and node share this machine's ${r.cores} cores`,
  ].join('\n');
}
