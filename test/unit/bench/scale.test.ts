/**
 * bench/scale.ts: the growth report's plots, summary and files (no benchmark runs here: the
 * figures are made up), and that a run of some parts keeps the other parts' earlier figures.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { benchScale, scalePlots, scaleSizes, scaleSummary, writeScaleFiles, type ScaleReport } from '../../../bench/scale.js';

const measured = { measuredAt: '2026-12-07T21:00:00.000Z', seconds: 100, load: [1, 2] as [number, number], quick: false };

function report(): ScaleReport {
  return {
    version: 1,
    machine: { cores: 2, cpu: 'test CPU', memoryGiB: 24, node: '20.20.0', platform: 'linux-x64' },
    growth: {
      ...measured,
      target: 2_000_000,
      eventsPerDocument: 100,
      clients: 64,
      blockIntervalMs: 500,
      samples: [
        { events: 1_000_000, eventsPerSecond: 6_000, latencyP99Ms: 900, diskBytesPerEvent: 400, rssBytes: 600 * 1048576, anonBytes: 500 * 1048576 },
        { events: 2_000_000, eventsPerSecond: 5_100, latencyP99Ms: 950, diskBytesPerEvent: 380, rssBytes: 700 * 1048576, anonBytes: null },
      ],
      lastVsFirstPercent: 85,
    },
    reads: {
      ...measured,
      points: [{ events: 1_001_976, bytesPerEvent: 352, rssBytes: null, anonBytes: 388 * 1048576, runs: [{ route: '/trace', clients: 1, requestsPerSecond: 170, p50Ms: 5.1, p99Ms: 12.5 }] }],
    },
    audit: { ...measured, points: [{ events: 1_001_976, blocks: 1006, auditSeconds: 190, reindexSeconds: 250, auditSecondsPerMillion: 189.6, reindexSecondsPerMillion: 249.5 }] },
    sync: { ...measured, points: [{ blocks: 10_000, blocksPerSecond: 990, localImportBlocksPerSecond: 1_050 }] },
    propagation: { ...measured, points: [{ nodes: 20, blockP50Ms: 40, blockP99Ms: 120, txP50Ms: 30, txP99Ms: 90, blocks: 60, txs: 100 }] },
    failed: {},
    files: [],
  };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('bench report --scale', () => {
  it('draws one plot per measured part, and the summary tables carry the figures', () => {
    const r = report();
    const svgs = scalePlots(r);
    expect(Object.keys(svgs).sort()).toEqual(['scale-disk-memory.svg', 'scale-ingest.svg', 'scale-propagation.svg', 'scale-reads.svg', 'scale-sync.svg']);
    for (const svg of Object.values(svgs)) expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const md = scaleSummary(r);
    expect(md).toContain('| 2,000,000 | 5100 | 85 % | 950 | 380 | 700 | - |');
    expect(md).toContain('Last interval: **85 %** of the first (target ≥ 90 %).');
    expect(md).toContain('| 1,001,976 | 1006 | 190 | 189.6 | 250 | 249.5 |');
    expect(md).toContain('| 20 | 40 | 120 | 30 | 90 | 60 | 100 |');
    expect(md).toContain('| 1,001,976 | /trace | 1 | 170 | 5.1 | 12.5 |');
  });

  it('a part not measured has no plot and no section', () => {
    const r = report();
    delete r.sync;
    delete r.propagation;
    expect(Object.keys(scalePlots(r))).not.toContain('scale-sync.svg');
    expect(scaleSummary(r)).not.toContain('## Sync');
  });

  it('a run of some parts keeps the earlier figures of the others, and says which part failed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracechain-scale-test-'));
    const earlier = report();
    await writeScaleFiles(earlier, dir);
    // No part asked for: nothing runs, the file is written again from what it held.
    const again = await benchScale({ out: dir, only: [] });
    expect(again.growth).toEqual(earlier.growth);
    expect(again.audit).toEqual(earlier.audit);
    const onDisk = JSON.parse(await readFile(join(dir, 'scale.json'), 'utf8')) as ScaleReport;
    expect(onDisk.propagation).toEqual(earlier.propagation);
    expect(onDisk.files).toEqual(expect.arrayContaining(['scale.json', 'README.md', 'scale-ingest.svg']));
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('## Propagation');
  });

  it('full sizes are the issue\'s: 10 M events sampled every million, reads at 1/5/10 M, sync to 100,000 blocks, up to 20 nodes', () => {
    const full = scaleSizes(false);
    expect(full.growth).toEqual([10_000_000, 1_000_000]);
    expect(full.reads).toEqual([1_000_000, 5_000_000, 10_000_000]);
    expect(full.sync).toEqual([10_000, 50_000, 100_000]);
    expect(full.nodes).toEqual([3, 5, 10, 20]);
    const quick = scaleSizes(true);
    expect(Math.max(...quick.reads, ...quick.audit, quick.growth[0])).toBeLessThanOrEqual(20_000);
  });
});
