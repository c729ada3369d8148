/**
 * FileTxLog: the tx log (chain/tx-log.ts) as append-only segment files under DATA/txlog, in
 * the layout of storage/tx-log-format.ts.
 *
 * - Group commit: an append is queued; one flush at a time writes every queued record with one
 *   write and one fdatasync, and resolves them all; appends arriving meanwhile share the next
 *   flush. The queue is bounded (bytes): beyond it an append is refused (TX_LOG_BUSY).
 * - Segments: a new segment is started at each open and when the current one would pass
 *   `segmentBytes` (or holds only settled records and at least 1 MiB); creating a segment
 *   fsyncs it and the directory. A closed segment is deleted (and the directory fsynced) once
 *   every record in it is settled; the oldest is compacted (its live records appended again,
 *   then deleted) once `compactAfterSegments` segments were started after it, so a few stuck records never
 *   pin old segments.
 * - Failures: a failed write, fsync or segment creation fails the records of that flush and
 *   every queued one, and refuses appends (TX_LOG_UNWRITABLE) until recover() has cut the
 *   unacknowledged bytes and started a new segment (after a failed fsync, the kernel may have
 *   dropped the dirty pages: the file is never written again). suspendWrites() refuses appends
 *   too (the write guard, on low disk space).
 * - Open: each segment is scanned; damage in the middle is moved aside to `<segment>.<offset>.bad`
 *   with its reason in `….bad.txt`, and the segment rewritten without it (temp file, fsync,
 *   rename, directory fsync); a torn tail of the last segment (a write the crash interrupted,
 *   never acknowledged) is cut; damage at the end of an older segment is moved aside like
 *   damage in the middle. Everything is reported.
 */
import { dirname, join } from 'node:path';
import { toHex } from '../common/bytes.js';
import { TxLogError, type TxLog, type TxLogStats } from '../chain/tx-log.js';
import { StorageWriteError } from './errors.js';
import { nodeLogFs, type LogFile, type LogFs } from './log-fs.js';
import {
  decodeSegmentHeader,
  encodeRecordHeader,
  encodeSegmentHeader,
  RECORD_KIND,
  recordAt,
  scanSegment,
  SEGMENT_HEADER_BYTES,
  type DamagedRange,
  type RecordKind,
} from './tx-log-format.js';
import type { GuardedStore } from './write-guard.js';

export interface FileTxLogOptions {
  /** The log's directory (by convention `<dataDir>/txlog`). */
  dir: string;
  /** Largest payload a record may carry (the consortium's maxTxBytes). */
  maxPayloadBytes: number;
  /** Start a new segment before one passes this size (default 16 MiB). */
  segmentBytes?: number;
  /** Bytes of appends waiting for the disk before more are refused (default 64 MiB). */
  maxQueueBytes?: number;
  /** Compact the oldest segment still holding live records once this many segments were started after it (default 16). */
  compactAfterSegments?: number;
}

export interface TxLogLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface FileTxLogModules {
  logger: TxLogLogger;
  /** File operations (default: node:fs); tests inject failures and count fsyncs here. */
  fs?: LogFs;
}

export interface TxLogDamage {
  segment: string;
  offset: number;
  bytes: number;
  reason: string;
  /** Where the bytes were moved (damage), absent for a cut torn tail or a removed empty file. */
  movedTo?: string;
}

export interface TxLogOpenReport {
  /** Segment files found. */
  segments: number;
  /** Good records found in them. */
  records: number;
  /** Torn tails cut off the last segment (writes a crash interrupted; never acknowledged). */
  tornTails: TxLogDamage[];
  /** Damaged bytes moved aside, each with its reason. */
  damaged: TxLogDamage[];
  /** Segment files removed because they held nothing (created as the node stopped). */
  removed: TxLogDamage[];
}

export interface LogRecord {
  kind: RecordKind;
  /** The record's key as hex (kind tx: the tx ID). */
  key: string;
  payload: Uint8Array;
}

const MIB = 1024 * 1024;
/** A segment holding only settled records is replaced (and deleted) once it is at least this big. */
const ROTATE_SETTLED_BYTES = MIB;
const SEGMENT_NAME = /^([0-9]{16})\.seg$/;

