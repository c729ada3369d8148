/**
 * `tracechain bench report`: the benchmarks at a few sizes, in one run of a few minutes, written
 * to bench/results/ as report.json, SVG plots and a summary (results/README.md), plus PNG copies
 * when Debian's rsvg-convert is installed.
 *
 *   hashrate.svg  miner hash rate vs worker threads (bench/hashrate.ts, one run per count), with
 *                 the @noble/hashes baseline and ideal linear scaling;
 *   ingest.svg    capture events/s (accepted and committed in blocks) vs events per document,
 *                 on a mining dev node (bench/ingest.ts);
 *   latency.svg   p50/p99: POST /capture until in a block, GET /health while mining, GET /trace
 *                 and /verify (bench/query.ts), block and tx to all of 5 nodes (bench/propagation.ts);
 *   sync.svg      blocks/s for a new node syncing chains of a few lengths (bench/sync.ts), with
 *                 the local import rate (no network).
 * Each bench module is loaded when the report runs; one that is missing or fails is skipped
 * with a note in the report instead of failing the whole run.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart, lineChart, PALETTE } from './plot.js';

export interface ReportOptions {
  /** Output directory (bench/results). */
  out: string;
  /** Smaller sizes, for a smoke run (tests). */
  quick?: boolean;
  /** Only these parts (default all): hashrate, ingest, latency, sync. */
  only?: Part[];
  log?: (line: string) => void;
}

export const PARTS = ['hashrate', 'ingest', 'latency', 'sync'] as const;
export type Part = (typeof PARTS)[number];

export interface Skipped {
  skipped: string;
}

export interface HashratePart {
  kernel: string;
  baselinePerWorker: number;
  points: { workers: number; hashesPerSecond: number }[];
  secondsPerRun: number;
}

export interface IngestPart {
  clients: number;
  secondsPerPhase: number;
  blockIntervalMs: number;
  points: { eventsPerDocument: number; acceptedEventsPerSecond: number; committedEventsPerSecond: number; latencyP50Ms: number; latencyP99Ms: number; refused: number; errors: number }[];
  ed25519VerifiesPerSecond: number;
  validateHashEventsPerSecond: number;
}

export interface LatencyRow {
  name: string;
  p50Ms: number;
  p99Ms: number;
  samples?: number;
}

export interface LatencyPart {
  rows: LatencyRow[];
  notes: string[];
}

export interface SyncPart {
  points: { blocks: number; blocksPerSecond: number; localImportBlocksPerSecond: number; seconds: number }[];
}

export interface BenchReport {
  version: 1;
  generatedAt: string;
  seconds: number;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; platform: string };
  hashrate: HashratePart | Skipped;
  ingest: IngestPart | Skipped;
  latency: LatencyPart | Skipped;
  sync: SyncPart | Skipped;
  notes: string[];
  files: string[];
}

export function isSkipped<T extends object>(v: T | Skipped): v is Skipped {
  return 'skipped' in v;
}

const r1 = (n: number): number => Math.round(n * 10) / 10;

