/**
 * FileTxLog: group commit (fsyncs counted), acknowledgement only after fsync (a power-loss
 * simulation at every byte of the unsynced writes, and flipped bytes), rotation and deletion of
 * settled segments, compaction, repair at open, failing writes, the bounded queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../../src/common/bytes.js';
import { sha256 } from '../../../src/chain/sha256.js';
import { TxLogError } from '../../../src/chain/tx-log.js';
import { FileTxLog, type FileTxLogOptions, type TxLogOpenReport } from '../../../src/storage/tx-log.js';
import { RECORD_HEADER_BYTES, scanSegment, SEGMENT_HEADER_BYTES } from '../../../src/storage/tx-log-format.js';
import { MemLogFs } from './mem-log-fs.js';

const DIR = '/data/txlog';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function tx(n: number, size = 60): { id: Uint8Array; idHex: string; bytes: Uint8Array } {
  const bytes = new TextEncoder().encode(`{"tx":${n},"pad":"${'x'.repeat(Math.max(0, size - 20))}"}`);
  const id = sha256(bytes);
  return { id, idHex: toHex(id), bytes };
}

async function openMem(fs: MemLogFs, opts: Partial<FileTxLogOptions> = {}): Promise<{ log: FileTxLog; report: TxLogOpenReport }> {
  return FileTxLog.open({ dir: DIR, maxPayloadBytes: 1 << 20, ...opts }, { logger: quiet, fs });
}

async function replayed(log: FileTxLog): Promise<string[]> {
  const out: string[] = [];
  for await (const r of log.replay()) out.push(r.key);
  return out;
}

const segs = (fs: MemLogFs): string[] => fs.names(DIR).filter((n) => n.endsWith('.seg')).sort();

describe('tx log: group commit', () => {
  it('many concurrent appends share fsyncs, one fsync at a time, and each resolves after the fsync holding it', async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs);
    fs.syncDelayMs = 3;
    const before = fs.datasyncs;
    let synced = 0;
    fs.onSynced = (_p, length) => (synced = length);
    const txs = Array.from({ length: 300 }, (_, i) => tx(i));
    const ackedAt: number[] = [];
    await Promise.all(
      txs.map((t, i) =>
        log.appendTx(t.id, t.bytes).then(() => {
          ackedAt[i] = synced;
        }),
      ),
    );
    const fsyncs = fs.datasyncs - before;
    expect(fsyncs).toBeGreaterThanOrEqual(2);
    expect(fsyncs).toBeLessThanOrEqual(10); // 300 appends: the first alone, the rest queued behind it
    expect(fs.maxSyncsRunning).toBe(1);
    expect(log.stats()).toMatchObject({ appends: 300, liveRecords: 300 });
    // Every append resolved once the durable length covered its record.
    let end = SEGMENT_HEADER_BYTES;
    txs.forEach((t, i) => {
      end += RECORD_HEADER_BYTES + t.bytes.length;
      expect(ackedAt[i], `append ${i}`).toBeGreaterThanOrEqual(end);
    });
    await log.close();
  });

  it('appends one after another get one fsync each (nothing waits for company)', async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs);
    const before = fs.datasyncs;
    for (let i = 0; i < 5; i++) await log.appendTx(tx(i).id, tx(i).bytes);
    expect(fs.datasyncs - before).toBe(5);
    await log.close();
  });

  it('the queue is bounded: beyond maxQueueBytes an append is refused TX_LOG_BUSY (retry after 1 s) and nothing is lost', async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs, { maxQueueBytes: 1000 });
    fs.syncDelayMs = 20;
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => log.appendTx(tx(i).id, tx(i).bytes)));
    const busy = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as TxLogError);
    expect(busy.length).toBeGreaterThan(0);
    for (const e of busy) expect([e.code, e.retryAfterSeconds]).toEqual(['TX_LOG_BUSY', 1]);
    const ok = results.flatMap((r, i) => (r.status === 'fulfilled' ? [tx(i).idHex] : []));
    await log.close();
    const again = await openMem(fs);
    expect(await replayed(again.log)).toEqual(ok);
  });
});

describe('tx log: power loss', () => {
  /**
   * Write records through the log, noting after each fsync the durable length and which
   * appends had resolved (acknowledged) by then. A power loss between fsync k and k+1 leaves the
   * durable bytes of fsync k plus any prefix of the next write, or zeros instead of it: try
   * every byte. After each, open + replay must return every acknowledged tx.
   */
  it('a crash at every byte of every unsynced write loses no acknowledged tx; a torn tail is reported and cut', { timeout: 120_000 }, async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs);
    fs.syncDelayMs = 1;
    const [segName] = segs(fs);
    const path = `${DIR}/${segName}`;
    const acked = new Set<string>();
    const points: { length: number; acked: string[] }[] = [{ length: SEGMENT_HEADER_BYTES, acked: [] }];
    fs.onSynced = (p, length) => {
      if (p === path) points.push({ length, acked: [] });
    };
    const txs = Array.from({ length: 40 }, (_, i) => tx(i, 20 + ((i * 37) % 90)));
    // Bursts of concurrent appends, so fsyncs cover one record or many.
    for (let i = 0; i < txs.length; ) {
      const burst = txs.slice(i, i + 1 + (i % 7));
      i += burst.length;
      await Promise.all(
        burst.map((t) =>
          log.appendTx(t.id, t.bytes).then(() => {
            acked.add(t.idHex);
            (points[points.length - 1] as { acked: string[] }).acked.push(t.idHex);
          }),
        ),
      );
    }
    const final = fs.files.get(path) as Uint8Array;
    await log.close();
    let crashes = 0;
    let torn = 0;
    const ackedBy: string[] = [];
    for (let k = 0; k < points.length; k++) {
      const p = points[k] as { length: number; acked: string[] };
      ackedBy.push(...p.acked);
      const next = points[k + 1]?.length ?? p.length;
      for (let len = p.length; len <= next; len++) {
        for (const zeros of [false, true]) {
          if (zeros && len === next) continue;
          const image = new Uint8Array(zeros ? next : len);
          image.set(final.subarray(0, len));
          const crashed = new MemLogFs();
          crashed.load(new Map([[path, image]]));
          const { log: reopened, report } = await openMem(crashed);
          const got = new Set(await replayed(reopened));
          for (const id of ackedBy) expect(got.has(id), `crash at ${len} (zeros ${zeros}): acknowledged ${id} lost`).toBe(true);
          // Nothing is ever invented: every replayed tx was written.
          for (const id of got) expect(txs.some((t) => t.idHex === id)).toBe(true);
          if (image.length > len || report.tornTails.length > 0) {
            torn++;
            expect(report.tornTails.map((t) => [t.segment, t.offset])).toEqual([[segName, expect.any(Number)]]);
            // Cut: the file now ends at the last good record (or, holding none, is gone).
            const cut = crashed.files.get(path);
            if (cut === undefined) expect(got.size).toBe(0);
            else expect(cut.length).toBe(report.tornTails[0]?.offset);
          }
          expect(report.damaged).toEqual([]);
          await reopened.close();
          crashes++;
        }
      }
    }
    expect(ackedBy).toHaveLength(txs.length);
    expect(crashes).toBeGreaterThan(final.length);
    expect(torn).toBeGreaterThan(0);
  });

  it('a flipped byte anywhere is reported (damage moved aside with its reason, or a tail cut), and every other record replays', { timeout: 60_000 }, async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs);
    const txs = Array.from({ length: 6 }, (_, i) => tx(i, 30 + i * 10));
    for (const t of txs) await log.appendTx(t.id, t.bytes);
    await log.close();
    const [segName] = segs(fs);
    const path = `${DIR}/${segName}`;
    const image = fs.files.get(path) as Uint8Array;
    const starts: number[] = [];
    let at = SEGMENT_HEADER_BYTES;
    for (const t of txs) {
      starts.push(at);
      at += RECORD_HEADER_BYTES + t.bytes.length;
    }
    for (let i = 0; i < image.length; i++) {
      const bad = image.slice();
      bad[i] = (bad[i] as number) ^ 0x40;
      const crashed = new MemLogFs();
      crashed.load(new Map([[path, bad]]));
      const { log: reopened, report } = await openMem(crashed);
      const got = await replayed(reopened);
      if (i < SEGMENT_HEADER_BYTES) {
        // The segment header: the whole file is moved aside, named and explained.
        expect(report.damaged).toEqual([{ segment: segName, offset: 0, bytes: image.length, reason: expect.stringMatching(/^segment header/), movedTo: `${segName}.bad` }]);
        expect(crashed.files.get(`${DIR}/${segName}.bad`)).toEqual(bad);
        expect(new TextDecoder().decode(crashed.files.get(`${DIR}/${segName}.bad.txt`))).toMatch(/segment header/);
        expect(got).toEqual([]);
      } else {
        const hit = starts.findLastIndex((s) => s <= i);
        expect(got, `flip at ${i}`).toEqual(txs.filter((_, k) => k !== hit).map((t) => t.idHex));
        if (hit === txs.length - 1) {
          expect(report.tornTails).toEqual([{ segment: segName, offset: starts[hit], bytes: image.length - (starts[hit] as number), reason: expect.any(String) }]);
        } else {
          const d = report.damaged[0];
          expect(report.damaged).toHaveLength(1);
          expect(d).toMatchObject({ segment: segName, offset: starts[hit], bytes: (starts[hit + 1] as number) - (starts[hit] as number) });
          expect(crashed.files.get(`${DIR}/${d?.movedTo}`)).toEqual(bad.subarray(starts[hit], starts[hit + 1]));
          expect(new TextDecoder().decode(crashed.files.get(`${DIR}/${d?.movedTo}.txt`))).toContain(d?.reason);
        }
      }
      await reopened.close();
      // Opening again finds nothing more to report: the repair was written.
      const third = await openMem(crashed);
      expect([third.report.damaged, third.report.tornTails]).toEqual([[], []]);
      await third.log.close();
    }
  });
});

