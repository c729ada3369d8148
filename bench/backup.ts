/**
 * `tracechain bench backup --data DIR`: backup and restore of a real store, and what an online
 * backup costs the captures running beside it.
 *
 * DIR (a stopped node's data directory, e.g. the query bench's 1,000,000-event store) is copied
 * first; everything runs on the copy:
 * 1. offline: `writeBackup` of the copy (time, bytes); restore with the full audit, and restore
 *    with the snapshot checks (time of each phase);
 * 2. online: a node on the copy (mining), clients capturing 10-event documents: the 202 latency
 *    (p50, p99) for `seconds` without a backup, then while POST /admin/backup streams the whole
 *    backup to a file (the capture window is the backup's duration), then again without.
 */
import { createWriteStream } from 'node:fs';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pino } from 'pino';
import { writeBackup } from '../src/node/backup.js';
import { restoreBackup } from '../src/node/restore.js';
import { DataDir, FILES } from '../src/node/data-dir.js';
import { LevelChainStore } from '../src/storage/index.js';
import { DocumentSource } from './ingest.js';
import { HttpClient, percentile, round, startBenchNode, type BenchNode } from './support.js';

export interface BackupBenchOptions {
  data: string;
  seconds: number;
  clients: number;
  /** Also restore with the full audit (long on a large store: it replays every event). */
  audit: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface CaptureWindow {
  label: string;
  seconds: number;
  captures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  blocks: number;
}

export interface BackupBenchReport {
  events: number;
  blocks: number;
  storeBytes: number;
  offline: { backupSeconds: number; backupBytes: number; restoreAudit: { verify: number; write: number; audit: number; total: number } | null; restoreSnapshot: { verify: number; write: number; check: number; total: number } };
  online: { backupSeconds: number; backupBytes: number; windows: CaptureWindow[] };
}

async function dirBytes(dir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let n = 0;
  for (const f of await readdir(dir)) n += (await stat(join(dir, f))).size;
  return n;
}

/** Capture with `clients` clients until `until()` says stop; 202 latencies. */
async function captureWindow(node: BenchNode, token: string, source: DocumentSource, clients: number, label: string, until: () => boolean): Promise<CaptureWindow> {
  const http = new HttpClient(node.api, clients + 2);
  const tipHeight = async (): Promise<number> => (JSON.parse((await http.request('GET', '/blocks/tip')).body) as { height: number }).height;
  const h0 = await tipHeight();
  const lat: number[] = [];
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!until()) {
        const doc = source.document(10);
        const at = performance.now();
        const r = await http.request('POST', '/capture', headers, doc.body);
        if (r.status === 202) lat.push(performance.now() - at);
        else if (r.status === 429 || r.status === 503) await new Promise((res) => setTimeout(res, 50));
        else throw new Error(`capture answered ${r.status}: ${r.body.slice(0, 200)}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const blocks = (await tipHeight()) - h0;
  http.close();
  lat.sort((a, b) => a - b);
  return { label, seconds: round(seconds, 1), captures: lat.length, p50Ms: round(percentile(lat, 50)), p99Ms: round(percentile(lat, 99)), maxMs: round(lat[lat.length - 1] ?? 0), blocks };
}

export async function benchBackup(opts: BackupBenchOptions): Promise<BackupBenchReport> {
  const root = await mkdtemp(join(tmpdir(), 'tracechain-bench-backup-'));
  try {
    const src = new DataDir(opts.data);
    const genesis = await src.readGenesis();
    if (!genesis) throw new Error(`${opts.data} holds no consortium (no ${FILES.genesis})`);
    const copy = join(root, 'node');
    await cp(opts.data, copy, { recursive: true, filter: (p) => !p.endsWith('/LOCK') && !p.includes('/txlog') });
    const dir = new DataDir(copy);
    const storeBytes = await dirBytes(dir.file(FILES.chain));

    // 1. Offline.
    const file = join(root, 'offline.backup');
    const store = await LevelChainStore.open(dir.file(FILES.chain), { logger: pino({ level: 'silent' }) });
    const b0 = performance.now();
    const manifest = await writeBackup(store, dir, createWriteStream(file), { genesis });
    const backupSeconds = (performance.now() - b0) / 1000;
    await store.close();
    opts.onProgress?.(1, 5);
    const r1 = opts.audit ? await restoreBackup(file, join(root, 'restored-audit'), { check: 'audit' }) : undefined;
    await rm(join(root, 'restored-audit'), { recursive: true, force: true });
    opts.onProgress?.(2, 5);
    const r2 = await restoreBackup(file, join(root, 'restored-snapshot'), { check: 'snapshot' });
    await rm(join(root, 'restored-snapshot'), { recursive: true, force: true });
    opts.onProgress?.(3, 5);
    const offline = {
      backupSeconds: round(backupSeconds, 2),
      backupBytes: (await stat(file)).size,
      restoreAudit: r1 ? { verify: round(r1.ms.verify / 1000, 2), write: round(r1.ms.write / 1000, 2), audit: round(r1.ms.check / 1000, 2), total: round((r1.ms.verify + r1.ms.write + r1.ms.check) / 1000, 2) } : null,
      restoreSnapshot: { verify: round(r2.ms.verify / 1000, 2), write: round(r2.ms.write / 1000, 2), check: round(r2.ms.check / 1000, 2), total: round((r2.ms.verify + r2.ms.write + r2.ms.check) / 1000, 2) },
    };
    await rm(file, { force: true });

    // 2. Online, under capture load.
    const config = join(root, 'config.json');
    await writeFile(config, JSON.stringify({ api: { rateLimit: { writeMax: 10_000_000, readMax: 10_000_000, timeWindowMs: 10_000 } }, mempool: { maxTxs: 200_000, maxBytes: 512 * 1024 * 1024 } }));
    const node = await startBenchNode(['--data', copy, '--workers', '1', '--config', config], 120_000);
    try {
      const token = (await readFile(dir.file(FILES.apiToken), 'utf8')).trim();
      const source = new DocumentSource(Math.floor(Math.random() * 9000) + 1000);
      const windows: CaptureWindow[] = [];
      const timed = (s: number): (() => boolean) => {
        const end = performance.now() + s * 1000;
        return () => performance.now() >= end;
      };
      windows.push(await captureWindow(node, token, source, opts.clients, 'without backup', timed(opts.seconds)));
      const onlineFile = join(root, 'online.backup');
      let done = false;
      const o0 = performance.now();
      const backup = (async () => {
        const res = await fetch(`${node.api}/admin/backup`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        if (!res.ok || !res.body) throw new Error(`POST /admin/backup answered ${res.status}`);
        const out = createWriteStream(onlineFile);
        await new Promise<void>((resolve, reject) => {
          const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
          body.once('error', reject);
          out.once('error', reject);
          out.once('finish', () => resolve());
          body.pipe(out);
        });
        return (performance.now() - o0) / 1000;
      })().finally(() => {
        done = true;
      });
      const during = await captureWindow(node, token, source, opts.clients, 'during the online backup', () => done);
      const onlineSeconds = await backup;
      windows.push(during);
      opts.onProgress?.(4, 5);
      windows.push(await captureWindow(node, token, source, opts.clients, 'without backup (after)', timed(opts.seconds)));
      opts.onProgress?.(5, 5);
      return {
        events: manifest.buckets.eventLocations?.count ?? 0,
        blocks: manifest.tip.height,
        storeBytes,
        offline,
        online: { backupSeconds: round(onlineSeconds, 2), backupBytes: (await stat(onlineFile)).size, windows },
      };
    } finally {
      await node.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function formatBackupTable(r: BackupBenchReport): string {
  const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
  return [
    `backup of a store of ${r.events} events, ${r.blocks} blocks (${mb(r.storeBytes)} MiB of LevelDB files)`,
    `offline backup: ${r.offline.backupSeconds} s, ${mb(r.offline.backupBytes)} MiB`,
    r.offline.restoreAudit
      ? `restore + full audit: ${r.offline.restoreAudit.total} s (check file ${r.offline.restoreAudit.verify}, write ${r.offline.restoreAudit.write}, audit ${r.offline.restoreAudit.audit})`
      : 'restore + full audit: not run (--no-audit)',
    `restore + snapshot checks: ${r.offline.restoreSnapshot.total} s (check file ${r.offline.restoreSnapshot.verify}, write ${r.offline.restoreSnapshot.write}, checks ${r.offline.restoreSnapshot.check})`,
    `online backup (POST /admin/backup, while capturing): ${r.online.backupSeconds} s, ${mb(r.online.backupBytes)} MiB`,
    `${'capture 202 latency'.padEnd(32)} ${'s'.padStart(6)} ${'captures'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'blocks'.padStart(7)}`,
    ...r.online.windows.map((w) => `${w.label.padEnd(32)} ${String(w.seconds).padStart(6)} ${String(w.captures).padStart(9)} ${String(w.p50Ms).padStart(8)} ${String(w.p99Ms).padStart(8)} ${String(w.maxMs).padStart(8)} ${String(w.blocks).padStart(7)}`),
  ].join('\n');
}