function segmentName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.seg`;
}

interface RecordLoc {
  offset: number;
  length: number;
  kind: RecordKind;
}

class Segment {
  /** Bytes known to be on stable storage (header included). */
  size: number;
  readonly live = new Map<string, RecordLoc>();
  liveBytes = 0;
  records = 0;
  file: LogFile | undefined;
  constructor(
    readonly seq: number,
    readonly path: string,
    size: number,
  ) {
    this.size = size;
  }

  get name(): string {
    return segmentName(this.seq);
  }
}

interface Queued {
  kind: RecordKind;
  key: string;
  header: Uint8Array;
  payload: Uint8Array;
  size: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class FileTxLog implements TxLog, GuardedStore {
  readonly dir: string;
  private readonly fs: LogFs;
  private readonly log: TxLogLogger;
  private readonly maxPayload: number;
  private readonly segmentBytes: number;
  private readonly maxQueueBytes: number;
  private readonly compactAfter: number;
  /** Oldest first; the last is the active one. */
  private readonly segments: Segment[] = [];
  private active!: Segment;
  private nextSeq = 1;
  /** Record key → the segments holding a live record of it (one, but for a compaction in progress). */
  private readonly owners = new Map<string, Segment[]>();
  private queue: Queued[] = [];
  private queuedBytes = 0;
  /** The flush loop (the latest one started); `flushRunning` while it has not returned. */
  private flushing: Promise<void> | undefined;
  private flushRunning = false;
  private maintenance: Promise<void> = Promise.resolve();
  private failure: StorageWriteError | undefined;
  private suspended: string | undefined;
  private closed = false;
  private readonly failureListeners = new Set<(err: StorageWriteError) => void>();
  private appends = 0;
  private fsyncs = 0;

  private constructor(opts: FileTxLogOptions, modules: FileTxLogModules) {
    this.dir = opts.dir;
    this.fs = modules.fs ?? nodeLogFs;
    this.log = modules.logger;
    this.maxPayload = opts.maxPayloadBytes;
    this.segmentBytes = opts.segmentBytes ?? 16 * MIB;
    this.maxQueueBytes = opts.maxQueueBytes ?? 64 * MIB;
    this.compactAfter = opts.compactAfterSegments ?? 16;
    if (!Number.isSafeInteger(this.maxPayload) || this.maxPayload < 1) throw new RangeError('maxPayloadBytes must be a positive integer');
    if (!Number.isSafeInteger(this.segmentBytes) || this.segmentBytes < 4096) throw new RangeError('segmentBytes must be an integer ≥ 4096');
    if (!Number.isSafeInteger(this.maxQueueBytes) || this.maxQueueBytes < 1) throw new RangeError('maxQueueBytes must be a positive integer');
    if (!Number.isSafeInteger(this.compactAfter) || this.compactAfter < 1) throw new RangeError('compactAfterSegments must be a positive integer');
  }

  /** Open (creating) the log: scan, repair and report what is there, then start a new segment. */
  static async open(opts: FileTxLogOptions, modules: FileTxLogModules): Promise<{ log: FileTxLog; report: TxLogOpenReport }> {
    const log = new FileTxLog(opts, modules);
    const report = await log.load();
    return { log, report };
  }

  // ------------------------------------------------------------------------------------------
  // Appending (group commit)
  // ------------------------------------------------------------------------------------------

  appendTx(id: Uint8Array, bytes: Uint8Array): Promise<void> {
    return this.append(RECORD_KIND.tx, id, bytes);
  }

  /** Append a record of any kind; resolves once the write holding it is fsynced. Throws TxLogError. */
  append(kind: RecordKind, key: Uint8Array, payload: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TxLogError('TX_LOG_CLOSED', 'the tx log is closed: the node is stopping', 5));
    const blocked = this.writeBlockedReason;
    if (blocked !== undefined) return Promise.reject(new TxLogError('TX_LOG_UNWRITABLE', `the tx log refuses writes: ${blocked}`, 30));
    if (payload.length > this.maxPayload) throw new RangeError(`a record payload is at most ${this.maxPayload} bytes, not ${payload.length}`);
    const header = encodeRecordHeader(kind, key, payload);
    const size = header.length + payload.length;
    if (this.queuedBytes + size > this.maxQueueBytes) {
      return Promise.reject(new TxLogError('TX_LOG_BUSY', `the tx log has ${this.queuedBytes} bytes waiting for the disk (limit ${this.maxQueueBytes}); retry shortly`, 1));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind, key: toHex(key), header, payload, size, resolve, reject });
      this.queuedBytes += size;
      if (!this.flushRunning) {
        this.flushRunning = true;
        this.flushing = this.flushLoop();
      }
    });
  }

  /** Write and fsync queued records, one batch at a time, until none are left (or a write fails). */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flushBatch();
    } finally {
      // Reached in the same microtask as the loop's last look at the queue (no await between):
      // an append after this starts a new loop, none is left waiting.
      this.flushRunning = false;
    }
  }

  /** Write and fsync every record queued now, then resolve (or reject) them all. */
  private async flushBatch(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    let bytes = 0;
    for (const q of batch) bytes += q.size;
    if (this.failure !== undefined) {
      this.queuedBytes -= bytes;
      const err = new TxLogError('TX_LOG_UNWRITABLE', `the tx log refuses writes: ${this.failure.message}`, 30);
      for (const q of batch) q.reject(err);
      return;
    }
    try {
      await this.rotateIfDue(bytes);
      const seg = this.active;
      const file = seg.file as LogFile;
      const buf = new Uint8Array(bytes);
      let at = 0;
      for (const q of batch) {
        buf.set(q.header, at);
        buf.set(q.payload, at + q.header.length);
        at += q.size;
      }
      await file.write(buf, seg.size);
      await file.datasync();
      this.fsyncs++;
      let offset = seg.size;
      for (const q of batch) {
        this.index(seg, q.key, { offset, length: q.size, kind: q.kind });
        offset += q.size;
      }
      seg.size = offset;
      this.appends += batch.length;
      this.queuedBytes -= bytes;
      for (const q of batch) q.resolve();
    } catch (cause) {
      this.queuedBytes -= bytes;
      this.fail(cause);
      const err = new TxLogError('TX_LOG_UNWRITABLE', `the tx log write failed: ${describe(cause)}`, 30, { cause });
      for (const q of batch) q.reject(err);
    }
  }

  private fail(cause: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = new StorageWriteError('tx log append', cause);
    this.log.error({ err: this.failure.message, dir: this.dir }, 'tx log write failed: refusing appends until it recovers');
    for (const l of this.failureListeners) l(this.failure);
  }

  private index(seg: Segment, key: string, loc: RecordLoc): void {
    const before = seg.live.get(key);
    if (before) seg.liveBytes -= before.length;
    seg.live.set(key, loc);
    seg.liveBytes += loc.length;
    seg.records++;
    const owners = this.owners.get(key);
    if (owners === undefined) this.owners.set(key, [seg]);
    else if (!owners.includes(seg)) owners.push(seg);
  }

  private async rotateIfDue(incoming: number): Promise<void> {
    const a = this.active;
    const full = a.records > 0 && a.size + incoming > this.segmentBytes;
    const settled = a.records > 0 && a.live.size === 0 && a.size >= ROTATE_SETTLED_BYTES;
    if (!full && !settled) return;
    const next = await this.createSegment();
    const old = this.active;
    this.active = next;
    this.segments.push(next);
    try {
      await old.file?.close();
    } catch (err) {
      this.log.warn({ err: describe(err), segment: old.name }, 'closing a full tx log segment failed (its records were fsynced)');
    }
    old.file = undefined;
    void this.scheduleMaintenance();
  }

  private async createSegment(): Promise<Segment> {
    const seq = this.nextSeq++;
    const path = join(this.dir, segmentName(seq));
    const file = await this.fs.create(path);
    try {
      await file.write(encodeSegmentHeader(seq), 0);
      await file.datasync();
      await this.fs.syncDir(this.dir);
    } catch (err) {
      await file.close().catch(() => undefined);
      await this.fs.unlink(path).catch(() => undefined);
      throw err;
    }
    const seg = new Segment(seq, path, SEGMENT_HEADER_BYTES);
    seg.file = file;
    return seg;
  }

  // ------------------------------------------------------------------------------------------
  // Settling, deleting, compacting
  // ------------------------------------------------------------------------------------------

  *liveTxIds(): Iterable<string> {
    for (const [key, segs] of this.owners) {
      if (segs[0]?.live.get(key)?.kind === RECORD_KIND.tx) yield key;
    }
  }

  async readTx(idHex: string): Promise<Uint8Array | undefined> {
    const seg = this.owners.get(idHex)?.[0];
    const loc = seg?.live.get(idHex);
    if (seg === undefined || loc === undefined || loc.kind !== RECORD_KIND.tx) return undefined;
    const bytes = await this.fs.readRange(seg.path, loc.offset, loc.length);
    const r = recordAt(bytes, 0, this.maxPayload);
    if (!r.ok) throw new Error(`tx log record of ${idHex} in ${seg.name} at ${loc.offset} no longer reads back: ${r.reason}`);
    return r.record.payload;
  }

  settle(idHexes: readonly string[]): Promise<void> {
    let emptied = false;
    for (const id of idHexes) {
      const segs = this.owners.get(id);
      if (segs === undefined) continue;
      this.owners.delete(id);
      for (const seg of segs) {
        const loc = seg.live.get(id);
        if (loc === undefined) continue;
        seg.live.delete(id);
        seg.liveBytes -= loc.length;
        if (seg.live.size === 0 && seg !== this.active) emptied = true;
      }
    }
    return emptied ? this.scheduleMaintenance() : this.maintenance;
  }

  private scheduleMaintenance(): Promise<void> {
    this.maintenance = this.maintenance.then(() =>
      this.maintain().catch((err: unknown) => {
        this.log.warn({ err: describe(err), dir: this.dir }, 'tx log maintenance failed; will retry');
      }),
    );
    return this.maintenance;
  }

  /** Delete closed segments without live records, then compact the oldest if it is due. */
  private async maintain(): Promise<void> {
    let deleted = 0;
    for (const seg of [...this.segments]) {
      if (seg === this.active || seg.live.size > 0 || seg.file !== undefined) continue;
      await this.fs.unlink(seg.path);
      this.segments.splice(this.segments.indexOf(seg), 1);
      deleted++;
    }
    if (deleted > 0) await this.fs.syncDir(this.dir);
    await this.compactOldest();
  }

  private async compactOldest(): Promise<void> {
    const oldest = this.segments[0];
    if (oldest === undefined || oldest === this.active || oldest.live.size === 0) return;
    // Its age in segments written since (not segments still there: settled ones are gone).
    if (this.active.seq - oldest.seq < this.compactAfter || this.closed || this.writeBlockedReason !== undefined) return;
    const bytes = await this.fs.readFile(oldest.path);
    const copies: Promise<string>[] = [];
    for (const [key, loc] of oldest.live) {
      const r = recordAt(bytes, loc.offset, this.maxPayload);
      if (!r.ok) {
        this.log.error({ segment: oldest.name, offset: loc.offset, reason: r.reason }, 'tx log record no longer reads back; segment kept as it is');
        return;
      }
      copies.push(this.append(loc.kind, r.record.key.slice(), r.record.payload.slice()).then(() => key));
    }
    const results = await Promise.allSettled(copies);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.log.warn({ segment: oldest.name, err: describe(failed.reason) }, 'tx log compaction stopped: the copies were not all written; segment kept');
      return;
    }
    const moved = oldest.live.size;
    for (const key of oldest.live.keys()) {
      const segs = this.owners.get(key);
      if (segs === undefined) continue;
      const rest = segs.filter((s) => s !== oldest);
      if (rest.length > 0) this.owners.set(key, rest);
      else this.owners.delete(key);
    }
    oldest.live.clear();
    oldest.liveBytes = 0;
    await this.fs.unlink(oldest.path);
    this.segments.splice(this.segments.indexOf(oldest), 1);
    await this.fs.syncDir(this.dir);
    this.log.info({ segment: oldest.name, records: moved }, 'tx log segment compacted: its live records were appended again');
  }

  // ------------------------------------------------------------------------------------------
  // Replay
  // ------------------------------------------------------------------------------------------

  /** The live records found at open, in log order, each key once. */
  async *replay(): AsyncGenerator<LogRecord> {
    const seen = new Set<string>();
    for (const seg of this.segments.filter((s) => s !== this.active)) {
      if (seg.live.size === 0) continue;
      let bytes: Uint8Array;
      try {
        bytes = await this.fs.readFile(seg.path);
      } catch (err) {
        // Deleted meanwhile because everything in it was settled: nothing left to replay.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && seg.live.size === 0) continue;
        throw err;
      }
      for (const [key, loc] of [...seg.live]) {
        if (seen.has(key)) continue;
        seen.add(key);
        const r = recordAt(bytes, loc.offset, this.maxPayload);
        if (!r.ok) throw new Error(`tx log record in ${seg.name} at ${loc.offset} no longer reads back: ${r.reason}`);
        yield { kind: loc.kind, key, payload: r.record.payload };
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Write guard (GuardedStore) and lifecycle
  // ------------------------------------------------------------------------------------------

  get writable(): boolean {
    return this.writeBlockedReason === undefined;
  }

  get writeBlockedReason(): string | undefined {
    return this.suspended ?? (this.failure !== undefined ? this.failure.message : undefined);
  }

  get writeFailure(): StorageWriteError | undefined {
    return this.failure;
  }

  onWriteFailure(listener: (err: StorageWriteError) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  suspendWrites(reason: string): void {
    this.suspended = reason;
  }

  resumeWrites(): void {
    this.suspended = undefined;
  }

  /**
   * After a failed write: cut the bytes no fsync vouched for off the segment, close it for good
   * and start a new one. Throws (and stays failed) while that is not possible.
   */
  async recover(): Promise<void> {
    if (this.failure === undefined || this.closed) return;
    await this.flushing;
    const old = this.active;
    if (old.file !== undefined) {
      try {
        await old.file.truncate(old.size);
        await old.file.datasync();
      } catch (err) {
        // Left as it is: the next open finds the unacknowledged bytes and moves them aside.
        this.log.warn({ err: describe(err), segment: old.name }, 'could not cut the unacknowledged tail of the failed tx log segment');
      }
      await old.file.close().catch(() => undefined);
      old.file = undefined;
    }
    const next = await this.createSegment();
    this.active = next;
    this.segments.push(next);
    this.failure = undefined;
    this.log.info({ segment: next.name, dir: this.dir }, 'tx log writable again');
    void this.scheduleMaintenance();
  }

  stats(): TxLogStats {
    let bytes = 0;
    for (const s of this.segments) bytes += s.size;
    return { segments: this.segments.length, bytes, liveRecords: this.owners.size, appends: this.appends, fsyncs: this.fsyncs, queuedBytes: this.queuedBytes };
  }

  /** Refuse new appends, let queued ones finish, close the segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.maintenance;
    const file = this.active?.file;
    if (file !== undefined) {
      this.active.file = undefined;
      await file.close();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Open: scan, repair, report
  // ------------------------------------------------------------------------------------------

  private async load(): Promise<TxLogOpenReport> {
    const { fs, dir } = this;
    const report: TxLogOpenReport = { segments: 0, records: 0, tornTails: [], damaged: [], removed: [] };
    if (await fs.mkdir(dir)) await fs.syncDir(dirname(dir));
    const names = await fs.list(dir);
    // A rewrite interrupted before its rename: the original segment is intact.
    for (const n of names) if (n.endsWith('.seg.tmp')) await fs.unlink(join(dir, n));
    const segNames = names.filter((n) => SEGMENT_NAME.test(n)).sort();
    let dirChanged = false;
    for (const [i, name] of segNames.entries()) {
      const path = join(dir, name);
      const last = i === segNames.length - 1;
      const seq = Number(name.slice(0, 16));
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      report.segments++;
      const bytes = await fs.readFile(path);
      const header = decodeSegmentHeader(bytes);
      const headerProblem = !header.ok ? header.reason : header.sequence !== seq ? `header names segment ${header.sequence}` : undefined;
      if (headerProblem !== undefined) {
        if (last && bytes.length < SEGMENT_HEADER_BYTES) {
          // Created as the node stopped, before its header was durable: it holds nothing.
          await fs.unlink(path);
          report.removed.push({ segment: name, offset: 0, bytes: bytes.length, reason: headerProblem });
        } else {
          const movedTo = `${name}.bad`;
          await this.writeReason(movedTo, `${name}: the whole file (${bytes.length} bytes): segment header: ${headerProblem}`);
          await fs.rename(path, join(dir, movedTo));
          report.damaged.push({ segment: name, offset: 0, bytes: bytes.length, reason: `segment header: ${headerProblem}`, movedTo });
        }
        dirChanged = true;
        continue;
      }
      const scan = scanSegment(bytes, this.maxPayload);
      for (const d of scan.damaged) report.damaged.push(await this.moveAside(name, bytes, d));
      if (scan.tail !== undefined) {
        if (last) report.tornTails.push({ segment: name, offset: scan.tail.offset, bytes: scan.tail.length, reason: scan.tail.reason });
        else report.damaged.push(await this.moveAside(name, bytes, scan.tail));
      }
      if (scan.damaged.length > 0 || (scan.tail !== undefined && !last)) await fs.syncDir(dir); // the .bad files stay
      report.records += scan.records.length;
      if (scan.records.length === 0) {
        await fs.unlink(path);
        dirChanged = true;
        continue;
      }
      const seg = new Segment(seq, path, 0);
      if (scan.damaged.length === 0) {
        if (scan.tail !== undefined) {
          const f = await fs.openExisting(path);
          try {
            await f.truncate(scan.tail.offset);
            await f.datasync();
          } finally {
            await f.close();
          }
        }
        for (const r of scan.records) this.index(seg, toHex(r.key), { offset: r.offset, length: r.length, kind: r.kind });
        seg.size = scan.tail?.offset ?? bytes.length;
      } else {
        // Rewrite without the damaged bytes: temp file, fsync, rename over, directory fsync.
        let size = SEGMENT_HEADER_BYTES;
        for (const r of scan.records) size += r.length;
        const out = new Uint8Array(size);
        out.set(encodeSegmentHeader(seq), 0);
        let at = SEGMENT_HEADER_BYTES;
        for (const r of scan.records) {
          out.set(bytes.subarray(r.offset, r.offset + r.length), at);
          this.index(seg, toHex(r.key), { offset: at, length: r.length, kind: r.kind });
          at += r.length;
        }
        await this.writeFileDurably(`${path}.tmp`, out);
        await fs.rename(`${path}.tmp`, path);
        dirChanged = true;
        seg.size = size;
      }
      this.segments.push(seg);
    }
    if (dirChanged) await fs.syncDir(dir);
    this.active = await this.createSegment();
    this.segments.push(this.active);
    return report;
  }

  private async moveAside(segment: string, bytes: Uint8Array, d: DamagedRange): Promise<TxLogDamage> {
    const movedTo = `${segment}.${d.offset}.bad`;
    await this.writeFileDurably(join(this.dir, movedTo), bytes.subarray(d.offset, d.offset + d.length));
    await this.writeReason(movedTo, `${segment}: ${d.length} bytes at offset ${d.offset}: ${d.reason}`);
    return { segment, offset: d.offset, bytes: d.length, reason: d.reason, movedTo };
  }

  private async writeReason(badFile: string, reason: string): Promise<void> {
    await this.writeFileDurably(join(this.dir, `${badFile}.txt`), new TextEncoder().encode(reason + '\n'));
  }

  private async writeFileDurably(path: string, bytes: Uint8Array): Promise<void> {
    await this.fs.unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    const f = await this.fs.create(path);
    try {
      await f.write(bytes, 0);
      await f.datasync();
    } finally {
      await f.close();
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