describe('tx log: segments', () => {
  it('rotates before a segment passes segmentBytes; a closed segment is deleted once all its records are settled, the active one never', async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs, { segmentBytes: 4096 });
    const txs = Array.from({ length: 60 }, (_, i) => tx(i, 200));
    for (const t of txs) await log.appendTx(t.id, t.bytes);
    const names = segs(fs);
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const n of names) expect((fs.files.get(`${DIR}/${n}`) as Uint8Array).length).toBeLessThanOrEqual(4096);
    // Settle all but the last tx: every closed segment goes; the active stays.
    await log.settle(txs.slice(0, -1).map((t) => t.idHex));
    expect(segs(fs)).toEqual([names[names.length - 1]]);
    expect([...log.liveTxIds()]).toEqual([txs[txs.length - 1]?.idHex]);
    // A partly settled closed segment stays.
    const more = Array.from({ length: 30 }, (_, i) => tx(100 + i, 200));
    for (const t of more) await log.appendTx(t.id, t.bytes);
    await log.settle(more.slice(1).map((t) => t.idHex));
    const left = segs(fs);
    expect(left.length).toBe(2); // the segment holding txs[59] and more[0], and the active one
    await log.close();
    // Replay at the next open: the live records, and the settled ones of the segments still there
    // (settling is not written down: admission refuses those again), none of the deleted ones.
    const inActiveThen = scanSegment(fs.files.get(`${DIR}/${names[names.length - 1]}`) as Uint8Array, 1 << 20).records.map((r) => toHex(r.key));
    const kept = new Set([...inActiveThen, ...more.map((t) => t.idHex)]);
    expect(kept.has(txs[0]?.idHex as string)).toBe(false);
    const again = await openMem(fs, { segmentBytes: 4096 });
    const got = await replayed(again.log);
    expect(got).toEqual(expect.arrayContaining([txs[txs.length - 1]?.idHex, more[0]?.idHex]));
    for (const id of got) expect(kept.has(id), id).toBe(true);
    await again.log.close();
  });

  it('compacts the oldest segment once compactAfterSegments were started after it: its live records are appended again, then it is deleted', async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs, { segmentBytes: 4096, compactAfterSegments: 2 });
    const stuck = tx(999, 200);
    await log.appendTx(stuck.id, stuck.bytes);
    const oldest = segs(fs)[0];
    const txs = Array.from({ length: 60 }, (_, i) => tx(i, 200));
    for (const t of txs) {
      await log.appendTx(t.id, t.bytes);
      await log.settle([t.idHex]);
    }
    expect(segs(fs)).not.toContain(oldest);
    expect([...log.liveTxIds()]).toEqual([stuck.idHex]);
    expect(await log.readTx(stuck.idHex)).toEqual(stuck.bytes);
    await log.close();
    const again = await openMem(fs);
    // The stuck tx, and settled records of the active segment (not written down as settled).
    expect(await replayed(again.log)).toContain(stuck.idHex);
    await again.log.close();
  });

  it('each open starts a new segment; an empty one left by the last run is removed, a torn one reported', async () => {
    const fs = new MemLogFs();
    const first = await openMem(fs);
    await first.log.close();
    const second = await openMem(fs);
    expect(second.report).toMatchObject({ segments: 1, records: 0 });
    expect(segs(fs)).toHaveLength(1);
    await second.log.close();
    // A segment file created but torn before its header was durable.
    fs.files.set(`${DIR}/${String(99).padStart(16, '0')}.seg`, Uint8Array.from([0x54, 0x43]));
    const third = await openMem(fs);
    expect(third.report.removed).toEqual([{ segment: `${String(99).padStart(16, '0')}.seg`, offset: 0, bytes: 2, reason: expect.stringMatching(/torn/) }]);
    expect(segs(fs)).toEqual([`${String(100).padStart(16, '0')}.seg`]);
    await third.log.close();
  });
});

