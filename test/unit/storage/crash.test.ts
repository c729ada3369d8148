/**
 * kill -9 while connecting blocks: every acknowledged block survives, and the store holds no
 * half-written block. The parent test re-runs this file under vitest in a child process (in its
 * own process group) with TRACECHAIN_CRASH_CHILD set; there the writer role runs instead.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/common/bytes.js';
import type { Block } from '../../../src/chain/block.js';
import { LevelChainStore } from '../../../src/storage/level-store.js';
import { extend, fakeBlock, fakeTx, tempDir, withGenesis } from './helpers.js';

const CHILD_DIR = process.env.TRACECHAIN_CRASH_CHILD;
const ACKS_BEFORE_KILL = 40;

describe.runIf(CHILD_DIR !== undefined)('crash writer (child role)', () => {
  it('connects blocks and acknowledges each one after connect resolves', { timeout: 120_000 }, async () => {
    const dir = CHILD_DIR as string;
    const acks = join(dir, '..', 'acks');
    const store = await LevelChainStore.open(dir);
    let prev: Block = await withGenesis(store);
    const deadline = Date.now() + 60_000; // never outlive a parent that forgot us
    for (let h = 1; Date.now() < deadline; h++) {
      prev = fakeBlock(h, prev, [fakeTx(`crash/${h}`, [{ items: ['x', `y${h}`] }, { items: ['x'] }])]);
      await extend(store, prev);
      appendFileSync(acks, `${h} ${prev.hashHex}\n`);
    }
    await store.close();
  });
});

describe.runIf(CHILD_DIR === undefined)('crash safety', () => {
  it('every acknowledged block survives kill -9 and no block is half-written', { timeout: 90_000 }, async () => {
    const { dir, cleanup } = await tempDir();
    const acks = join(dir, '..', 'acks');
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const self = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', self], {
      cwd: root,
      env: { ...process.env, TRACECHAIN_CRASH_CHILD: dir },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const pid = child.pid as number;
    try {
      const start = Date.now();
      const ackCount = () => (existsSync(acks) ? readFileSync(acks, 'utf8').split('\n').filter(Boolean).length : 0);
      while (ackCount() < ACKS_BEFORE_KILL) {
        if (child.exitCode !== null || Date.now() - start > 60_000) throw new Error(`crash writer did not get going:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      process.kill(-pid, 'SIGKILL'); // the whole group: vitest and its worker, mid-write
      await exited;
      // Let the OS reap the worker too (the lock is released when its process is gone).
      let store: LevelChainStore | undefined;
      for (let i = 0; i < 100 && store === undefined; i++) {
        try {
          store = await LevelChainStore.open(dir);
        } catch (err) {
          if ((err as { code?: string }).code !== 'LOCKED') throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      if (store === undefined) throw new Error('store still locked after the kill');
      try {
        const acked = readFileSync(acks, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
        const tipHash = (await store.getTip()) as string;
        const tip = await store.getHeaderEntry(tipHash);
        expect(tip).toBeDefined();
        const tipHeight = tip?.height as number;
        // Every acknowledged block is on the main chain.
        for (const [h, hash] of acked) expect(await store.getMainHash(Number(h))).toBe(hash);
        expect(tipHeight).toBeGreaterThanOrEqual(acked.length);
        // The tip and everything below it is whole; nothing above it was written.
        expect(await store.getMainHash(tipHeight + 1)).toBeUndefined();
        expect(await store.getItem('x')).toMatchObject({ touches: 2 * tipHeight });
        expect(await store.history('x', { limit: 100_000 })).toHaveLength(2 * tipHeight);
        expect(await store.countBucket('undo')).toBe(tipHeight);
        expect(await store.countBucket('txLocations')).toBe(tipHeight);
        expect(await store.countBucket('items')).toBe(tipHeight + 1);
        for await (const { height, hash } of store.iterateMainChain(1)) {
          const bytes = await store.getBlockBytes(hash);
          expect(bytes).toBeDefined();
          expect(await store.getUndo(hash)).toBeDefined();
          expect(await store.getItem(`y${height}`)).toBeDefined();
          expect(toHex((bytes as Uint8Array).subarray(8, 40))).toBe(await store.getMainHash(height - 1)); // header prevHash
        }
      } finally {
        await store.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-pid, 'SIGKILL');
      await cleanup();
    }
  });
});
