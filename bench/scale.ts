/**
 * `tracechain bench report --scale`: how tracechain's costs grow (issue #20), measured on this
 * machine and written to bench/results/scale/ (scale.json, README.md, SVG plots, PNG copies when
 * Debian's rsvg-convert is installed). Too long for CI (hours at full size); `--quick` is a smoke
 * run at tiny sizes, `--only` runs some parts and keeps the others' earlier figures.
 *
 *   growth       committed events/s, disk and memory while one node grows from empty to 10 M
 *                events (bench/ingest-growth.ts), a sample every million;
 *   reads        /trace, /verify and an indexed EPCIS query at 1, 5 and 10 M events
 *                (bench/query.ts, its stores kept in the temp dir between runs);
 *   audit        `tracechain audit` and `tracechain reindex` on a copy of the 1 M store:
 *                seconds per million events;
 *   sync         a new node syncing 10,000, 50,000 and 100,000 blocks (bench/sync.ts);
 *   propagation  block and tx to all of 3, 5, 10 and 20 nodes on loopback (bench/propagation.ts;
 *                one of them seals, the rest only import).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { lineChart, PALETTE } from './plot.js';
import { binPath, round } from './support.js';

export const SCALE_PARTS = ['growth', 'reads', 'audit', 'sync', 'propagation'] as const;
export type ScalePart = (typeof SCALE_PARTS)[number];

export interface ScaleOptions {
  /** Output directory (bench/results/scale). */
  out: string;
  quick?: boolean;
  only?: ScalePart[];
  log?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/** When and where a part was measured: parts run at different times keep their own. */
export interface Measured {
  measuredAt: string;
  seconds: number;
  /** 1-minute load average before and after the part (the benches themselves add to it). */
  load: [number, number];
  quick: boolean;
}

export interface GrowthFigures extends Measured {
  target: number;
  /** The clients' bound on accepted events not yet in a block (absent: none, the first runs). */
  maxBacklogEvents?: number;
  eventsPerDocument: number;
  clients: number;
  blockIntervalMs: number;
  samples: { events: number; eventsPerSecond: number; latencyP99Ms: number; diskBytesPerEvent: number; rssBytes: number | null; anonBytes: number | null }[];
  lastVsFirstPercent: number;
}

export interface ReadsFigures extends Measured {
  points: {
    events: number;
    bytesPerEvent: number;
    rssBytes: number | null;
    anonBytes: number | null;
    runs: { route: string; clients: number; requestsPerSecond: number; p50Ms: number; p99Ms: number }[];
  }[];
}

export interface AuditFigures extends Measured {
  points: { events: number; blocks: number; auditSeconds: number; reindexSeconds: number; auditSecondsPerMillion: number; reindexSecondsPerMillion: number }[];
}

export interface SyncFigures extends Measured {
  points: { blocks: number; blocksPerSecond: number; localImportBlocksPerSecond: number }[];
}

export interface PropagationFigures extends Measured {
  points: { nodes: number; blockP50Ms: number; blockP99Ms: number; txP50Ms: number; txP99Ms: number; blocks: number; txs: number }[];
}

export interface ScaleReport {
  version: 1;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; platform: string };
  growth?: GrowthFigures;
  reads?: ReadsFigures;
  audit?: AuditFigures;
  sync?: SyncFigures;
  propagation?: PropagationFigures;
  /** Parts that failed in the last run, with the reason (their earlier figures, if any, are kept). */
  failed: Record<string, string>;
  files: string[];
}

/** The sizes each part measures, full and quick. */
export function scaleSizes(quick: boolean): { growth: [number, number]; reads: number[]; audit: number[]; sync: number[]; nodes: number[] } {
  return quick
    ? { growth: [20_000, 5_000], reads: [2_000, 4_000], audit: [2_000], sync: [200, 400], nodes: [3] }
    : { growth: [10_000_000, 1_000_000], reads: [1_000_000, 5_000_000, 10_000_000], audit: [1_000_000], sync: [10_000, 50_000, 100_000], nodes: [3, 5, 10, 20] };
}

function machine(): ScaleReport['machine'] {
  return { cores: availableParallelism(), cpu: cpus()[0]?.model.trim() ?? 'unknown CPU', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.versions.node, platform: `${process.platform}-${process.arch}` };
}