describe('tx log: failing writes', () => {
  for (const op of ['write', 'datasync'] as const) {
    it(`a failed ${op} refuses that append and the next ones (TX_LOG_UNWRITABLE) until recover(); acknowledged records survive`, async () => {
      const fs = new MemLogFs();
      const { log } = await openMem(fs);
      const failures: string[] = [];
      log.onWriteFailure((e) => failures.push(e.message));
      const a = tx(1);
      await log.appendTx(a.id, a.bytes);
      const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      fs.failNext(op, enospc);
      const b = tx(2);
      const err = await log.appendTx(b.id, b.bytes).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TxLogError);
      expect([(err as TxLogError).code, (err as TxLogError).retryAfterSeconds]).toEqual(['TX_LOG_UNWRITABLE', 30]);
      expect((err as TxLogError).message).toMatch(/ENOSPC/);
      expect(failures).toHaveLength(1);
      expect(log.writable).toBe(false);
      expect(log.writeBlockedReason).toMatch(/ENOSPC/);
      const c = tx(3);
      await expect(log.appendTx(c.id, c.bytes)).rejects.toMatchObject({ code: 'TX_LOG_UNWRITABLE' });
      await log.recover();
      expect(log.writable).toBe(true);
      await log.appendTx(c.id, c.bytes);
      // The unacknowledged bytes were cut from the failed segment; the next open finds no damage.
      await log.close();
      const again = await openMem(fs);
      expect([again.report.damaged, again.report.tornTails]).toEqual([[], []]);
      const got = await replayed(again.log);
      expect(got).toContain(a.idHex);
      expect(got).toContain(c.idHex);
      await again.log.close();
    });
  }

  it('recover() keeps failing while the disk does, and stays unwritable', async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs);
    fs.failNext('write', new Error('EIO: i/o error, write'));
    await expect(log.appendTx(tx(1).id, tx(1).bytes)).rejects.toMatchObject({ code: 'TX_LOG_UNWRITABLE' });
    fs.failNext('create', new Error('ENOSPC: no space left on device, open'));
    await expect(log.recover()).rejects.toThrow(/ENOSPC/);
    expect(log.writable).toBe(false);
    await log.recover();
    expect(log.writable).toBe(true);
    await log.close();
  });

  it('suspended writes (the write guard, low disk space) are refused with the reason; resumed, they work', async () => {
    const fs = new MemLogFs();
    const { log } = await openMem(fs);
    log.suspendWrites('disk space low: 3.0 MiB free');
    await expect(log.appendTx(tx(1).id, tx(1).bytes)).rejects.toMatchObject({ code: 'TX_LOG_UNWRITABLE', message: expect.stringMatching(/disk space low/) });
    log.resumeWrites();
    await log.appendTx(tx(1).id, tx(1).bytes);
    await log.close();
    await expect(log.appendTx(tx(2).id, tx(2).bytes)).rejects.toMatchObject({ code: 'TX_LOG_CLOSED' });
  });
});

