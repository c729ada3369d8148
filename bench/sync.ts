/**
 * `tracechain bench sync`: blocks per second for a new node syncing a long chain.
 *
 * The bench writes `blocks` blocks (default 10,000, sealed on the easiest target, one interval
 * apart) into one member's store, starts that member as a node process, then starts an empty
 * member that dials it: headers first, then bodies, imported through the chain's full checks
 * and synced store writes. Rate = blocks / (time the tip reached the last block − time the
 * first sync round began). For scale, the same chain's import rate without any network (the
 * time spent inside Chain.importBlock while the bench wrote the chain) is reported beside it.
 * The chain holds 20 governance changes (a proposal and its approval each), and the synced
 * node's registry hash is compared with the server's.
 *
 * With `snapshot`, a third member starts from a backup of the serving member taken 100 blocks
 * before the end (`start --snapshot`'s path: the file checked, restored with the snapshot checks,
 * the node started) and syncs the last 100 blocks from the server: the time from the beginning
 * of the restore to that node holding the last block, beside the sync from genesis, same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DataDir } from '../src/node/data-dir.js';
import { writeBackup } from '../src/node/backup.js';
import { restoreBackup } from '../src/node/restore.js';
import { benchConsortium, openChain, sealBlock, type FromNode } from './p2p-common.js';
import { round } from './support.js';
import { keyIdHex } from '../src/chain/keys.js';
import { governanceTxBody, signTx } from '../src/chain/tx.js';

/** Governance changes the bench chain carries (issue: a sync of 10,000 blocks holding 20 changes). */
const GOVERNANCE_CHANGES = 20;
import { BenchNodeProc } from './p2p-cluster.js';

