/**
 * Restoring a backup into a data directory, and starting a new node from another member's
 * snapshot. The target is not touched until the whole file has been read and checked (digest,
 * every bucket's and file's checksum, the GCM tag when encrypted, the consortium); then the
 * file is read again into a staging directory inside the target, checked there (audit, or the
 * snapshot checks), and only then moved into place. Any failure removes the staging directory:
 * a refused or failed restore leaves the target as it was.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { sampleHeights, type AuditReport } from '../chain/audit.js';
import { runAudit } from './audit-run.js';
import { checkGenesis, genesisBlock } from '../chain/genesis.js';
import type { Genesis } from '../chain/types.js';
import { traceRules } from '../trace/chain-rules.js';
import { BackupError, readBackup, readBackupHeader, type BackupManifest, type BackupRecord } from '../storage/backup-format.js';
import { LevelChainStore } from '../storage/index.js';
import { fileSource, KEY_FILES, PUBLIC_FILES } from './backup.js';
import { DataDir, FILES } from './data-dir.js';
import type { Progress } from './progress.js';

export interface RestoreOptions {
  passphrase?: string;
  /** Replace a chain (and differing key files) already in the target. */
  force?: boolean;
  /**
   * 'audit': the full audit (a member restoring its own backup); 'snapshot': every header and
   * body, and the indexes of `sample` blocks (a new node from another member's snapshot).
   */
  check: 'audit' | 'snapshot';
  /** Blocks whose indexes a snapshot check rebuilds and compares, beyond the newest 32 (default 256). */
  sample?: number;
  random?: () => number;
  progress?: (phase: 'verify' | 'write' | 'check', p: Progress) => Progress;
}

export interface RestoreReport {
  manifest: BackupManifest;
  audit: AuditReport;
  /** Files written into the data directory besides chain/. */
  files: string[];
  ms: { verify: number; write: number; check: number };
}

const noProgress: Progress = { update: () => undefined, stop: () => undefined };
/** Entries (or bytes) per LevelDB batch while restoring. */
const BATCH_ENTRIES = 2000;
const BATCH_BYTES = 4 * 1024 * 1024;

async function chainHoldsData(dir: string): Promise<boolean> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.includes('CURRENT') || files.some((f) => /\.(ldb|sst|log)$/.test(f));
}

function chainIdOf(genesis: Genesis): string {
  return genesisBlock(genesis).hashHex;
}

/** Check the whole file and the target, writing nothing. Returns the manifest and the backup's genesis. */
async function verifyPass(file: string, dir: DataDir, opts: RestoreOptions): Promise<{ manifest: BackupManifest; genesis: Genesis; files: Map<string, Buffer> }> {
  const src = await fileSource(file).catch((err: Error) => {
    throw new BackupError('NOT_A_BACKUP', `cannot read ${file}: ${err.message}`);
  });
  const targetGenesis = await dir.readGenesis();
  const expectChainId = targetGenesis ? chainIdOf(targetGenesis) : undefined;
  const bar = opts.progress?.('verify', noProgress) ?? noProgress;
  const files = new Map<string, Buffer>();
  const gen = readBackup(src, { ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}), ...(expectChainId ? { expectChainId } : {}), onProgress: (d, t) => bar.update(d, t) });
  let manifest: BackupManifest;
  try {
    for (;;) {
      const next = await gen.next();
      if (next.done) {
        manifest = next.value;
        break;
      }
      if (next.value.type === 'file') {
        // Only the files a backup writes: a crafted file cannot plant anything else in DIR.
        if (!PUBLIC_FILES.includes(next.value.name) && !KEY_FILES.includes(next.value.name)) throw new BackupError('DAMAGED', `the backup holds a file this build never backs up: ${JSON.stringify(next.value.name)}`);
        files.set(next.value.name, next.value.data);
      }
    }
  } finally {
    bar.stop();
  }
  const gBytes = files.get(FILES.genesis);
  if (!gBytes) throw new BackupError('DAMAGED', `the backup holds no ${FILES.genesis}`);
  let genesis: Genesis;
  try {
    genesis = checkGenesis(JSON.parse(gBytes.toString('utf8')));
  } catch (err) {
    throw new BackupError('DAMAGED', `the backup's ${FILES.genesis} is not a valid genesis: ${(err as Error).message}`);
  }
  if (chainIdOf(genesis) !== manifest.chainId) throw new BackupError('DAMAGED', `the backup's ${FILES.genesis} is not the genesis of the chain its manifest names`);
  if (await chainHoldsData(dir.file(FILES.chain))) {
    if (!opts.force) throw new BackupError('TARGET_NOT_EMPTY', `${dir.file(FILES.chain)} already holds a chain database; move it away, or pass --force to replace it`);
  }
  for (const name of KEY_FILES) {
    const incoming = files.get(name);
    if (!incoming || !(await dir.exists(name))) continue;
    const existing = await readFile(dir.file(name));
    if (!existing.equals(incoming) && !opts.force) throw new BackupError('TARGET_NOT_EMPTY', `${dir.file(name)} differs from the backup's; pass --force to replace it`);
  }
  return { manifest, genesis, files };
}

