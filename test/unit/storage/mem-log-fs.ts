/**
 * An in-memory LogFs that models the page cache: writes change a file's current bytes; only
 * datasync makes them durable. `crashImage()` is what a power loss leaves (the durable bytes);
 * tests build other crash images from it (a prefix of the unsynced writes, zeros). It counts
 * fsyncs, notes the most that ran at once, and fails the operations a test asks it to.
 */
import type { LogFile, LogFs } from '../../../src/storage/log-fs.js';

export type FsOp = 'write' | 'datasync' | 'create' | 'truncate' | 'syncDir' | 'unlink' | 'rename';

function enoent(path: string): NodeJS.ErrnoException {
  const err = new Error(`ENOENT: no such file or directory, '${path}'`) as NodeJS.ErrnoException;
  err.code = 'ENOENT';
  return err;
}

export class MemLogFs implements LogFs {
  readonly files = new Map<string, Uint8Array>();
  readonly durable = new Map<string, Uint8Array>();
  readonly dirs = new Set<string>();
  datasyncs = 0;
  syncsRunning = 0;
  maxSyncsRunning = 0;
  /** Milliseconds each datasync takes (a timer, so appends can queue up meanwhile). */
  syncDelayMs = 0;
  /** Called when a datasync completes, with the file's durable length. */
  onSynced: ((path: string, length: number) => void) | undefined;
  /** Make the next matching operations throw this error (each use decrements `times`). */
  private readonly failures: { op: FsOp; err: Error; times: number }[] = [];

  failNext(op: FsOp, err: Error, times = 1): void {
    this.failures.push({ op, err, times });
  }

  private maybeFail(op: FsOp): void {
    const f = this.failures.find((x) => x.op === op && x.times > 0);
    if (f === undefined) return;
    f.times--;
    throw f.err;
  }

  /** A copy of the files as a power loss would leave them: only what was fsynced. */
  crashImage(): Map<string, Uint8Array> {
    return new Map([...this.durable].map(([p, b]) => [p, b.slice()]));
  }

  /** Replace every file (current and durable) with these contents. */
  load(files: Map<string, Uint8Array>): void {
    this.files.clear();
    this.durable.clear();
    for (const [p, b] of files) {
      this.files.set(p, b.slice());
      this.durable.set(p, b.slice());
    }
  }

  names(dir: string): string[] {
    return [...this.files.keys()].filter((p) => p.startsWith(dir + '/')).map((p) => p.slice(dir.length + 1));
  }

  private file(path: string): LogFile {
    return {
      write: async (bytes, position) => {
        this.maybeFail('write');
        const cur = this.files.get(path) ?? new Uint8Array(0);
        const out = new Uint8Array(Math.max(cur.length, position + bytes.length));
        out.set(cur);
        out.set(bytes, position);
        this.files.set(path, out);
      },
      datasync: async () => {
        this.syncsRunning++;
        this.maxSyncsRunning = Math.max(this.maxSyncsRunning, this.syncsRunning);
        try {
          if (this.syncDelayMs > 0) await new Promise((r) => setTimeout(r, this.syncDelayMs));
          this.maybeFail('datasync');
          const cur = this.files.get(path) ?? new Uint8Array(0);
          this.durable.set(path, cur.slice());
          this.datasyncs++;
          this.onSynced?.(path, cur.length);
        } finally {
          this.syncsRunning--;
        }
      },
      truncate: async (length) => {
        this.maybeFail('truncate');
        this.files.set(path, (this.files.get(path) ?? new Uint8Array(0)).slice(0, length));
      },
      close: async () => undefined,
    };
  }

  async mkdir(path: string): Promise<boolean> {
    const had = this.dirs.has(path);
    this.dirs.add(path);
    return !had;
  }

  async list(dir: string): Promise<string[]> {
    return this.names(dir);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const b = this.files.get(path);
    if (b === undefined) throw enoent(path);
    return b.slice();
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const b = await this.readFile(path);
    if (offset + length > b.length) throw new Error(`${path}: short read`);
    return b.slice(offset, offset + length);
  }

  async create(path: string): Promise<LogFile> {
    this.maybeFail('create');
    if (this.files.has(path)) throw new Error(`EEXIST: ${path}`);
    this.files.set(path, new Uint8Array(0));
    return this.file(path);
  }

  async openExisting(path: string): Promise<LogFile> {
    if (!this.files.has(path)) throw enoent(path);
    return this.file(path);
  }

  async rename(from: string, to: string): Promise<void> {
    this.maybeFail('rename');
    const b = this.files.get(from);
    if (b === undefined) throw enoent(from);
    this.files.delete(from);
    this.files.set(to, b);
    const d = this.durable.get(from);
    this.durable.delete(from);
    if (d !== undefined) this.durable.set(to, d);
  }

  async unlink(path: string): Promise<void> {
    this.maybeFail('unlink');
    if (!this.files.delete(path)) throw enoent(path);
    this.durable.delete(path);
  }

  async syncDir(): Promise<void> {
    this.maybeFail('syncDir');
  }
}