export interface SyncBenchOptions {
  blocks: number;
  /** Also time a new node from a snapshot taken 100 blocks before the end. */
  snapshot?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface SnapshotStartReport {
  /** Height of the snapshot (the rest is synced from the server). */
  snapshotHeight: number;
  snapshotBytes: number;
  /** Checking the file, writing the store, the snapshot checks (every header, sampled indexes). */
  verifySeconds: number;
  writeSeconds: number;
  checkSeconds: number;
  /** From the start of the restore to the node holding the last block. */
  readySeconds: number;
}

export interface SyncBenchReport {
  blocks: number;
  /** Seconds from the first sync round to the last block connected. */
  seconds: number;
  blocksPerSecond: number;
  /** Seconds from the new node's network start to the last block (connect, status, sync). */
  secondsFromStart: number;
  /** Governance changes (proposal + approval each) spread over the chain, and whether the synced node's registry equals the server's. */
  governanceChanges: number;
  registryMatches: boolean;
  /** The chain's own import rate on this machine, no network: Chain.importBlock time only. */
  localImportBlocksPerSecond: number;
  targetBlocksPerSecond: number;
  meetsTarget: boolean;
  snapshot?: SnapshotStartReport;
}

export async function benchSync(partial: Partial<SyncBenchOptions> = {}): Promise<SyncBenchReport> {
  const opts: SyncBenchOptions = { blocks: 10_000, ...partial };
  const root = await mkdtemp(join(tmpdir(), 'tracechain-bench-sync-'));
  const procs: BenchNodeProc[] = [];
  try {
    const c = await benchConsortium(root, opts.snapshot ? 3 : 2, opts.blocks + 100);
    const [serveDir, syncDir, snapDir] = c.dirs as [string, string, string | undefined];
    const snapFile = join(root, 'snapshot.backup');
    const snapAt = Math.max(1, opts.blocks - 100);

    // Write the chain into the serving member's store (the setup, not measured as sync).
    const opened = await openChain(serveDir, c.genesis, pino({ level: 'silent' }));
    const key = (await new DataDir(serveDir).readMemberKey())!;
    const otherKey = (await new DataDir(syncDir).readMemberKey())!;
    const interval = c.genesis.params.blockIntervalMs;
    // Governance changes on the way (docs/governance.md): the second member's role flips, each
    // change a proposal by the first member and, a block later, the second's approval (2 of 2).
    const every = Math.max(2, Math.floor(opts.blocks / (GOVERNANCE_CHANGES + 1)));
    const otherId = keyIdHex(otherKey.publicKey);
    let changes = 0;
    let pending: string | undefined;
    let importMs = 0;
    for (let h = 1; h <= opts.blocks; h++) {
      if (pending !== undefined) {
        await opened.chain.submitTx(signTx(governanceTxBody(opened.chain.chainId, otherId, c.genesis.time + h, { op: 'approve', proposal: pending }), otherKey.secretKey));
        pending = undefined;
        changes++;
      } else if (h % every === 0 && changes < GOVERNANCE_CHANGES && h < opts.blocks) {
        const change = { type: 'update' as const, member: otherId, role: changes % 2 === 0 ? ('wholesaler' as const) : ('dev' as const) };
        pending = (await opened.chain.submitTx(signTx(governanceTxBody(opened.chain.chainId, keyIdHex(key.publicKey), c.genesis.time + h, { op: 'propose', change, activation: 0 }), key.secretKey))).txId;
      }
      const block = sealBlock(opened.chain, key, c.genesis.time + h * interval);
      const t0 = performance.now();
      await opened.chain.importBlock(block);
      importMs += performance.now() - t0;
      if (opts.snapshot && h === snapAt) await writeBackup(opened.store, new DataDir(serveDir), createWriteStream(snapFile), { genesis: c.genesis });
      if (h % 250 === 0) opts.onProgress?.(h, opts.blocks * 2);
    }
    await opened.close();

    const server = new BenchNodeProc('server');
    procs.push(server);
    const ready = await server.request({ type: 'init', dir: serveDir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], statusIntervalMs: 5_000, reportBlocks: false }, 'ready', 60_000);
    if (ready.height !== opts.blocks) throw new Error(`server holds ${ready.height} blocks, expected ${opts.blocks}`);

    const syncer = new BenchNodeProc('syncer');
    procs.push(syncer);
    let syncStart: number | undefined;
    let resolveRegistry: (hash: string) => void = () => undefined;
    const syncedRegistry = new Promise<string>((resolve) => (resolveRegistry = resolve));
    const reached = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sync did not reach ${opts.blocks} in time\n${syncer.stderr.join('')}`)), 30 * 60_000);
      syncer.on('message', (m: FromNode) => {
        if (m.type === 'reached') resolveRegistry(m.registryHash);
      if (m.type === 'progress') {
          if (m.syncing && syncStart === undefined) syncStart = m.t;
          opts.onProgress?.(opts.blocks + m.height, opts.blocks * 2);
        } else if (m.type === 'reached') {
          clearTimeout(timer);
          resolve(m.t);
        } else if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(m.message));
        }
      });
    });
    const started = performance.timeOrigin + performance.now();
    await syncer.request({ type: 'init', dir: syncDir, listen: [], bootstrap: ready.addresses, statusIntervalMs: 5_000, reportBlocks: false, reachHeight: opts.blocks }, 'ready', 60_000);
    const end = await reached;
    const registryMatches = (await syncedRegistry) === ready.registryHash;
    const seconds = (end - (syncStart ?? started)) / 1000;
    const local = opts.blocks / (importMs / 1000);
    let snapshot: SnapshotStartReport | undefined;
    if (opts.snapshot && snapDir) {
      const t0 = nowMsLocal();
      const restored = await restoreBackup(snapFile, snapDir, { check: 'snapshot' });
      const snapper = new BenchNodeProc('snapshot');
      procs.push(snapper);
      const reachedSnap = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the snapshot node did not reach the tip in time')), 10 * 60_000);
        snapper.on('message', (m: FromNode) => {
          if (m.type === 'reached') {
            clearTimeout(timer);
            resolve(m.t);
          }
        });
      });
      await snapper.request({ type: 'init', dir: snapDir, listen: [], bootstrap: ready.addresses, statusIntervalMs: 5_000, reportBlocks: false, reachHeight: opts.blocks }, 'ready', 60_000);
      const t1 = await reachedSnap;
      snapshot = {
        snapshotHeight: restored.manifest.tip.height,
        snapshotBytes: (await stat(snapFile)).size,
        verifySeconds: round(restored.ms.verify / 1000, 2),
        writeSeconds: round(restored.ms.write / 1000, 2),
        checkSeconds: round(restored.ms.check / 1000, 2),
        readySeconds: round((t1 - t0) / 1000, 2),
      };
    }
    const report: SyncBenchReport = {
      blocks: opts.blocks,
      seconds: round(seconds),
      blocksPerSecond: Math.round(opts.blocks / seconds),
      secondsFromStart: round((end - started) / 1000),
      governanceChanges: changes,
      registryMatches,
      localImportBlocksPerSecond: Math.round(local),
      targetBlocksPerSecond: 1_000,
      meetsTarget: opts.blocks / seconds >= 1_000,
      ...(snapshot ? { snapshot } : {}),
    };
    return report;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await rm(root, { recursive: true, force: true });
  }
}

/** Wall clock on the bench's own process, comparable with the nodes' `t` (nowMs). */
function nowMsLocal(): number {
  return performance.timeOrigin + performance.now();
}

export function formatSyncTable(r: SyncBenchReport): string {
  return [
    `sync of ${r.blocks} blocks by a new node over loopback (headers first, bodies in parallel, full checks)`,
    `${'measure'.padEnd(40)} ${'value'.padStart(10)}`,
    `${'sync time, s'.padEnd(40)} ${String(r.seconds).padStart(10)}`,
    `${'sync rate, blocks/s'.padEnd(40)} ${String(r.blocksPerSecond).padStart(10)}`,
    `${'from network start (connect + sync), s'.padEnd(40)} ${String(r.secondsFromStart).padStart(10)}`,
    `${'chain import alone, no network, blocks/s'.padEnd(40)} ${String(r.localImportBlocksPerSecond).padStart(10)}`,
    `${'governance changes in the chain'.padEnd(40)} ${String(r.governanceChanges).padStart(10)}`,
    `${'registry identical after sync (hash)'.padEnd(40)} ${String(r.registryMatches ? 'yes' : 'NO').padStart(10)}`,
    `target >= ${r.targetBlocksPerSecond} blocks/s: ${r.meetsTarget ? 'met' : 'NOT met'}`,
    ...(r.snapshot
      ? [
          `new node from a snapshot at height ${r.snapshot.snapshotHeight} (${r.snapshot.snapshotBytes} bytes), then the last ${r.blocks - r.snapshot.snapshotHeight} blocks synced:`,
          `${'  check file / write store / snapshot checks, s'.padEnd(40)} ${`${r.snapshot.verifySeconds} / ${r.snapshot.writeSeconds} / ${r.snapshot.checkSeconds}`.padStart(10)}`,
          `${'  ready (restore start to last block), s'.padEnd(40)} ${String(r.snapshot.readySeconds).padStart(10)}`,
          `${'  sync from genesis (from network start), s'.padEnd(40)} ${String(r.secondsFromStart).padStart(10)}`,
        ]
      : []),
  ].join('\n');
}
