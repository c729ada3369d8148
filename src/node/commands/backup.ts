/**
 * `tracechain backup` and `tracechain restore`.
 *
 * backup: when the node of DIR is running (its store is locked), or DIR holds no store (the node
 * runs elsewhere), the node writes the backup (POST /admin/backup, the API token from DIR or
 * --token/--token-file) and this command saves it; when it is stopped, this command reads the
 * store itself. Either way the file is written to FILE.partial,
 * read back and checked, and only then renamed to FILE. With --include-keys the node's backup is
 * re-written here, encrypted, with the key and token files of DIR added (keys never travel over
 * HTTP).
 */
import { createWriteStream } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pino } from 'pino';
import { BackupError, BackupWriter, readBackup, readBackupHeader, verifyBackup, type BackupManifest, type BackupRecord } from '../../storage/backup-format.js';
import { LevelChainStore, StorageError } from '../../storage/index.js';
import { backupFiles, fileSource, readPassphrase, writeBackup } from '../backup.js';
import { restoreBackup } from '../restore.js';
import { DataDir, FILES } from '../data-dir.js';
import { progressBar } from '../progress.js';
import { apiBase, resolveToken } from './client.js';

export interface BackupFlags {
  data: string;
  out: string;
  api?: string;
  token?: string;
  tokenFile?: string;
  includeKeys?: boolean;
  passphraseFile?: string;
  json?: boolean;
}

export interface RestoreFlags {
  from: string;
  data: string;
  force?: boolean;
  passphraseFile?: string;
  json?: boolean;
}

function fileSink(path: string): Writable {
  return createWriteStream(path, { mode: 0o600, highWaterMark: 1 << 20 });
}

