/**
 * storage/audit-log.ts: appends in order with a seq continued across reopenings, rotation at the
 * size limit keeping maxFiles rotated files, reads filtered by token/since/after and paged, a
 * torn last line skipped, a full queue refused.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileAuditLog } from '../../../src/storage/audit-log.js';

let dir: string;
const entry = (i: number, token: string | null) => ({ time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), token, method: 'POST', route: '/capture', status: 202, txId: `tx${i}` });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracechain-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audit log', () => {
  it('appends, rotates, keeps maxFiles, continues seq after a reopen, reads filtered and paged', async () => {
    const opts = { dir, maxFileBytes: 2_000, maxFiles: 3, maxQueue: 1_000, syncMs: 10 };
    let log = await FileAuditLog.open(opts);
    for (let i = 0; i < 80; i++) await log.append(entry(i, i % 2 === 0 ? 'pharmacy' : 'warehouse'));
    await log.close();
    const files = (await readdir(dir)).sort();
    expect(files).toContain('audit.log');
    expect(files.filter((f) => /^audit\.[0-9]+\.log$/.test(f)).length).toBe(3);

    log = await FileAuditLog.open(opts);
    await log.append(entry(80, 'pharmacy'));
    await appendFile(join(dir, 'audit.log'), '{"seq":99,"time":"2026-01-01T00:0'); // torn line of a killed process
    const all = await log.read({ limit: 10_000 });
    const seqs = all.entries.map((e) => e.seq);
    expect(seqs.at(-1)).toBe(81);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(all.next).toBeNull();
    // Oldest rotated files were deleted: what remains is a contiguous tail ending at 81.
    expect(seqs.length).toBeLessThan(81);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 81 - seqs.length + 1 + i));

    const pharmacy = await log.read({ token: 'pharmacy', limit: 10_000 });
    expect(pharmacy.entries.every((e) => e.token === 'pharmacy')).toBe(true);
    expect(pharmacy.entries.at(-1)?.txId).toBe('tx80');

    const since = await log.read({ since: Date.UTC(2026, 0, 1) + 78_000, limit: 10_000 });
    expect(since.entries.map((e) => e.txId)).toEqual(['tx78', 'tx79', 'tx80']);

    const first = await log.read({ limit: 2 });
    expect(first.entries).toHaveLength(2);
    expect(first.next).toBe(first.entries[1]?.seq);
    const second = await log.read({ after: first.next as number, limit: 2 });
    expect(second.entries[0]?.seq).toBe((first.next as number) + 1);
    await log.close();
  });

  it('refuses appends beyond its queue bound and after close', async () => {
    const log = await FileAuditLog.open({ dir, maxFileBytes: 1 << 20, maxFiles: 2, maxQueue: 2, syncMs: 10 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => log.append(entry(i, 'x'))));
    expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
    await log.close();
    await expect(log.append(entry(9, 'x'))).rejects.toThrow(/closed/);
  });
});
