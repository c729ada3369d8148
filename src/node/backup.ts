/**
 * Writing a backup of a node: one LevelDB snapshot of the chain store (storage/backup-format.ts
 * holds the file format) plus the data directory's public files, and its keys and tokens only
 * when asked (then the file is encrypted). Used by the running node (POST /admin/backup) and by
 * `tracechain backup` on a stopped node's directory.
 */
import { open, readFile, stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { genesisBlock } from '../chain/genesis.js';
import type { Genesis } from '../chain/types.js';
import { BackupError, BackupWriter, type BackupManifest, type ByteSource } from '../storage/backup-format.js';
import type { LevelChainStore } from '../storage/index.js';
import { SCHEMA_VERSION } from '../storage/index.js';
import { DataDir, FILES } from './data-dir.js';
import { SWARM_KEY_FILE } from './network.js';

/** Data-directory files every backup carries when present (public). */
export const PUBLIC_FILES: readonly string[] = [FILES.genesis, 'bootstrap'];
/** Secrets: only with --include-keys, and then the file is encrypted. */
export const KEY_FILES: readonly string[] = [FILES.memberKey, FILES.peerKey, FILES.apiToken, FILES.apiTokenHashes, FILES.tokens, SWARM_KEY_FILE];

export interface WriteBackupOptions {
  genesis: Genesis;
  /** Add KEY_FILES; needs a passphrase. */
  includeKeys?: boolean;
  passphrase?: string;
  clock?: () => number;
  onProgress?: (done: number, total: number) => void;
  logger?: Logger;
}

/** Read the data directory's files a backup carries (absent ones are skipped). */
export async function backupFiles(dir: DataDir, includeKeys: boolean): Promise<[string, Buffer][]> {
  const out: [string, Buffer][] = [];
  for (const name of [...PUBLIC_FILES, ...(includeKeys ? KEY_FILES : [])]) {
    if (await dir.exists(name)) out.push([name, await readFile(dir.file(name))]);
  }
  return out;
}

/**
 * Write a backup of `store` (one snapshot: the chain as of one instant) to `out`, streaming with
 * backpressure: the snapshot is read 1,000 entries at a time and the next batch is read only
 * once the sink has taken the last, so a slow reader slows the backup, never the node.
 */
export async function writeBackup(store: LevelChainStore, dir: DataDir, out: Writable, opts: WriteBackupOptions): Promise<BackupManifest> {
  const includeKeys = opts.includeKeys === true;
  if (includeKeys && !opts.passphrase) throw new BackupError('PASSPHRASE_NEEDED', 'a backup with keys is encrypted: give a passphrase (--passphrase-file or TRACECHAIN_BACKUP_PASSPHRASE)');
  const chainId = genesisBlock(opts.genesis).hashHex;
  const files = await backupFiles(dir, includeKeys);
  const started = Date.now();
  const snapshot = store.openSnapshot();
  try {
    const tip = (await snapshot.tip()) ?? { hash: chainId, height: 0 };
    const total = Math.max(await store.approximateSize(), 1);
    const createdAt = new Date((opts.clock ?? Date.now)()).toISOString();
    const writer = await BackupWriter.start(out, { chainId, createdAt, ...(includeKeys ? { passphrase: opts.passphrase as string } : {}) });
    for (const [name, data] of files) await writer.file(name, data);
    let read = 0;
    for await (const batch of snapshot.batches(1000)) {
      for (const [k, v] of batch) {
        await writer.entry(k, v);
        read += k.length + v.length;
      }
      opts.onProgress?.(Math.min(read, total), total);
    }
    const manifest = await writer.finish({ consortium: opts.genesis.name, tip, schema: SCHEMA_VERSION, includesKeys: includeKeys });
    opts.onProgress?.(total, total);
    opts.logger?.info({ tip, entries: manifest.entries, bytes: writer.written, ms: Date.now() - started, includesKeys: includeKeys }, 'backup written');
    return manifest;
  } finally {
    await snapshot.close();
  }
}

/** A backup file as a ByteSource for the reader. */
export async function fileSource(path: string): Promise<ByteSource> {
  const size = (await stat(path)).size;
  return {
    size,
    async read(start, length) {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, start);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    async *stream(start, end) {
      if (end <= start) return;
      const fh = await open(path, 'r');
      try {
        for await (const chunk of fh.createReadStream({ start, end: end - 1, highWaterMark: 256 * 1024, autoClose: false })) yield chunk as Buffer;
      } finally {
        await fh.close();
      }
    },
  };
}

/** The passphrase: from --passphrase-file FILE, else TRACECHAIN_BACKUP_PASSPHRASE. */
export async function readPassphrase(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (file !== undefined) {
    const text = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    if (text.length === 0) throw new BackupError('PASSPHRASE_NEEDED', `${file} is empty`);
    return text;
  }
  const v = env.TRACECHAIN_BACKUP_PASSPHRASE;
  return v === undefined || v === '' ? undefined : v;
}