/** Run `tracechain <args>` to its end; resolves its wall time in seconds, rejects on a non-zero exit. */
function timedCommand(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const proc = spawn(process.execPath, [binPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer): void => void (tail = (tail + b.toString('utf8')).slice(-2_000));
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`tracechain ${args[0] ?? ''} exited ${code}: ${tail.trim().split('\n').slice(-3).join(' / ')}`))));
  });
}

async function growthPart(quick: boolean, log: (l: string) => void, progress: ScaleOptions['onProgress']): Promise<Omit<GrowthFigures, keyof Measured>> {
  const { benchIngestGrowth } = await import('./ingest-growth.js');
  const [target, sampleEvery] = scaleSizes(quick).growth;
  const r = await benchIngestGrowth({
    target,
    sampleEvery,
    onSample: (s) => log(`bench scale: growth ${s.events} events: ${s.eventsPerSecond} events/s, ${s.diskBytesPerEvent} bytes/event, RSS ${s.rssBytes === null ? '?' : Math.round(s.rssBytes / 1048576)} MiB`),
    ...(progress !== undefined ? { onProgress: progress } : {}),
  });
  return {
    target: r.target,
    maxBacklogEvents: r.maxBacklogEvents,
    eventsPerDocument: r.eventsPerDocument,
    clients: r.clients,
    blockIntervalMs: r.blockIntervalMs,
    samples: r.samples.map((s) => ({ events: s.events, eventsPerSecond: s.eventsPerSecond, latencyP99Ms: s.latencyP99Ms, diskBytesPerEvent: s.diskBytesPerEvent, rssBytes: s.rssBytes, anonBytes: s.anonBytes })),
    lastVsFirstPercent: r.lastVsFirstPercent,
  };
}

async function readsPart(quick: boolean, log: (l: string) => void): Promise<Omit<ReadsFigures, keyof Measured>> {
  const { benchQuery } = await import('./query.js');
  const points: ReadsFigures['points'] = [];
  for (const events of scaleSizes(quick).reads) {
    const r = await benchQuery({
      events,
      clients: 8,
      seconds: quick ? 1 : 5,
      runs: [
        ['/trace', 1],
        ['/verify', 1],
        ['/verify', 8],
        ['/events', 1],
      ],
      log,
    });
    log(`bench scale: reads at ${r.events} events: ${r.runs.map((x) => `${x.route} ×${x.clients} p99 ${x.p99Ms} ms`).join(', ')}`);
    points.push({
      events: r.events,
      bytesPerEvent: Math.round(r.build.storeBytes / r.events),
      rssBytes: r.nodeRssBytes,
      anonBytes: r.nodeRssAnonBytes,
      runs: r.runs.map((x) => ({ route: x.route, clients: x.clients, requestsPerSecond: x.requestsPerSecond, p50Ms: x.p50Ms, p99Ms: x.p99Ms })),
    });
  }
  return { points };
}

