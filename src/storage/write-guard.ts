/**
 * WriteGuard: keeps the chain store from running out of disk, and brings it back afterwards.
 *
 * Every `intervalMs` it reads the free space of the store's file system. Below `minFreeBytes`
 * it suspends the store's writes (a block is never half-accepted for lack of space; captures
 * answer 503 and the miner pauses); once free space is back above `resumeFreeBytes` it resumes
 * them. A write that fails anyway (ENOSPC on a disk filled by someone else, an I/O error) makes
 * the store refuse writes at once; the guard then retries `store.recover()` on each tick while
 * there is room, and reports the store writable when a probe write succeeds.
 *
 * The guard only decides; the store enforces (StorageSuspendedError), so nothing can slip past.
 */
import { EventEmitter } from 'node:events';
import { statfs } from 'node:fs/promises';
import type { StorageWriteError } from './errors.js';

/** What the guard needs of the store (LevelChainStore implements it). */
export interface GuardedStore {
  readonly dir: string;
  readonly writable: boolean;
  readonly writeBlockedReason: string | undefined;
  readonly writeFailure: StorageWriteError | undefined;
  onWriteFailure(listener: (err: StorageWriteError) => void): () => void;
  suspendWrites(reason: string): void;
  resumeWrites(): void;
  recover(): Promise<void>;
}

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

export interface WriteGuardOptions {
  /** Suspend writes below this many free bytes (0: only react to failed writes). */
  minFreeBytes: number;
  /** Resume at or above this many free bytes (default twice minFreeBytes: no flapping at the edge). */
  resumeFreeBytes?: number;
  /** How often to read free space and retry recovery. */
  intervalMs: number;
}

export interface GuardLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WriteGuardModules {
  store: GuardedStore;
  logger: GuardLogger;
  /** Free space of the file system holding `path` (default: statfs). */
  diskSpace?: (path: string) => Promise<DiskSpace>;
  clock?: () => number;
}

/** For /health and /metrics. */
export interface StorageHealth {
  writable: boolean;
  /** Why writes are refused (absent when writable). */
  reason?: string;
  /** When writes were first refused, ms since the epoch (absent when writable). */
  since?: number;
  /** Free bytes on the store's file system at the last check (absent if it could not be read). */
  freeBytes?: number;
  totalBytes?: number;
  minFreeBytes: number;
}

export interface WriteGuardEvents {
  /** Writes became refused or allowed again. */
  change: [health: StorageHealth];
}

/** A failed store is not retried with less free space than this (even when minFreeBytes is 0). */
const RETRY_MIN_FREE_BYTES = 1024 * 1024;

export async function readDiskSpace(path: string): Promise<DiskSpace> {
  const s = await statfs(path);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

export class WriteGuard extends EventEmitter<WriteGuardEvents> {
  private readonly resumeFreeBytes: number;
  private readonly diskSpace: (path: string) => Promise<DiskSpace>;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private space: DiskSpace | undefined;
  /** Writes are suspended by this guard for lack of space. */
  private lowSpace = false;
  private blockedSince: number | undefined;
  private wasWritable = true;
  private checking: Promise<void> | undefined;
  private spaceErrorLogged = false;

  constructor(
    private readonly opts: WriteGuardOptions,
    private readonly modules: WriteGuardModules,
  ) {
    super();
    if (!Number.isSafeInteger(opts.minFreeBytes) || opts.minFreeBytes < 0) throw new RangeError('minFreeBytes must be a non-negative integer');
    if (!Number.isSafeInteger(opts.intervalMs) || opts.intervalMs < 10) throw new RangeError('intervalMs must be an integer ≥ 10');
    this.resumeFreeBytes = Math.max(opts.resumeFreeBytes ?? 2 * opts.minFreeBytes, opts.minFreeBytes);
    this.diskSpace = modules.diskSpace ?? readDiskSpace;
    this.clock = modules.clock ?? Date.now;
  }

  /** Check once now, then every intervalMs; follow the store's write failures as they happen. */
  async start(): Promise<void> {
    this.unsubscribe = this.modules.store.onWriteFailure((err) => {
      this.modules.logger.error({ err: err.message, dir: this.modules.store.dir }, 'store write failed (chain store or tx log, see err): refusing writes until it recovers');
      this.noteState();
      // Look at once: if space is back already, recover without waiting a whole interval.
      setImmediate(() => void this.check());
    });
    await this.check();
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Current state for /health and /metrics. */
  health(): StorageHealth {
    const { store } = this.modules;
    const out: StorageHealth = { writable: store.writable, minFreeBytes: this.opts.minFreeBytes };
    const reason = store.writeBlockedReason;
    if (reason !== undefined) out.reason = reason;
    if (!store.writable && this.blockedSince !== undefined) out.since = this.blockedSince;
    if (this.space) {
      out.freeBytes = this.space.freeBytes;
      out.totalBytes = this.space.totalBytes;
    }
    return out;
  }

  /** One check (the timer's tick); concurrent calls share one run. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const { store, logger } = this.modules;
    try {
      this.space = await this.diskSpace(store.dir);
      this.spaceErrorLogged = false;
    } catch (err) {
      // Unknown free space: leave the space suspension as it is, still try to recover failures.
      if (!this.spaceErrorLogged) logger.warn({ err: (err as Error).message, dir: store.dir }, 'cannot read free disk space');
      this.spaceErrorLogged = true;
      this.space = undefined;
    }
    if (this.space && this.opts.minFreeBytes > 0) {
      const free = this.space.freeBytes;
      if (!this.lowSpace && free < this.opts.minFreeBytes) {
        this.lowSpace = true;
        const reason = `disk space low: ${mib(free)} free on the file system of ${store.dir}, below the minimum of ${mib(this.opts.minFreeBytes)}; free space (or raise storage.minFreeMiB) to resume`;
        store.suspendWrites(reason);
        logger.error({ freeBytes: free, minFreeBytes: this.opts.minFreeBytes, dir: store.dir }, 'disk space low: writes suspended');
      } else if (this.lowSpace && free >= this.resumeFreeBytes) {
        this.lowSpace = false;
        store.resumeWrites();
        logger.info({ freeBytes: free, dir: store.dir }, 'disk space back: writes resumed');
      }
    }
    const roomToRetry = this.space === undefined || this.space.freeBytes >= Math.max(this.resumeFreeBytes, RETRY_MIN_FREE_BYTES);
    if (store.writeFailure !== undefined && !this.lowSpace && roomToRetry) {
      try {
        await store.recover();
      } catch (err) {
        logger.warn({ err: (err as Error).message, dir: store.dir }, 'store (chain store or tx log) not writable yet; will retry');
      }
    }
    this.noteState();
  }

  /** Emit 'change' when writability flips. */
  private noteState(): void {
    const writable = this.modules.store.writable;
    if (writable === this.wasWritable) return;
    this.wasWritable = writable;
    this.blockedSince = writable ? undefined : this.clock();
    this.emit('change', this.health());
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