/** Ask the running node for a backup and save the stream to `path`. */
async function fetchOnline(flags: BackupFlags, path: string): Promise<void> {
  const base = apiBase(flags.api);
  const token = await resolveToken({ ...flags, data: flags.data });
  let res: Response;
  try {
    res = await fetch(`${base}/admin/backup`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new Error(`the node's store is in use (the node runs) but its API at ${base} cannot be reached (${cause?.code ?? (err as Error).message}); give --api`);
  }
  if (!res.ok || !res.body) {
    const text = await res.text();
    throw new Error(`the node refused the backup: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  const total = Number(res.headers.get('x-backup-approximate-bytes') ?? 0);
  const bar = progressBar('backup');
  const out = fileSink(path);
  let got = 0;
  try {
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => {
      got += c.length;
      bar.update(total > 0 ? Math.min(got, total) : got, Math.max(total, got));
    });
    await new Promise<void>((resolve, reject) => {
      body.once('error', reject);
      out.once('error', reject);
      out.once('finish', () => resolve());
      body.pipe(out);
    });
  } finally {
    bar.stop();
  }
}

/** Re-write a plain backup encrypted, adding DIR's key files. */
async function addKeys(plain: string, dir: DataDir, path: string, passphrase: string): Promise<BackupManifest> {
  const gen = readBackup(await fileSource(plain));
  const keyFiles = (await backupFiles(dir, true)).filter(([n]) => n !== FILES.genesis && n !== 'bootstrap');
  const { header } = await readBackupHeader(await fileSource(plain));
  const writer = await BackupWriter.start(fileSink(path), { chainId: header.chainId, createdAt: header.createdAt, passphrase });
  let next: IteratorResult<BackupRecord, BackupManifest> = await gen.next();
  let keysWritten = false;
  while (!next.done) {
    const rec = next.value;
    if (rec.type === 'file') await writer.file(rec.name, rec.data);
    else {
      if (!keysWritten) {
        for (const [n, d] of keyFiles) await writer.file(n, d);
        keysWritten = true;
      }
      await writer.entry(rec.key, rec.value);
    }
    next = await gen.next();
  }
  if (!keysWritten) for (const [n, d] of keyFiles) await writer.file(n, d);
  const m = next.value;
  return writer.finish({ consortium: m.consortium, tip: m.tip, schema: m.schema, includesKeys: true });
}

export async function backupCommand(flags: BackupFlags, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const dir = new DataDir(flags.data);
  const partial = `${flags.out}.partial`;
  const plainPartial = `${flags.out}.plain.partial`;
  const started = Date.now();
  try {
    const genesis = await dir.readGenesis();
    if (!genesis) throw new BackupError('DAMAGED', `no consortium in ${dir.path} (no ${FILES.genesis})`);
    const passphrase = flags.includeKeys ? await readPassphrase(flags.passphraseFile) : undefined;
    if (flags.includeKeys && passphrase === undefined) throw new BackupError('PASSPHRASE_NEEDED', 'a backup with keys is encrypted: give --passphrase-file FILE or set TRACECHAIN_BACKUP_PASSPHRASE');
    // A store here that no node holds: read it. Locked (the node runs), or none here (the node
    // runs elsewhere, e.g. a Kubernetes job beside it): ask the node at --api.
    let store: LevelChainStore | undefined;
    const local = (await readdir(dir.file(FILES.chain)).catch(() => [] as string[])).includes('CURRENT');
    if (local) {
      try {
        store = await LevelChainStore.open(dir.file(FILES.chain), { logger: pino({ level: 'silent' }) });
      } catch (e) {
        if (!(e instanceof StorageError && e.code === 'LOCKED')) throw e;
      }
    }
    let mode: 'online' | 'offline';
    if (store) {
      mode = 'offline';
      const bar = progressBar('backup');
      try {
        await writeBackup(store, dir, fileSink(partial), { genesis, includeKeys: flags.includeKeys === true, ...(passphrase !== undefined ? { passphrase } : {}), onProgress: (d, t) => bar.update(d, t) });
      } finally {
        bar.stop();
        await store.close();
      }
    } else {
      mode = 'online';
      if (passphrase !== undefined) {
        await fetchOnline(flags, plainPartial);
        await addKeys(plainPartial, dir, partial, passphrase);
        await rm(plainPartial, { force: true });
      } else await fetchOnline(flags, partial);
    }
    // Read back what was written before calling it a backup.
    const manifest = await verifyBackup(await fileSource(partial), passphrase !== undefined ? { passphrase } : {});
    await rename(partial, flags.out);
    const size = (await fileSource(flags.out)).size;
    const report = { ok: true, file: flags.out, mode, bytes: size, ms: Date.now() - started, chainId: manifest.chainId, tip: manifest.tip, entries: manifest.entries, includesKeys: manifest.includesKeys };
    if (flags.json) out.write(JSON.stringify(report) + '\n');
    else out.write(`backup ok (${mode}): ${flags.out}, ${size} bytes, tip ${manifest.tip.height} (${manifest.tip.hash}), ${manifest.entries} entries${manifest.includesKeys ? ', keys included (encrypted)' : ''}, ${report.ms} ms\n`);
    return 0;
  } catch (e) {
    await rm(partial, { force: true });
    await rm(plainPartial, { force: true });
    err.write(`backup FAILED: ${(e as Error).message}\n`);
    return 1;
  }
}

export async function restoreCommand(flags: RestoreFlags, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    const passphrase = await readPassphrase(flags.passphraseFile);
    const report = await restoreBackup(flags.from, flags.data, {
      ...(passphrase !== undefined ? { passphrase } : {}),
      force: flags.force === true,
      check: 'audit',
      progress: (phase) => progressBar(phase === 'verify' ? 'verify ' : phase === 'write' ? 'restore' : 'audit  '),
    });
    const m = report.manifest;
    if (flags.json) out.write(JSON.stringify({ ok: true, tip: m.tip, entries: m.entries, files: report.files, audit: report.audit, ms: report.ms }) + '\n');
    else {
      out.write(`restore ok: ${flags.data}: tip ${m.tip.height} (${m.tip.hash}), ${m.entries} entries; audit ok (${report.audit.blocksChecked} blocks, ${report.audit.eventsChecked} events); verify ${report.ms.verify} ms, write ${report.ms.write} ms, audit ${report.ms.check} ms\n`);
      if (!m.includesKeys) out.write(`note: the backup holds no keys: ${FILES.memberKey}, ${FILES.peerKey} and the API token must come from your key backup\n`);
    }
    return 0;
  } catch (e) {
    const code = e instanceof BackupError ? ` [${e.code}]` : '';
    err.write(`restore REFUSED${code}: ${(e as Error).message}; nothing in ${flags.data} was changed\n`);
    return e instanceof BackupError ? 3 : 1;
  }
}
