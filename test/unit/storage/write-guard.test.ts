import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClassicLevel } from 'classic-level';
import { StorageSuspendedError, StorageWriteError } from '../../../src/storage/errors.js';
import { LevelChainStore } from '../../../src/storage/level-store.js';
import { WriteGuard, type DiskSpace, type StorageHealth } from '../../../src/storage/write-guard.js';
import { extend, fakeBlock, fakeTx, tempDir, withGenesis } from './helpers.js';

const MiB = 1024 * 1024;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string;
let cleanup: () => Promise<void>;
let store: LevelChainStore;
let guard: WriteGuard | undefined;
let free: number;
let changes: StorageHealth[];

/** The store's LevelDB handle, to make its writes fail as a full disk would. */
function dbOf(s: LevelChainStore): ClassicLevel<Uint8Array, Uint8Array> {
  return (s as unknown as { db: ClassicLevel<Uint8Array, Uint8Array> }).db;
}

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/**
 * Make the store's next LevelDB write fail with `err`, as a full disk would: the store writes
 * blocks as chained batches (their write() rejects) and its probe as an array batch.
 */
function failNextWrite(s: LevelChainStore, err: Error): void {
  const db = dbOf(s);
  const real = db.batch.bind(db) as (...args: unknown[]) => unknown;
  const failing = (...args: unknown[]): unknown => {
    if (args.length > 0) return Promise.reject(err);
    const chained = real() as ReturnType<Db['batch']>;
    vi.spyOn(chained, 'write').mockRejectedValueOnce(err);
    return chained;
  };
  vi.spyOn(db, 'batch').mockImplementationOnce(failing as Db['batch']);
}

/** LevelDB keeps a failed log write as a sticky background error until reopened. */
function sticky(): Error {
  return Object.assign(new Error('IO error: /data/chain/000005.log: Input/output error'), { code: 'LEVEL_IO_ERROR' });
}