/** Second read: the database entries into a new LevelDB in `stagingChain`, checked again as read. */
async function writePass(file: string, stagingChain: string, manifest: BackupManifest, opts: RestoreOptions): Promise<void> {
  const src = await fileSource(file);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(stagingChain, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const bar = opts.progress?.('write', noProgress) ?? noProgress;
  try {
    const gen = readBackup(src, { ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}), expectChainId: manifest.chainId, onProgress: (d, t) => bar.update(d, t) });
    let batch = db.batch();
    let bytes = 0;
    let next: IteratorResult<BackupRecord, BackupManifest>;
    while (!(next = await gen.next()).done) {
      const rec = next.value;
      if (rec.type !== 'entry') continue;
      batch.put(rec.key, rec.value);
      bytes += rec.key.length + rec.value.length;
      if (batch.length >= BATCH_ENTRIES || bytes >= BATCH_BYTES) {
        await batch.write();
        batch = db.batch();
        bytes = 0;
      }
    }
    if (next.value.entries !== manifest.entries) throw new BackupError('CHECKSUM_MISMATCH', 'the file changed between the two reads of the restore');
    await batch.write({ sync: true });
  } finally {
    bar.stop();
    await db.close();
  }
}

/** Run the restored store's check: the full audit, or the snapshot checks. */
async function checkPass(stagingChain: string, genesis: Genesis, manifest: BackupManifest, opts: RestoreOptions): Promise<AuditReport> {
  const store = await LevelChainStore.open(stagingChain);
  const bar = opts.progress?.('check', noProgress) ?? noProgress;
  try {
    const tip = await store.getTip();
    if (tip !== manifest.tip.hash) throw new BackupError('DAMAGED', `the restored store's tip ${tip ?? 'none'} is not the manifest's ${manifest.tip.hash}`);
    const indexSample = opts.check === 'snapshot' ? sampleHeights(manifest.tip.height, opts.sample ?? 256, opts.random ?? Math.random) : undefined;
    return await runAudit(store, genesis, traceRules(), (d, t) => bar.update(d, t), indexSample ? { indexSample } : {});
  } finally {
    bar.stop();
    await store.close();
  }
}

/**
 * Restore `file` into data directory `dataDir`. Throws BackupError with the reason when the file
 * is refused or its content fails the check; the target is then unchanged.
 */
export async function restoreBackup(file: string, dataDir: string, opts: RestoreOptions): Promise<RestoreReport> {
  const dir = new DataDir(dataDir);
  const t0 = Date.now();
  // Refuse early and cheaply what the header alone shows.
  const { header } = await readBackupHeader(await fileSource(file).catch((err: Error) => {
    throw new BackupError('NOT_A_BACKUP', `cannot read ${file}: ${err.message}`);
  }));
  if (header.encryption && opts.passphrase === undefined) throw new BackupError('PASSPHRASE_NEEDED', 'the backup is encrypted (it holds keys): give its passphrase (--passphrase-file or TRACECHAIN_BACKUP_PASSPHRASE)');
  const { manifest, genesis, files } = await verifyPass(file, dir, opts);
  const t1 = Date.now();
  await dir.ensure();
  const staging = dir.file(`.restore-${randomBytes(6).toString('hex')}`);
  const stagingChain = join(staging, FILES.chain);
  let audit: AuditReport;
  let t2: number;
  try {
    await mkdir(stagingChain, { recursive: true, mode: 0o700 });
    await writePass(file, stagingChain, manifest, opts);
    t2 = Date.now();
    audit = await checkPass(stagingChain, genesis, manifest, opts);
    if (!audit.ok) {
      const p = audit.problem;
      throw new BackupError('AUDIT_FAILED', `the restored chain fails its ${audit.mode === 'full' ? 'audit' : 'snapshot check'} at block ${p?.height ?? '?'}${p?.hash ? ` (${p.hash})` : ''}: ${p?.reason ?? 'unknown'}`);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  // Into place: the old chain (with --force) goes into the staging directory, removed at the end.
  const written: string[] = [];
  if (await chainHoldsData(dir.file(FILES.chain))) await rename(dir.file(FILES.chain), join(staging, 'chain.replaced'));
  else await rm(dir.file(FILES.chain), { recursive: true, force: true });
  await rename(stagingChain, dir.file(FILES.chain));
  for (const [name, data] of files) {
    if (await dir.exists(name)) {
      const existing = await readFile(dir.file(name));
      if (existing.equals(data)) continue;
    }
    const secret = KEY_FILES.includes(name);
    await writeFile(dir.file(name), data, secret ? { mode: 0o600 } : {});
    if (secret) await chmod(dir.file(name), 0o600);
    written.push(name);
  }
  await rm(staging, { recursive: true, force: true });
  const t3 = Date.now();
  return { manifest, audit, files: written, ms: { verify: t1 - t0, write: t2 - t1, check: t3 - t2 } };
}
