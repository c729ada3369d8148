/**
 * `tracechain bench <name>`: runs a benchmark from bench/, prints a table for people and, with
 * --json, one JSON object on the last line for machines.
 */
import { benchHashrate, formatHashrateTable } from '../../../bench/hashrate.js';
import { benchPropagation, formatPropagationTable } from '../../../bench/propagation.js';
import { benchSync, formatSyncTable } from '../../../bench/sync.js';
import { benchBackup, formatBackupTable } from '../../../bench/backup.js';
import { benchHealthLatency, formatHealthLatency } from '../../../bench/health-latency.js';
import { benchIngest, formatIngestTable } from '../../../bench/ingest.js';
import { benchIngestGrowth, formatGrowthTable } from '../../../bench/ingest-growth.js';
import { benchQuery, formatQueryTable } from '../../../bench/query.js';
import { benchReport, defaultResultsDir, formatReport, PARTS, type Part } from '../../../bench/report.js';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { benchScale, formatScale, SCALE_PARTS, type ScalePart } from '../../../bench/scale.js';
import { progressBar } from '../progress.js';

export interface BenchFlags {
  seconds: number;
  workers?: number;
  json?: boolean;
  /** propagation: blocks to time; sync: blocks to sync. */
  blocks?: number;
  phaseSeconds?: number;
  clients?: number;
  events?: number;
  blockInterval?: number;
  captureWorkers?: number;
  fresh?: boolean;
  /** ingest: false runs the node without its tx log (`--no-tx-log`: a benchmark comparison only). */
  txLog?: boolean;
  format?: string;
  /** ingest: public, private or both (each phase in both modes on the same node). */
  sharing?: string;
  /** ingest: also run the phases over HTTPS, beside plain HTTP. */
  https?: boolean;
  /** ingest: also run every phase with this many webhook subscriptions that never answer. */
  deadWebhooks?: number;
  /** report: output directory (default bench/results of this checkout). */
  out?: string;
  /** report: small sizes (a smoke run). */
  quick?: boolean;
  /** report: comma-separated parts (hashrate,ingest,latency,sync). */
  only?: string;
  /** backup: the data directory to copy and back up. */
  data?: string;
  /** sync: also time a new node started from a snapshot. */
  snapshot?: boolean;
  /** backup: false skips the restore with the full audit. */
  audit?: boolean;
  /** ingest: grow one node to this many committed events instead of the phases. */
  growTo?: number;
  /** ingest --grow-to: events between samples. */
  sampleEvery?: number;
  /** ingest --grow-to: accepted events waiting for a block above which the clients pause. */
  maxBacklog?: number;
  /** propagation: node processes. */
  nodes?: number;
  /** report: the growth curves (bench/scale.ts) instead of the quick report. */
  scale?: boolean;
}

export const BENCHES = ['hashrate', 'ingest', 'query', 'propagation', 'sync', 'backup', 'report'] as const;

