/**
 * The few file operations the tx log makes, behind an interface so tests can count fsyncs and
 * inject failures (disk full, I/O errors) exactly where they want them. `nodeLogFs` is the real
 * one over node:fs/promises.
 */
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';

export interface LogFile {
  /** Write all of `bytes` at `position`. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** fdatasync: the data and the metadata needed to read it back (the file size) are on stable storage. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface LogFs {
  /** Create a directory (and its parents); true when it did not exist. */
  mkdir(path: string): Promise<boolean>;
  list(dir: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Create a new file for writing; fails if it exists. */
  create(path: string): Promise<LogFile>;
  /** Open an existing file for writing in place (to truncate a torn tail). */
  openExisting(path: string): Promise<LogFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync a directory: a file created, renamed or deleted in it stays so after a power loss. */
  syncDir(dir: string): Promise<void>;
}

class NodeLogFile implements LogFile {
  constructor(private readonly fh: FileHandle) {}

  async write(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, position + done);
      if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten}`);
      done += bytesWritten;
    }
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export const nodeLogFs: LogFs = {
  async mkdir(path) {
    return (await mkdir(path, { recursive: true, mode: 0o700 })) !== undefined;
  },
  list: (dir) => readdir(dir),
  async readFile(path) {
    const fh = await open(path, 'r');
    try {
      const buf = await fh.readFile();
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } finally {
      await fh.close();
    }
  },
  async readRange(path, offset, length) {
    const fh = await open(path, 'r');
    try {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`${path}: ${length - done} bytes missing at ${offset + done}`);
        done += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  },
  async create(path) {
    return new NodeLogFile(await open(path, 'wx', 0o600));
  },
  async openExisting(path) {
    return new NodeLogFile(await open(path, 'r+'));
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  async syncDir(dir) {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