describe('tx log on the real file system', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('appends, reopens, replays; mid-log damage is moved aside to a .bad file with its reason, a torn tail cut', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracechain-txlog-'));
    const logDir = join(dir, 'txlog');
    const { log } = await FileTxLog.open({ dir: logDir, maxPayloadBytes: 1 << 20 }, { logger: quiet });
    const txs = Array.from({ length: 5 }, (_, i) => tx(i));
    await Promise.all(txs.map((t) => log.appendTx(t.id, t.bytes)));
    await log.close();
    const [seg] = (await readdir(logDir)).filter((n) => n.endsWith('.seg'));
    const path = join(logDir, seg as string);
    const bytes = await readFile(path);
    const second = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + (txs[0]?.bytes.length as number);
    bytes.writeUInt8((bytes[second + RECORD_HEADER_BYTES + 3] as number) ^ 0xff, second + RECORD_HEADER_BYTES + 3);
    await writeFile(path, Buffer.concat([bytes, Buffer.from([0xc7, 0x1a, 0x5e])]));
    const { log: reopened, report } = await FileTxLog.open({ dir: logDir, maxPayloadBytes: 1 << 20 }, { logger: quiet });
    expect(report.tornTails).toEqual([{ segment: seg, offset: bytes.length, bytes: 3, reason: expect.stringMatching(/torn/) }]);
    expect(report.damaged).toEqual([{ segment: seg, offset: second, bytes: RECORD_HEADER_BYTES + (txs[1]?.bytes.length as number), reason: 'checksum mismatch', movedTo: `${seg}.${second}.bad` }]);
    expect(await readFile(join(logDir, `${seg}.${second}.bad.txt`), 'utf8')).toMatch(/checksum mismatch/);
    expect(await replayed(reopened)).toEqual(txs.filter((_, i) => i !== 1).map((t) => t.idHex));
    await reopened.close();
  });
});