function enospc(): Error {
  return Object.assign(new Error('IO error: /data/chain/000005.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
}

async function newGuard(minFreeBytes = 64 * MiB): Promise<WriteGuard> {
  const g = new WriteGuard({ minFreeBytes, intervalMs: 60_000 }, { store, logger: quiet, diskSpace: async (): Promise<DiskSpace> => ({ freeBytes: free, totalBytes: 1024 * MiB }), clock: () => 42 });
  g.on('change', (h) => changes.push(h));
  await g.start();
  guard = g;
  return g;
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await LevelChainStore.open(dir);
  free = 500 * MiB;
  changes = [];
});

afterEach(async () => {
  guard?.stop();
  guard = undefined;
  vi.restoreAllMocks();
  await store.close();
  await cleanup();
});

describe('store write gate', () => {
  it('suspendWrites refuses every write with WRITE_SUSPENDED and the reason; resumeWrites allows them again', async () => {
    const g = await withGenesis(store);
    store.suspendWrites('disk space low: 1.0 MiB free');
    expect(store.writable).toBe(false);
    const b1 = fakeBlock(1, g, [fakeTx('t1', [{ items: ['urn:a'] }])]);
    const err = await extend(store, b1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageSuspendedError);
    expect((err as StorageSuspendedError).code).toBe('WRITE_SUSPENDED');
    expect((err as Error).message).toContain('disk space low: 1.0 MiB free');
    expect(await store.getBlockBytes(b1.hashHex)).toBeUndefined(); // nothing half-written
    expect(await store.getTip()).toBe(g.hashHex); // reads still work
    store.resumeWrites();
    await extend(store, b1);
    expect(await store.getTip()).toBe(b1.hashHex);
  });

  it('a failed write refuses later writes until recover() reopens the database; the data written before survives', async () => {
    const g = await withGenesis(store);
    const failures: StorageWriteError[] = [];
    store.onWriteFailure((e) => failures.push(e));
    failNextWrite(store, enospc());
    const b1 = fakeBlock(1, g, [fakeTx('t1', [{ items: ['urn:a'] }])]);
    await expect(extend(store, b1)).rejects.toBeInstanceOf(StorageWriteError);
    expect(failures).toHaveLength(1);
    expect(store.writable).toBe(false);
    expect(store.writeBlockedReason).toContain('No space left on device');
    // Refused without touching LevelDB while failed (a torn log record must not be followed by more).
    await expect(extend(store, b1)).rejects.toBeInstanceOf(StorageSuspendedError);
    const close = vi.spyOn(dbOf(store), 'close');
    await store.recover();
    expect(close).toHaveBeenCalledTimes(1);
    expect(store.isOpen()).toBe(true);
    expect(store.writable).toBe(true);
    expect(await store.getTip()).toBe(g.hashHex);
    await extend(store, b1);
    expect(await store.getTip()).toBe(b1.hashHex);
  });

  it('recover() that cannot reopen (still no room) throws, and the next call opens the closed database', async () => {
    const g = await withGenesis(store);
    failNextWrite(store, enospc());
    await expect(extend(store, fakeBlock(1, g, []))).rejects.toBeInstanceOf(StorageWriteError);
    vi.spyOn(dbOf(store), 'open').mockRejectedValueOnce(Object.assign(new Error('Database failed to open (IO error: MANIFEST-000007: No space left on device)'), { code: 'LEVEL_DATABASE_NOT_OPEN' }));
    await expect(store.recover()).rejects.toThrow(/storage write failed \(recover\).*No space left/);
    expect(store.writable).toBe(false);
    expect(store.isOpen()).toBe(false);
    await store.recover();
    expect(store.isOpen()).toBe(true);
    expect(store.writable).toBe(true);
    expect(await store.getTip()).toBe(g.hashHex);
  });

  it('a probe write that fails after the reopen keeps the store refusing writes', async () => {
    const g = await withGenesis(store);
    failNextWrite(store, enospc());
    await expect(extend(store, fakeBlock(1, g, []))).rejects.toBeInstanceOf(StorageWriteError);
    failNextWrite(store, sticky());
    await expect(store.recover()).rejects.toThrow(/Input\/output error/);
    expect(store.writable).toBe(false);
    await expect(extend(store, fakeBlock(1, g, []))).rejects.toBeInstanceOf(StorageSuspendedError);
  });
});

describe('WriteGuard', () => {
  it('suspends writes below the minimum free space and resumes only at twice the minimum', async () => {
    await withGenesis(store);
    const g = await newGuard();
    expect(g.health()).toEqual({ writable: true, minFreeBytes: 64 * MiB, freeBytes: 500 * MiB, totalBytes: 1024 * MiB });
    free = 10 * MiB;
    await g.check();
    expect(store.writable).toBe(false);
    const h = g.health();
    expect(h.writable).toBe(false);
    expect(h.reason).toMatch(/disk space low: 10\.0 MiB free .* below the minimum of 64\.0 MiB/);
    expect(h.since).toBe(42);
    free = 100 * MiB; // above the minimum, below twice it: no flapping
    await g.check();
    expect(store.writable).toBe(false);
    free = 128 * MiB;
    await g.check();
    expect(store.writable).toBe(true);
    expect(changes.map((c) => c.writable)).toEqual([false, true]);
  });

  it('starts suspended when the disk is already low', async () => {
    free = 1 * MiB;
    const g = await newGuard();
    expect(g.health().writable).toBe(false);
    expect(changes).toHaveLength(1);
  });

  it('after a failed write, recovers the store on the next check once there is room', async () => {
    const g0 = await withGenesis(store);
    const g = await newGuard();
    failNextWrite(store, enospc());
    const b1 = fakeBlock(1, g0, []);
    await expect(extend(store, b1)).rejects.toBeInstanceOf(StorageWriteError);
    expect(g.health().writable).toBe(false);
    expect(g.health().reason).toContain('No space left on device');
    free = 0; // still full: no recovery attempt, space suspension instead
    await g.check();
    expect(store.writable).toBe(false);
    free = 500 * MiB;
    await g.check();
    expect(store.writable).toBe(true);
    expect(changes.map((c) => c.writable)).toEqual([false, true]);
    await extend(store, b1);
  });

  it('with minFreeBytes 0 it only reacts to failed writes', async () => {
    await withGenesis(store);
    free = 0;
    const g = await newGuard(0);
    expect(g.health().writable).toBe(true);
  });

  it('keeps working when free space cannot be read', async () => {
    await withGenesis(store);
    const g = new WriteGuard({ minFreeBytes: MiB, intervalMs: 60_000 }, { store, logger: quiet, diskSpace: () => Promise.reject(new Error('EACCES')) });
    guard = g;
    await g.start();
    expect(g.health()).toEqual({ writable: true, minFreeBytes: MiB });
  });

  it('refuses nonsense options', () => {
    expect(() => new WriteGuard({ minFreeBytes: -1, intervalMs: 1000 }, { store, logger: quiet })).toThrow(RangeError);
    expect(() => new WriteGuard({ minFreeBytes: 0, intervalMs: 0 }, { store, logger: quiet })).toThrow(RangeError);
  });
});