async function attempt<T>(name: string, log: (l: string) => void, fn: () => Promise<T>): Promise<T | Skipped> {
  const t0 = performance.now();
  try {
    const v = await fn();
    log(`bench report: ${name} done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return v;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? String(err);
    log(`bench report: ${name} skipped: ${msg}`);
    return { skipped: msg };
  }
}

async function hashratePart(quick: boolean): Promise<HashratePart> {
  const { benchHashrate } = await import('./hashrate.js');
  const cores = availableParallelism();
  // One past the cores shows where it stops scaling.
  const counts = quick ? [1, 2] : [...new Set([1, 2, Math.max(2, cores), cores + 1])].sort((a, b) => a - b);
  const seconds = quick ? 1 : 6;
  const points: HashratePart['points'] = [];
  let kernel = '';
  let baseline = 0;
  for (const w of counts.filter((c) => c > 1)) {
    const r = await benchHashrate({ seconds, workers: w });
    kernel = r.kernel;
    baseline = Math.max(baseline, r.baselinePerWorker);
    if (!points.some((p) => p.workers === 1)) points.push({ workers: 1, hashesPerSecond: Math.round(r.scaling['1'] ?? r.perWorker) });
    points.push({ workers: w, hashesPerSecond: Math.round(r.hashesPerSecond) });
  }
  return { kernel, baselinePerWorker: Math.round(baseline), points, secondsPerRun: seconds };
}

async function ingestPart(quick: boolean): Promise<IngestPart> {
  const { benchIngest } = await import('./ingest.js');
  const phases = quick ? [1, 10] : [1, 10, 100, 1000];
  const seconds = quick ? 2 : 8;
  const clients = 8;
  const r = await benchIngest({ phases, seconds, clients, blockIntervalMs: 500 });
  return {
    clients,
    secondsPerPhase: seconds,
    blockIntervalMs: r.blockIntervalMs,
    points: r.phases.map((p) => ({
      eventsPerDocument: p.eventsPerDocument,
      acceptedEventsPerSecond: p.acceptedEventsPerSecond,
      committedEventsPerSecond: p.committedEventsPerSecond,
      latencyP50Ms: p.latencyP50Ms,
      latencyP99Ms: p.latencyP99Ms,
      refused: p.refused,
      errors: p.errors,
    })),
    ed25519VerifiesPerSecond: r.ed25519VerifiesPerSecond,
    validateHashEventsPerSecond: r.validateHashEventsPerSecond,
  };
}

async function latencyPart(quick: boolean, ingest: IngestPart | Skipped, log: (l: string) => void): Promise<LatencyPart> {
  const rows: LatencyRow[] = [];
  const notes: string[] = [];
  if (!isSkipped(ingest)) {
    for (const p of ingest.points.filter((x) => x.eventsPerDocument === 1 || x.eventsPerDocument === 100)) {
      rows.push({ name: `capture → in a block (${p.eventsPerDocument} ev/doc)`, p50Ms: p.latencyP50Ms, p99Ms: p.latencyP99Ms });
    }
  } else notes.push(`capture latency: ingest skipped (${ingest.skipped})`);
  const health = await attempt('health latency', log, async () => {
    const { benchHealthLatency } = await import('./health-latency.js');
    return benchHealthLatency({ seconds: quick ? 2 : 5 });
  });
  if (isSkipped(health)) notes.push(`GET /health while mining: skipped (${health.skipped})`);
  else rows.push({ name: 'GET /health while mining', p50Ms: health.p50Ms, p99Ms: health.p99Ms, samples: health.samples });
  const query = await attempt('query latency', log, async () => {
    const { benchQuery } = await import('./query.js');
    return benchQuery({ events: quick ? 2_000 : 20_000, clients: 8, seconds: quick ? 1 : 2 });
  });
  if (isSkipped(query)) notes.push(`GET /trace and /verify: skipped (${query.skipped})`);
  else {
    for (const run of query.runs.filter((x) => x.clients === 1)) {
      rows.push({ name: `GET ${run.route} (1 client, ${query.events} events)`, p50Ms: run.p50Ms, p99Ms: run.p99Ms, samples: run.requests });
    }
  }
  const prop = await attempt('propagation', log, async () => {
    const { benchPropagation } = await import('./propagation.js');
    return benchPropagation(quick ? { nodes: 3, blocks: 5, txs: 10 } : { nodes: 5, blocks: 20, txs: 60 });
  });
  if (isSkipped(prop)) notes.push(`propagation: skipped (${prop.skipped})`);
  else {
    rows.push({ name: `block to all ${prop.nodes} nodes`, p50Ms: prop.block.toAllNodes.p50, p99Ms: prop.block.toAllNodes.p99, samples: prop.block.toAllNodes.count });
    rows.push({ name: `tx to all ${prop.nodes} nodes`, p50Ms: prop.tx.toAllNodes.p50, p99Ms: prop.tx.toAllNodes.p99, samples: prop.tx.toAllNodes.count });
  }
  if (rows.length === 0) throw new Error(`no latency measured: ${notes.join('; ')}`);
  return { rows, notes };
}

async function syncPart(quick: boolean, log: (l: string) => void): Promise<SyncPart> {
  const { benchSync } = await import('./sync.js');
  const sizes = quick ? [200] : [500, 2_000, 5_000];
  const points: SyncPart['points'] = [];
  for (const blocks of sizes) {
    const r = await benchSync({ blocks });
    log(`bench report: sync ${blocks} blocks: ${r.blocksPerSecond} blocks/s`);
    points.push({ blocks, blocksPerSecond: r.blocksPerSecond, localImportBlocksPerSecond: r.localImportBlocksPerSecond, seconds: r.seconds });
  }
  return { points };
}

const mh = (v: number): string => `${+(v / 1e6).toPrecision(3)}`;

/** The SVG plots of a report (name → SVG text); a skipped part gets no plot. */
export function plots(r: BenchReport): Record<string, string> {
  const out: Record<string, string> = {};
  const where = `${r.machine.cores} cores · ${r.machine.cpu} · Node ${r.machine.node}`;
  if (!isSkipped(r.hashrate)) {
    const h = r.hashrate;
    const one = h.points.find((p) => p.workers === 1)?.hashesPerSecond ?? 0;
    const xs = h.points.map((p) => p.workers);
    out['hashrate.svg'] = lineChart({
      title: 'Miner hash rate vs worker threads',
      subtitle: `SHA-256d, ${h.kernel} kernel, median of interleaved turns · ${where}`,
      xLabel: 'worker threads',
      yLabel: 'million hashes per second',
      yFormat: mh,
      xTicks: xs,
      markers: [{ x: r.machine.cores, label: `${r.machine.cores} cores` }],
      series: [
        { name: `${h.kernel} kernel`, color: PALETTE[0] as string, points: h.points.map((p) => [p.workers, p.hashesPerSecond]), labels: true },
        { name: 'ideal scaling (up to the cores)', color: '#9aa5ae', dashed: true, points: xs.map((w) => [w, Math.min(w, r.machine.cores) * one]) },
        { name: '@noble/hashes baseline × workers', color: PALETTE[1] as string, dashed: true, points: xs.map((w) => [w, Math.min(w, r.machine.cores) * h.baselinePerWorker]) },
      ],
    });
  }
  if (!isSkipped(r.ingest)) {
    const g = r.ingest;
    out['ingest.svg'] = lineChart({
      title: 'Capture throughput vs events per document',
      subtitle: `POST /capture, ${g.clients} clients, mining dev node (block interval ${g.blockIntervalMs} ms) · ${where}`,
      xLabel: 'events per captured document (one tx each), log scale',
      yLabel: 'events per second',
      logX: true,
      series: [
        { name: 'accepted (202)', color: PALETTE[0] as string, points: g.points.map((p) => [p.eventsPerDocument, p.acceptedEventsPerSecond]), labels: true },
        { name: 'committed in blocks', color: PALETTE[1] as string, points: g.points.map((p) => [p.eventsPerDocument, p.committedEventsPerSecond]) },
      ],
    });
  }
  if (!isSkipped(r.latency)) {
    const l = r.latency;
    out['latency.svg'] = barChart({
      title: 'Latency percentiles',
      subtitle: `milliseconds, log scale · client and node(s) on the same ${r.machine.cores}-core machine`,
      yLabel: 'milliseconds (log scale)',
      logY: true,
      yFormat: (v) => (v >= 1 ? String(+v.toPrecision(3)) : String(+v.toPrecision(2))),
      categories: l.rows.map((x) => x.name),
      groups: [
        { name: 'p50', color: PALETTE[0] as string, values: l.rows.map((x) => x.p50Ms) },
        { name: 'p99', color: PALETTE[1] as string, values: l.rows.map((x) => x.p99Ms) },
      ],
    });
  }
  if (!isSkipped(r.sync)) {
    const s = r.sync;
    out['sync.svg'] = lineChart({
      title: 'Initial sync: blocks per second',
      subtitle: `a new node syncs from one member over libp2p (headers first, full checks, synced writes) · ${where}`,
      xLabel: 'chain length (blocks)',
      yLabel: 'blocks per second',
      series: [
        { name: 'sync over p2p', color: PALETTE[0] as string, points: s.points.map((p) => [p.blocks, p.blocksPerSecond]), labels: true },
        { name: 'local import, no network', color: PALETTE[2] as string, points: s.points.map((p) => [p.blocks, p.localImportBlocksPerSecond]) },
      ],
    });
  }
  return out;
}

/** results/README.md: the figures as tables, and the plots. */
export function summary(r: BenchReport): string {
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`tracechain bench report\` on ${r.generatedAt.slice(0, 10)} in ${Math.round(r.seconds)} s: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.platform}. Raw figures: [report.json](report.json).`,
    '',
  ];
  if (isSkipped(r.hashrate)) lines.push(`**Hash rate**: skipped (${r.hashrate.skipped})`, '');
  else {
    lines.push('## Hash rate vs workers', '', '![hash rate](hashrate.svg)', '', '| workers | hashes/s |', '| --- | --- |');
    for (const p of r.hashrate.points) lines.push(`| ${p.workers} | ${(p.hashesPerSecond / 1e6).toFixed(2)} M |`);
    lines.push('', `Kernel \`${r.hashrate.kernel}\`; @noble/hashes baseline ${(r.hashrate.baselinePerWorker / 1e6).toFixed(2)} M/s per worker.`, '');
  }
  if (isSkipped(r.ingest)) lines.push(`**Ingest**: skipped (${r.ingest.skipped})`, '');
  else {
    lines.push('## Ingest vs events per document', '', '![ingest](ingest.svg)', '', '| events/doc | accepted ev/s | committed ev/s | p50 ms | p99 ms | refused | errors |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const p of r.ingest.points) lines.push(`| ${p.eventsPerDocument} | ${p.acceptedEventsPerSecond} | ${p.committedEventsPerSecond} | ${p.latencyP50Ms} | ${p.latencyP99Ms} | ${p.refused} | ${p.errors} |`);
    lines.push('', `Limits on one core: Ed25519 verify ${r.ingest.ed25519VerifiesPerSecond}/s; EPCIS validate + event hash ${r.ingest.validateHashEventsPerSecond} events/s.`, '');
  }
  if (isSkipped(r.latency)) lines.push(`**Latency**: skipped (${r.latency.skipped})`, '');
  else {
    lines.push('## Latency percentiles', '', '![latency](latency.svg)', '', '| what | p50 ms | p99 ms | samples |', '| --- | --- | --- | --- |');
    for (const x of r.latency.rows) lines.push(`| ${x.name} | ${x.p50Ms} | ${x.p99Ms} | ${x.samples ?? ''} |`);
    lines.push('');
    for (const n of r.latency.notes) lines.push(`- ${n}`);
    if (r.latency.notes.length > 0) lines.push('');
  }
  if (isSkipped(r.sync)) lines.push(`**Sync**: skipped (${r.sync.skipped})`, '');
  else {
    lines.push('## Sync', '', '![sync](sync.svg)', '', '| blocks | sync blocks/s | local import blocks/s | sync seconds |', '| --- | --- | --- | --- |');
    for (const p of r.sync.points) lines.push(`| ${p.blocks} | ${p.blocksPerSecond} | ${p.localImportBlocksPerSecond} | ${p.seconds} |`);
    lines.push('');
  }
  if (r.notes.length > 0) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

function haveRsvg(): boolean {
  const r = spawnSync('rsvg-convert', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** bench/results of the checkout this module belongs to (from bench/ or dist/bench/). */
export function defaultResultsDir(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench'))) return join(dir, 'bench', 'results');
    dir = dirname(dir);
  }
  return join(process.cwd(), 'bench', 'results');
}

export async function benchReport(opts: ReportOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => undefined);
  const quick = opts.quick === true;
  const want = new Set<Part>(opts.only ?? PARTS);
  const t0 = performance.now();
  const notes: string[] = [];
  const loadStart = loadavg()[0] ?? 0;
  const skip = (): Skipped => ({ skipped: `not requested (--only ${[...want].join(',')})` });
  const hashrate = want.has('hashrate') ? await attempt('hashrate', log, () => hashratePart(quick)) : skip();
  const ingest = want.has('ingest') || want.has('latency') ? await attempt('ingest', log, () => ingestPart(quick)) : skip();
  const latency = want.has('latency') ? await attempt('latency', log, () => latencyPart(quick, ingest, log)) : skip();
  const sync = want.has('sync') ? await attempt('sync', log, () => syncPart(quick, log)) : skip();
  if (quick) notes.push('quick run (--quick): small sizes, figures are rough');
  // Other work on the machine moves every figure here: say how busy it was.
  notes.push(`1-minute load average ${loadStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end (${availableParallelism()} cores; the benches themselves add to it)`);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const report: BenchReport = {
    version: 1,
    generatedAt: new Date().toISOString(),
    seconds: r1((performance.now() - t0) / 1000),
    machine: { cores: availableParallelism(), cpu, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.versions.node, platform: `${process.platform}-${process.arch}` },
    hashrate,
    ingest: want.has('ingest') ? ingest : skip(),
    latency,
    sync,
    notes,
    files: [],
  };
  await writeReportFiles(report, opts.out);
  return report;
}

/** Write report.json, README.md, the SVG plots and (with rsvg-convert) PNG copies into `out`. */
export async function writeReportFiles(report: BenchReport, out: string): Promise<void> {
  const notes = report.notes.filter((n) => !n.startsWith('no PNG copies'));
  await mkdir(out, { recursive: true });
  const svgs = plots(report);
  const files = ['report.json', 'README.md', ...Object.keys(svgs)];
  const png = haveRsvg();
  for (const [name, svg] of Object.entries(svgs)) {
    await writeFile(join(out, name), svg);
    if (png) {
      const pngName = name.replace(/\.svg$/, '.png');
      const r = spawnSync('rsvg-convert', ['-o', join(out, pngName), join(out, name)], { stdio: 'ignore' });
      if (r.status === 0) files.push(pngName);
    }
  }
  if (!png) notes.push('no PNG copies: rsvg-convert (Debian librsvg2-bin) is not installed');
  report.notes = notes;
  report.files = files;
  await writeFile(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(out, 'README.md'), summary(report));
}

export function formatReport(r: BenchReport, out: string): string {
  const part = (name: string, v: object): string => (isSkipped(v as HashratePart | Skipped) ? `${name}: skipped (${(v as Skipped).skipped})` : `${name}: ok`);
  return [
    `bench report written to ${out} in ${Math.round(r.seconds)} s (${r.files.join(', ')})`,
    part('hashrate', r.hashrate),
    part('ingest', r.ingest),
    part('latency', r.latency),
    part('sync', r.sync),
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}
