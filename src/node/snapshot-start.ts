/**
 * `tracechain start --snapshot FILE`: a new member's node starts from a backup made by any
 * member instead of syncing every block from genesis. The data directory must already hold this
 * member's keys and the consortium's genesis.json (the trust anchor: the snapshot must be of that
 * chain). The snapshot is restored with the snapshot checks (restore.ts: every header's proof of
 * work, bits, time, sealer signature and link back to genesis; every body's merkle root; the
 * indexes of the newest 32 and 256 random blocks rebuilt and compared); the node then starts
 * as usual and syncs the blocks after the snapshot's tip from its peers.
 */
import type { Logger } from 'pino';
import { DataDir, FILES } from './data-dir.js';
import { readPassphrase } from './backup.js';
import { restoreBackup } from './restore.js';
import { progressBar } from './progress.js';
import { BackupError } from '../storage/backup-format.js';
import { readdir } from 'node:fs/promises';

export async function startFromSnapshot(opts: { file: string; dataDir: string; passphraseFile?: string | undefined }, logger: Logger): Promise<void> {
  const log = logger.child({ module: 'snapshot' });
  const dir = new DataDir(opts.dataDir);
  const chainFiles = await readdir(dir.file(FILES.chain)).catch(() => [] as string[]);
  if (chainFiles.includes('CURRENT')) {
    log.warn({ data: dir.path, snapshot: opts.file }, 'the data directory already holds a chain: --snapshot ignored (it is for a new node)');
    return;
  }
  if (!(await dir.exists(FILES.genesis))) {
    throw new BackupError('OTHER_CONSORTIUM', `--snapshot needs the consortium's ${FILES.genesis} in ${dir.path} (the chain the snapshot must belong to); copy it there first`);
  }
  if (!(await dir.exists(FILES.memberKey))) {
    throw new BackupError('PASSPHRASE_NEEDED', `--snapshot needs this member's key in ${dir.path} (run tracechain init first)`);
  }
  const passphrase = await readPassphrase(opts.passphraseFile);
  const started = Date.now();
  let report: Awaited<ReturnType<typeof restoreBackup>>;
  try {
    report = await restoreBackup(opts.file, dir.path, {
      ...(passphrase !== undefined ? { passphrase } : {}),
      check: 'snapshot',
      progress: (phase) => progressBar(phase === 'verify' ? 'verify  ' : phase === 'write' ? 'snapshot' : 'headers '),
    });
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    throw new BackupError(err.code, `--snapshot ${opts.file} refused [${err.code}]: ${err.message}; nothing in ${dir.path} was changed`, { cause: err });
  }
  log.info(
    {
      snapshot: opts.file,
      tip: report.manifest.tip,
      from: report.manifest.consortium,
      createdAt: report.manifest.createdAt,
      headersChecked: report.audit.blocksChecked,
      indexBlocksChecked: report.audit.indexBlocksChecked,
      ms: { ...report.ms, total: Date.now() - started },
    },
    'started from a snapshot: every header checked, indexes sampled; syncing the rest from peers',
  );
}