export async function benchCommand(which: string, flags: BenchFlags, out: NodeJS.WritableStream): Promise<number> {
  switch (which) {
    case 'hashrate': {
      const bar = progressBar('hashrate');
      const report = await benchHashrate({
        seconds: flags.seconds,
        workers: flags.workers ?? Math.max(1, availableParallelism()),
        onProgress: (d, t) => bar.update(d, t),
      });
      bar.stop();
      out.write(formatHashrateTable(report) + '\n');
      // The API must stay responsive while a real node mines at full speed (p99 < 50 ms).
      const hbar = progressBar('GET /health while mining');
      const health = await benchHealthLatency({ seconds: Math.min(10, Math.max(3, flags.seconds)), onProgress: (d, t) => hbar.update(d, t) });
      hbar.stop();
      out.write(formatHealthLatency(health) + '\n');
      if (flags.json) out.write(JSON.stringify({ ...report, healthWhileMining: health }) + '\n');
      return 0;
    }
    case 'ingest': {
      if (flags.growTo !== undefined) {
        const target = flags.growTo;
        const bar = progressBar('ingest growth');
        const report = await benchIngestGrowth({
          target,
          sampleEvery: flags.sampleEvery ?? Math.min(1_000_000, Math.max(100, Math.floor(target / 10))),
          ...(flags.clients !== undefined ? { clients: flags.clients } : {}),
          ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
          ...(flags.blockInterval !== undefined ? { blockIntervalMs: flags.blockInterval } : {}),
          ...(flags.captureWorkers !== undefined ? { captureWorkers: flags.captureWorkers } : {}),
          ...(flags.maxBacklog !== undefined ? { maxBacklogEvents: flags.maxBacklog } : {}),
          onProgress: (d, t) => bar.update(d, t),
        });
        bar.stop();
        out.write(formatGrowthTable(report) + '\n');
        if (flags.json) out.write(JSON.stringify(report) + '\n');
        return 0;
      }
      const bar = progressBar('ingest');
      const report = await benchIngest({
        ...(flags.phaseSeconds !== undefined ? { seconds: flags.phaseSeconds } : {}),
        ...(flags.clients !== undefined ? { clients: flags.clients } : {}),
        ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        ...(flags.blockInterval !== undefined ? { blockIntervalMs: flags.blockInterval } : {}),
        ...(flags.captureWorkers !== undefined ? { captureWorkers: flags.captureWorkers } : {}),
        ...(flags.txLog === false ? { txLog: false } : {}),
        ...(flags.format === 'xml' ? { format: 'xml' as const } : {}),
        ...(flags.https === true ? { https: true } : {}),
        ...(flags.sharing !== undefined ? { sharing: flags.sharing === 'both' ? (['public', 'private'] as const).slice() : [flags.sharing === 'private' ? ('private' as const) : ('public' as const)] } : {}),
        ...(flags.deadWebhooks !== undefined ? { deadWebhooks: flags.deadWebhooks } : {}),
        onProgress: (d, t) => bar.update(d, t),
      });
      bar.stop();
      out.write(formatIngestTable(report) + '\n');
      if (flags.json) out.write(JSON.stringify(report) + '\n');
      return 0;
    }
    case 'query': {
      const bar = progressBar('query');
      const report = await benchQuery({
        ...(flags.events !== undefined ? { events: flags.events } : {}),
        ...(flags.clients !== undefined ? { clients: flags.clients } : {}),
        fresh: flags.fresh === true,
        onProgress: (d, t) => bar.update(d, t),
        log: (m) => process.stderr.write(m + '\n'),
      });
      bar.stop();
      out.write(formatQueryTable(report) + '\n');
      if (flags.json) out.write(JSON.stringify(report) + '\n');
      return 0;
    }
    case 'propagation': {
      const bar = progressBar('propagation');
      const report = await benchPropagation({ ...(flags.blocks !== undefined ? { blocks: flags.blocks } : {}), ...(flags.nodes !== undefined ? { nodes: flags.nodes } : {}), onProgress: (d, t) => bar.update(d, t) });
      bar.stop();
      out.write(formatPropagationTable(report) + '\n');
      if (flags.json) out.write(JSON.stringify(report) + '\n');
      return 0;
    }
    case 'sync': {
      const bar = progressBar('sync');
      const report = await benchSync({ ...(flags.blocks !== undefined ? { blocks: flags.blocks } : {}), snapshot: flags.snapshot === true, onProgress: (d, t) => bar.update(d, t) });
      bar.stop();
      out.write(formatSyncTable(report) + '\n');
      if (flags.json) out.write(JSON.stringify(report) + '\n');
      return 0;
    }
    case 'backup': {
      if (flags.data === undefined) throw new Error('bench backup needs --data DIR: a stopped node\'s data directory (it is copied; e.g. the query bench\'s store)');
      const bar = progressBar('backup');
      const report = await benchBackup({ data: flags.data, seconds: flags.seconds, clients: flags.clients ?? 8, audit: flags.audit !== false, onProgress: (d, t) => bar.update(d, t) });
      bar.stop();
      out.write(formatBackupTable(report) + '\n');
      if (flags.json) out.write(JSON.stringify(report) + '\n');
      return 0;
    }
    case 'report': {
      const only = flags.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (flags.scale === true) {
        // The growth curves (hours at full size): bench/results/scale/.
        const badScale = only?.filter((p) => !(SCALE_PARTS as readonly string[]).includes(p)) ?? [];
        if (badScale.length > 0) {
          process.stderr.write(`tracechain bench report --scale: unknown part(s) ${badScale.join(', ')}; choose from ${SCALE_PARTS.join(', ')}\n`);
          return 2;
        }
        const dir = flags.out ?? join(defaultResultsDir(), 'scale');
        const bar = progressBar('scale: ingest growth');
        const report = await benchScale({
          out: dir,
          quick: flags.quick === true,
          ...(only ? { only: only as ScalePart[] } : {}),
          log: (m) => process.stderr.write(m + '\n'),
          onProgress: (d, t) => bar.update(d, t),
        });
        bar.stop();
        out.write(formatScale(report, dir) + '\n');
        if (flags.json) out.write(JSON.stringify(report) + '\n');
        return Object.keys(report.failed).length === 0 ? 0 : 1;
      }
      // All of the above at a few sizes (a few minutes): bench/results/report.json, SVG plots, README.md.
      const bad = only?.filter((p) => !(PARTS as readonly string[]).includes(p)) ?? [];
      if (bad.length > 0) {
        process.stderr.write(`tracechain bench report: unknown part(s) ${bad.join(', ')}; choose from ${PARTS.join(', ')}\n`);
        return 2;
      }
      const dir = flags.out ?? defaultResultsDir();
      const report = await benchReport({ out: dir, quick: flags.quick === true, ...(only ? { only: only as Part[] } : {}), log: (m) => process.stderr.write(m + '\n') });
      out.write(formatReport(report, dir) + '\n');
      if (flags.json) out.write(JSON.stringify(report) + '\n');
      return 0;
    }
    default:
      process.stderr.write(`tracechain bench: unknown benchmark "${which}"; choose one of: ${BENCHES.join(', ')}\n`);
      return 2;
  }
}
