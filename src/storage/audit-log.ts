/**
 * The audit log: JSON lines appended to DIR/audit.log, rotated to DIR/audit.N.log (N = 1, 2, …,
 * oldest first) when it passes `maxFileBytes`, the oldest rotated files deleted beyond
 * `maxFiles`. Only ever appended to (O_APPEND); not the chain, and not fsynced per record: an
 * append resolves once the line is in the kernel (a killed process loses nothing; a power loss
 * may lose the last `syncMs` of records). Appends are grouped: one write per batch, bounded.
 * Every record gets a `seq` (1, 2, …, continued across restarts) to page by.
 */
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';

export interface AuditLogOptions {
  dir: string;
  maxFileBytes: number;
  /** Rotated files kept (the current one aside); older ones are deleted. */
  maxFiles: number;
  /** Records waiting for a write before appends are refused. */
  maxQueue: number;
  /** fdatasync at most this often while records arrive. */
  syncMs: number;
}

export interface AuditRecord {
  seq: number;
  time: string;
  token: string | null;
  [k: string]: unknown;
}

export interface AuditFilter {
  token?: string;
  since?: number;
  after?: number;
  limit: number;
}

interface Waiter {
  line: string;
  resolve(): void;
  reject(err: Error): void;
}

const CURRENT = 'audit.log';
const ROTATED = /^audit\.([0-9]+)\.log$/;

export class AuditLogError extends Error {}

export class FileAuditLog {
  private queue: Waiter[] = [];
  private writing = false;
  private closed = false;
  private size = 0;
  private seq = 0;
  private lastSync = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private dirty = false;

  private constructor(
    private readonly opts: AuditLogOptions,
    private fh: FileHandle,
  ) {}

  static async open(opts: AuditLogOptions): Promise<FileAuditLog> {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const fh = await open(join(opts.dir, CURRENT), 'a', 0o600);
    const log = new FileAuditLog(opts, fh);
    log.size = (await fh.stat()).size;
    log.seq = await lastSeq(opts.dir);
    return log;
  }

  /** Append one record (its seq is assigned here); resolves once it is written. */
  append(entry: Omit<AuditRecord, 'seq'>): Promise<void> {
    if (this.closed) return Promise.reject(new AuditLogError('the audit log is closed'));
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(new AuditLogError(`the audit log is behind by ${this.queue.length} records`));
    const line = JSON.stringify({ seq: ++this.seq, ...entry }) + '\n';
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const bytes = Buffer.from(batch.map((w) => w.line).join(''), 'utf8');
        if (this.size > 0 && this.size + bytes.length > this.opts.maxFileBytes) await this.rotate();
        await this.fh.write(bytes);
        this.size += bytes.length;
        this.dirty = true;
        this.scheduleSync();
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err as Error);
      }
    }
    this.writing = false;
  }

  private scheduleSync(): void {
    if (this.syncTimer !== undefined) return;
    const wait = Math.max(0, this.lastSync + this.opts.syncMs - Date.now());
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      void this.sync();
    }, wait);
    this.syncTimer.unref();
  }

  private async sync(): Promise<void> {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.lastSync = Date.now();
    await this.fh.datasync().catch(() => (this.dirty = true));
  }

  private async rotate(): Promise<void> {
    const rotated = await rotatedFiles(this.opts.dir);
    const next = (rotated.at(-1)?.n ?? 0) + 1;
    await this.fh.datasync();
    await this.fh.close();
    await rename(join(this.opts.dir, CURRENT), join(this.opts.dir, `audit.${next}.log`));
    this.fh = await open(join(this.opts.dir, CURRENT), 'a', 0o600);
    this.size = 0;
    const all = [...rotated, { n: next, name: `audit.${next}.log` }];
    for (const old of all.slice(0, Math.max(0, all.length - this.opts.maxFiles))) await rm(join(this.opts.dir, old.name), { force: true });
  }

  /** Records matching the filter, oldest first; `next` is the seq to pass as `after` when more may follow. */
  async read(f: AuditFilter): Promise<{ entries: AuditRecord[]; next: number | null }> {
    const files = [...(await rotatedFiles(this.opts.dir)).map((r) => r.name), CURRENT];
    // Skip whole files that end before the cursor: a file's records all precede the next file's first.
    const firsts = await Promise.all(files.map((name) => firstRecord(join(this.opts.dir, name))));
    const entries: AuditRecord[] = [];
    let more = false;
    for (let i = 0; i < files.length && !more; i++) {
      const nextFirst = firsts.slice(i + 1).find((r) => r !== undefined);
      if (nextFirst !== undefined && f.after !== undefined && nextFirst.seq <= f.after + 1) continue;
      if (nextFirst !== undefined && f.since !== undefined && Date.parse(nextFirst.time) < f.since) continue;
      for await (const rec of records(join(this.opts.dir, files[i] as string))) {
        if (f.after !== undefined && rec.seq <= f.after) continue;
        if (f.since !== undefined && Date.parse(rec.time) < f.since) continue;
        if (f.token !== undefined && rec.token !== f.token) continue;
        if (entries.length === f.limit) {
          more = true;
          break;
        }
        entries.push(rec);
      }
    }
    return { entries, next: more ? (entries.at(-1)?.seq ?? null) : null };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.writing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    await this.fh.datasync().catch(() => undefined);
    await this.fh.close();
  }
}

async function rotatedFiles(dir: string): Promise<{ n: number; name: string }[]> {
  return (await readdir(dir))
    .map((name) => ({ name, m: ROTATED.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ n: Number(x.m[1]), name: x.name }))
    .sort((a, b) => a.n - b.n);
}

function parse(line: string): AuditRecord | undefined {
  if (line.trim() === '') return undefined;
  try {
    const o = JSON.parse(line) as AuditRecord;
    return typeof o.seq === 'number' && typeof o.time === 'string' ? o : undefined;
  } catch {
    // A torn last line (the process died mid-write) is skipped, as is any line not a record.
    return undefined;
  }
}

async function* records(path: string): AsyncGenerator<AuditRecord> {
  // Opened first: a file rotated (renamed) after the listing is read under its old name's
  // handle, and one deleted since (past maxFiles) is skipped.
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const stream = fh.createReadStream({ encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const rec = parse(line);
      if (rec !== undefined) yield rec;
    }
  } finally {
    lines.close();
    stream.destroy();
    await fh.close().catch(() => undefined);
  }
}

async function firstRecord(path: string): Promise<AuditRecord | undefined> {
  for await (const rec of records(path)) return rec;
  return undefined;
}

/** The highest seq written so far (the last record of the newest non-empty file). */
async function lastSeq(dir: string): Promise<number> {
  const files = [...(await rotatedFiles(dir)).map((r) => r.name), CURRENT].reverse();
  for (const name of files) {
    const path = join(dir, name);
    let size: number;
    try {
      ({ size } = await stat(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (size === 0) continue;
    const fh = await open(path, 'r');
    try {
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      const lines = buf.toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const rec = parse(lines[i] as string);
        if (rec !== undefined) return rec.seq;
      }
    } finally {
      await fh.close();
    }
  }
  return 0;
}