async function auditPart(quick: boolean, log: (l: string) => void): Promise<Omit<AuditFigures, keyof Measured>> {
  const { benchQuery, queryStoreDir } = await import('./query.js');
  const points: AuditFigures['points'] = [];
  for (const size of scaleSizes(quick).audit) {
    const source = queryStoreDir(size);
    // The query bench builds (or reuses) the store; a short run is enough for that.
    if (!existsSync(join(source, 'bench-meta.json'))) await benchQuery({ events: size, seconds: 1, runs: [['/verify', 1]], log });
    const meta = JSON.parse(await readFile(join(source, 'bench-meta.json'), 'utf8')) as { events: number; blocks: number };
    const dir = await mkdtemp(join(tmpdir(), 'tracechain-bench-audit-'));
    try {
      const copy = join(dir, 'data');
      await cp(source, copy, { recursive: true });
      const auditSeconds = await timedCommand(['audit', '--data', copy, '--json']);
      log(`bench scale: audit of ${meta.events} events in ${auditSeconds.toFixed(0)} s`);
      const reindexSeconds = await timedCommand(['reindex', '--data', copy, '--json']);
      log(`bench scale: reindex of ${meta.events} events in ${reindexSeconds.toFixed(0)} s`);
      const millions = meta.events / 1e6;
      points.push({ events: meta.events, blocks: meta.blocks, auditSeconds: round(auditSeconds), reindexSeconds: round(reindexSeconds), auditSecondsPerMillion: round(auditSeconds / millions), reindexSecondsPerMillion: round(reindexSeconds / millions) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { points };
}

async function syncPart(quick: boolean, log: (l: string) => void): Promise<Omit<SyncFigures, keyof Measured>> {
  const { benchSync } = await import('./sync.js');
  const points: SyncFigures['points'] = [];
  for (const blocks of scaleSizes(quick).sync) {
    const r = await benchSync({ blocks });
    log(`bench scale: sync of ${blocks} blocks: ${r.blocksPerSecond} blocks/s (local import ${r.localImportBlocksPerSecond})`);
    points.push({ blocks, blocksPerSecond: r.blocksPerSecond, localImportBlocksPerSecond: r.localImportBlocksPerSecond });
  }
  return { points };
}

async function propagationPart(quick: boolean, log: (l: string) => void): Promise<Omit<PropagationFigures, keyof Measured>> {
  const { benchPropagation } = await import('./propagation.js');
  const points: PropagationFigures['points'] = [];
  for (const nodes of scaleSizes(quick).nodes) {
    const r = await benchPropagation(quick ? { nodes, blocks: 5, txs: 10 } : { nodes, blocks: 60, txs: 100 });
    log(`bench scale: propagation to ${nodes} nodes: block p99 ${r.block.toAllNodes.p99} ms, tx p99 ${r.tx.toAllNodes.p99} ms`);
    points.push({ nodes, blockP50Ms: r.block.toAllNodes.p50, blockP99Ms: r.block.toAllNodes.p99, txP50Ms: r.tx.toAllNodes.p50, txP99Ms: r.tx.toAllNodes.p99, blocks: r.block.toAllNodes.count, txs: r.tx.toAllNodes.count });
  }
  return { points };
}

async function readEarlier(out: string): Promise<ScaleReport | undefined> {
  try {
    const r = JSON.parse(await readFile(join(out, 'scale.json'), 'utf8')) as ScaleReport;
    return r.version === 1 ? r : undefined;
  } catch {
    return undefined; // none yet (or unreadable): this run starts the file
  }
}

export async function benchScale(opts: ScaleOptions): Promise<ScaleReport> {
  const log = opts.log ?? (() => undefined);
  const quick = opts.quick === true;
  const want = opts.only ?? [...SCALE_PARTS];
  const earlier = await readEarlier(opts.out);
  const report: ScaleReport = { ...(earlier ?? {}), version: 1, machine: machine(), failed: {}, files: [] };
  const parts: { [K in ScalePart]: () => Promise<Omit<NonNullable<ScaleReport[K]>, keyof Measured>> } = {
    growth: () => growthPart(quick, log, opts.onProgress),
    reads: () => readsPart(quick, log),
    audit: () => auditPart(quick, log),
    sync: () => syncPart(quick, log),
    propagation: () => propagationPart(quick, log),
  };
  for (const part of want) {
    const t0 = performance.now();
    const loadBefore = loadavg()[0] ?? 0;
    log(`bench scale: ${part}…`);
    try {
      const figures = await parts[part]();
      const measured: Measured = { measuredAt: new Date().toISOString(), seconds: round((performance.now() - t0) / 1000), load: [round(loadBefore), round(loadavg()[0] ?? 0)], quick };
      (report as unknown as Record<string, unknown>)[part] = { ...figures, ...measured };
      log(`bench scale: ${part} done in ${measured.seconds} s`);
    } catch (err) {
      report.failed[part] = (err as Error).message.split('\n')[0] ?? String(err);
      log(`bench scale: ${part} failed: ${report.failed[part]}`);
    }
    // Written after every part: a long run that stops keeps what it measured.
    await writeScaleFiles(report, opts.out);
  }
  if (want.length === 0) await writeScaleFiles(report, opts.out);
  return report;
}

const M = (n: number): string => `${+(n / 1e6).toPrecision(3)} M`;
const mib = (b: number | null): number => (b === null ? Number.NaN : Math.round(b / 1048576));
/** MiB for a table: '-' when not reported. */
const mibText = (b: number | null): string => (b === null ? '-' : String(Math.round(b / 1048576)));

/** The SVG plots (name → SVG text) of the parts measured. */
export function scalePlots(r: ScaleReport): Record<string, string> {
  const out: Record<string, string> = {};
  const where = `${r.machine.cores} cores · ${r.machine.cpu} · Node ${r.machine.node}`;
  const g = r.growth;
  if (g !== undefined && g.samples.length > 0) {
    const first = g.samples[0]?.eventsPerSecond ?? 0;
    const xs = g.samples.map((s) => s.events);
    out['scale-ingest.svg'] = lineChart({
      title: 'Committed events/s while the store grows',
      subtitle: `one mining node, ${g.eventsPerDocument}-event documents, ${g.clients} clients, tx log on · ${where}`,
      xLabel: 'events in the store',
      yLabel: 'committed events per second',
      xFormat: M,
      xTicks: xs,
      series: [
        { name: 'committed events/s (interval since the previous sample)', color: PALETTE[0] as string, points: g.samples.map((s) => [s.events, s.eventsPerSecond]), labels: true },
        { name: '90 % of the first interval (the target)', color: '#9aa5ae', dashed: true, points: xs.map((x) => [x, 0.9 * first]) },
      ],
    });
  }
  const reads = r.reads?.points ?? [];
  if (reads.length > 0) {
    const xs = reads.map((p) => p.events);
    const p99 = (route: string, clients: number): [number, number][] => reads.map((p) => [p.events, p.runs.find((x) => x.route === route && x.clients === clients)?.p99Ms ?? Number.NaN]);
    out['scale-reads.svg'] = lineChart({
      title: 'Read latency (p99) vs events in the store',
      subtitle: `one client, the client on the same machine · ${where}`,
      xLabel: 'events in the store',
      yLabel: 'p99 milliseconds',
      xFormat: M,
      xTicks: xs,
      series: [
        { name: 'GET /trace (10-event journey with proofs)', color: PALETTE[0] as string, points: p99('/trace', 1), labels: true },
        { name: 'GET /verify', color: PALETTE[1] as string, points: p99('/verify', 1), labels: true },
        { name: 'GET /events (indexed EPCIS query, first page)', color: PALETTE[2] as string, points: p99('/events', 1), labels: true },
        { name: '/trace target 10 ms', color: '#9aa5ae', dashed: true, points: xs.map((x) => [x, 10]) },
      ],
    });
  }
  const disk: [number, number][] = [...(g?.samples ?? []).map((s): [number, number] => [s.events, s.diskBytesPerEvent])];
  const readDisk: [number, number][] = reads.map((p) => [p.events, p.bytesPerEvent]);
  if (disk.length + readDisk.length > 0) {
    out['scale-disk-memory.svg'] = lineChart({
      title: 'Disk per event and memory vs events in the store',
      subtitle: `bytes per event on disk; the node's RSS and its own memory in MiB · ${where}`,
      xLabel: 'events in the store',
      yLabel: 'bytes per event · MiB',
      xFormat: M,
      series: [
        { name: 'disk bytes/event, growing node (data dir: store + tx log)', color: PALETTE[0] as string, points: disk, labels: true },
        { name: 'disk bytes/event, query bench store (LevelDB approximate size)', color: PALETTE[3] as string, points: readDisk },
        { name: 'RSS MiB (growing node)', color: PALETTE[1] as string, points: (g?.samples ?? []).map((s) => [s.events, mib(s.rssBytes)]) },
        { name: 'own memory MiB (growing node, RssAnon)', color: PALETTE[2] as string, dashed: true, points: (g?.samples ?? []).map((s) => [s.events, mib(s.anonBytes)]) },
        { name: 'own memory MiB (serving node, after the reads)', color: PALETTE[4] as string, dashed: true, points: reads.map((p) => [p.events, mib(p.anonBytes)]) },
      ],
    });
  }
  const sync = r.sync?.points ?? [];
  if (sync.length > 0) {
    out['scale-sync.svg'] = lineChart({
      title: 'Initial sync: blocks per second vs chain length',
      subtitle: `a new node syncs from one member over libp2p (headers first, full checks, synced writes) · ${where}`,
      xLabel: 'chain length (blocks)',
      yLabel: 'blocks per second',
      xTicks: sync.map((p) => p.blocks),
      series: [
        { name: 'sync over p2p', color: PALETTE[0] as string, points: sync.map((p) => [p.blocks, p.blocksPerSecond]), labels: true },
        { name: 'local import, no network', color: PALETTE[2] as string, points: sync.map((p) => [p.blocks, p.localImportBlocksPerSecond]) },
        { name: 'target 1,000 blocks/s', color: '#9aa5ae', dashed: true, points: sync.map((p) => [p.blocks, 1000]) },
      ],
    });
  }
  const prop = r.propagation?.points ?? [];
  if (prop.length > 0) {
    out['scale-propagation.svg'] = lineChart({
      title: 'Block and tx to all nodes vs nodes (loopback)',
      subtitle: `ms from gossip at the sealer to the last node's import; all nodes share ${r.machine.cores} cores · ${where}`,
      xLabel: 'nodes',
      yLabel: 'milliseconds',
      xTicks: prop.map((p) => p.nodes),
      series: [
        { name: 'block p99', color: PALETTE[0] as string, points: prop.map((p) => [p.nodes, p.blockP99Ms]), labels: true },
        { name: 'block p50', color: PALETTE[0] as string, dashed: true, points: prop.map((p) => [p.nodes, p.blockP50Ms]) },
        { name: 'tx p99', color: PALETTE[1] as string, points: prop.map((p) => [p.nodes, p.txP99Ms]), labels: true },
        { name: 'tx p50', color: PALETTE[1] as string, dashed: true, points: prop.map((p) => [p.nodes, p.txP50Ms]) },
        { name: 'block target 250 ms', color: '#9aa5ae', dashed: true, points: prop.map((p) => [p.nodes, 250]) },
      ],
    });
  }
  return out;
}

function when(m: Measured): string {
  return `measured ${m.measuredAt.slice(0, 16).replace('T', ' ')} UTC in ${Math.round(m.seconds)} s, load average ${m.load[0]} → ${m.load[1]}${m.quick ? ', **quick run (tiny sizes)**' : ''}`;
}

/** README.md of the results: every part's table and plot. */
export function scaleSummary(r: ScaleReport): string {
  const lines = [
    '# How tracechain grows: measured',
    '',
    `Written by \`tracechain bench report --scale\` on ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.platform}; clients and nodes share the machine. Raw figures: [scale.json](scale.json). What the figures mean and what is done about them: [docs/scale.md](../../../docs/scale.md).`,
    '',
  ];
  const g = r.growth;
  if (g !== undefined) {
    lines.push('## Ingest while the store grows', '', `One node growing from empty to ${g.target.toLocaleString('en-US')} events (${g.eventsPerDocument}-event documents, ${g.clients} clients, ${g.maxBacklogEvents !== undefined && g.maxBacklogEvents > 0 ? `at most ${g.maxBacklogEvents.toLocaleString('en-US')} events waiting for a block` : '**no bound on the backlog**: the clients posted as fast as the node accepted, filling its mempool'}, block interval ${g.blockIntervalMs} ms, tx log on); ${when(g)}.`, '', '![ingest](scale-ingest.svg)', '');
    lines.push('| events stored | committed events/s | vs first | capture → block p99 ms | disk bytes/event | RSS MiB | own MiB |', '| --- | --- | --- | --- | --- | --- | --- |');
    const first = g.samples[0]?.eventsPerSecond ?? 0;
    for (const s of g.samples) lines.push(`| ${s.events.toLocaleString('en-US')} | ${s.eventsPerSecond} | ${first > 0 ? Math.round((100 * s.eventsPerSecond) / first) : '-'} % | ${s.latencyP99Ms} | ${s.diskBytesPerEvent} | ${mibText(s.rssBytes)} | ${mibText(s.anonBytes)} |`);
    lines.push('', `Last interval: **${g.lastVsFirstPercent} %** of the first (target ≥ 90 %).`, '');
  }
  if (r.reads !== undefined) {
    lines.push('## Reads at 1, 5 and 10 million events', '', `\`bench query\` stores (packs in cases of 100 on pallets of 10, 100-event documents); ${when(r.reads)}.`, '', '![reads](scale-reads.svg)', '');
    lines.push('| events | route | clients | requests/s | p50 ms | p99 ms |', '| --- | --- | --- | --- | --- | --- |');
    for (const p of r.reads.points) for (const x of p.runs) lines.push(`| ${p.events.toLocaleString('en-US')} | ${x.route} | ${x.clients} | ${x.requestsPerSecond} | ${x.p50Ms} | ${x.p99Ms} |`);
    lines.push('', '| events | disk bytes/event | RSS MiB | own MiB |', '| --- | --- | --- | --- |');
    for (const p of r.reads.points) lines.push(`| ${p.events.toLocaleString('en-US')} | ${p.bytesPerEvent} | ${mibText(p.rssBytes)} | ${mibText(p.anonBytes)} |`);
    lines.push('');
  }
  if (r.growth !== undefined || r.reads !== undefined) lines.push('![disk and memory](scale-disk-memory.svg)', '');
  if (r.audit !== undefined) {
    lines.push('## Audit and reindex', '', `\`tracechain audit\` and \`tracechain reindex\` on a copy of the query bench's store; ${when(r.audit)}.`, '');
    lines.push('| events | blocks | audit s | audit s per million | reindex s | reindex s per million |', '| --- | --- | --- | --- | --- | --- |');
    for (const p of r.audit.points) lines.push(`| ${p.events.toLocaleString('en-US')} | ${p.blocks} | ${p.auditSeconds} | ${p.auditSecondsPerMillion} | ${p.reindexSeconds} | ${p.reindexSecondsPerMillion} |`);
    lines.push('');
  }
  if (r.sync !== undefined) {
    lines.push('## Sync', '', `A new node syncing from one member over libp2p; ${when(r.sync)}.`, '', '![sync](scale-sync.svg)', '', '| blocks | sync blocks/s | local import blocks/s |', '| --- | --- | --- |');
    for (const p of r.sync.points) lines.push(`| ${p.blocks.toLocaleString('en-US')} | ${p.blocksPerSecond} | ${p.localImportBlocksPerSecond} |`);
    lines.push('');
  }
  if (r.propagation !== undefined) {
    lines.push('## Propagation', '', `Block and tx from the sealing node to all others (loopback, every node a process on the same cores); ${when(r.propagation)}.`, '', '![propagation](scale-propagation.svg)', '');
    lines.push('| nodes | block to all p50 ms | p99 ms | tx to all p50 ms | p99 ms | blocks | txs |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const p of r.propagation.points) lines.push(`| ${p.nodes} | ${p.blockP50Ms} | ${p.blockP99Ms} | ${p.txP50Ms} | ${p.txP99Ms} | ${p.blocks} | ${p.txs} |`);
    lines.push('');
  }
  const failed = Object.entries(r.failed);
  if (failed.length > 0) lines.push('## Failed in the last run', '', ...failed.map(([k, v]) => `- ${k}: ${v}`), '');
  return lines.join('\n');
}

/** Write scale.json, README.md, the plots and (with rsvg-convert) PNG copies. */
export async function writeScaleFiles(r: ScaleReport, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  const svgs = scalePlots(r);
  const files = ['scale.json', 'README.md', ...Object.keys(svgs)];
  const png = spawnSync('rsvg-convert', ['--version'], { stdio: 'ignore' }).status === 0;
  for (const [name, svg] of Object.entries(svgs)) {
    await writeFile(join(out, name), svg);
    if (png && spawnSync('rsvg-convert', ['-o', join(out, name.replace(/\.svg$/, '.png')), join(out, name)], { stdio: 'ignore' }).status === 0) files.push(name.replace(/\.svg$/, '.png'));
  }
  r.files = files;
  await writeFile(join(out, 'scale.json'), JSON.stringify(r, null, 2) + '\n');
  await writeFile(join(out, 'README.md'), scaleSummary(r));
}

export function formatScale(r: ScaleReport, out: string): string {
  const parts = SCALE_PARTS.map((p) => (r.failed[p] !== undefined ? `${p}: FAILED (${r.failed[p]})` : r[p] !== undefined ? `${p}: ${when(r[p] as Measured)}` : `${p}: not measured`));
  return [`bench report --scale written to ${out} (${r.files.join(', ')})`, ...parts].join('\n');
}
