import { afterEach, describe, expect, it } from 'vitest';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBlock, makeFixture, makeTx, extend, type Fixture } from '../../helpers/chain-fixture.js';
import { makeGenesis } from '../../../src/node/dev-consortium.js';
import { writeBackup } from '../../../src/node/backup.js';
import { restoreBackup } from '../../../src/node/restore.js';
import { DataDir, FILES } from '../../../src/node/data-dir.js';
import { BackupError } from '../../../src/storage/backup-format.js';
import { LevelChainStore } from '../../../src/storage/index.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tracechain-restore-'));
  cleanup.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A fixture chain of `blocks` blocks with its genesis.json beside the store, backed up to a file. */
async function backedUp(blocks: number, opts: { passphrase?: string } = {}): Promise<{ fx: Fixture; file: string }> {
  const fx = await makeFixture();
  cleanup.push(() => fx.close());
  await extend(fx, blocks);
  const dir = new DataDir(fx.dir);
  await dir.writeGenesis(fx.genesis);
  await writeFile(dir.file(FILES.memberKey), 'aa'.repeat(32) + '\n');
  const file = join(await temp(), 'node.backup');
  await writeBackup(fx.store, dir, createWriteStream(file), { genesis: fx.genesis, ...(opts.passphrase ? { includeKeys: true, passphrase: opts.passphrase } : {}) });
  return { fx, file };
}

/** Every path under dir with its size and content hash: "unchanged" means this is equal. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d).catch(() => [] as string[])).sort()) {
      const p = join(d, name);
      const s = await stat(p);
      if (s.isDirectory()) {
        out.push(`${p}/`);
        await walk(p);
      } else out.push(`${p} ${s.size} ${(await readFile(p)).toString('base64')}`);
    }
  };
  await walk(dir);
  return out;
}

async function refused(p: Promise<unknown>): Promise<BackupError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BackupError);
    return err as BackupError;
  }
  throw new Error('the restore was not refused');
}

describe('restore', () => {
  it('restores a backup into an empty directory: same tip, audit ok, genesis written, no keys', async () => {
    const { fx, file } = await backedUp(6);
    const target = join(await temp(), 'data');
    const report = await restoreBackup(file, target, { check: 'audit' });
    expect(report.audit.ok).toBe(true);
    expect(report.audit.mode).toBe('full');
    expect(report.manifest.tip).toEqual({ hash: fx.chain.tip.hash, height: 6 });
    expect(report.files).toEqual([FILES.genesis]);
    const store = await LevelChainStore.open(join(target, FILES.chain));
    try {
      expect(await store.getTip()).toBe(fx.chain.tip.hash);
      expect(await store.getMainHash(3)).toBe(await fx.store.getMainHash(3));
    } finally {
      await store.close();
    }
    expect((await readdir(target)).sort()).toEqual([FILES.chain, FILES.genesis].sort());
  });

  it('refuses a flipped byte, leaving the target unchanged', async () => {
    const { fx, file } = await backedUp(4);
    const bytes = await readFile(file);
    const target = await temp();
    await new DataDir(target).writeGenesis(fx.genesis);
    await writeFile(join(target, FILES.memberKey), 'bb'.repeat(32) + '\n');
    const before = await listing(target);
    for (const at of [30, Math.floor(bytes.length / 2), bytes.length - 5]) {
      const bad = Buffer.from(bytes);
      bad[at] = (bad[at] as number) ^ 0x10;
      const badFile = join(await temp(), 'bad.backup');
      await writeFile(badFile, bad);
      const err = await refused(restoreBackup(badFile, target, { check: 'audit' }));
      expect(err.message.length).toBeGreaterThan(10);
      expect(await listing(target)).toEqual(before);
    }
  });

  it('refuses a truncated file, naming truncation, leaving the target unchanged', async () => {
    const { file } = await backedUp(4);
    const bytes = await readFile(file);
    const target = join(await temp(), 'fresh');
    const cut = join(await temp(), 'cut.backup');
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    const err = await refused(restoreBackup(cut, target, { check: 'audit' }));
    expect(err.code).toBe('TRUNCATED');
    expect(await listing(target)).toEqual([]);
    await expect(stat(target)).rejects.toThrow();
  });

  it("refuses another consortium's backup, leaving the target unchanged", async () => {
    const { fx, file } = await backedUp(3);
    const target = await temp();
    const other = makeGenesis('another consortium', fx.genesis.members, fx.genesis.time + 1, fx.genesis.params);
    await new DataDir(target).writeGenesis(other);
    const before = await listing(target);
    const err = await refused(restoreBackup(file, target, { check: 'audit' }));
    expect(err.code).toBe('OTHER_CONSORTIUM');
    expect(err.message).toMatch(/another consortium/);
    expect(await listing(target)).toEqual(before);
  });

  it('refuses a target that already holds a chain unless forced', async () => {
    const { file } = await backedUp(3);
    const target = join(await temp(), 'data');
    await restoreBackup(file, target, { check: 'audit' });
    const before = await listing(target);
    const err = await refused(restoreBackup(file, target, { check: 'audit' }));
    expect(err.code).toBe('TARGET_NOT_EMPTY');
    expect(await listing(target)).toEqual(before);
    const again = await restoreBackup(file, target, { check: 'audit', force: true });
    expect(again.audit.ok).toBe(true);
    expect((await readdir(target)).filter((n) => n.startsWith('.restore-'))).toEqual([]);
  });

  it('a backup whose indexes were damaged fails the audit (full) and the snapshot check (sampled newest block); the target stays empty', async () => {
    const fx = await makeFixture();
    cleanup.push(() => fx.close());
    await extend(fx, 5);
    const dir = new DataDir(fx.dir);
    await dir.writeGenesis(fx.genesis);
    // The main-chain index at the tip names its parent: an index that lies about the chain.
    await fx.store.repositories.main.putRaw(5, Buffer.from((await fx.store.getMainHash(4)) as string, 'hex'));
    const file = join(await temp(), 'damaged.backup');
    await writeBackup(fx.store, dir, createWriteStream(file), { genesis: fx.genesis });
    for (const check of ['audit', 'snapshot'] as const) {
      const target = join(await temp(), 'data');
      const err = await refused(restoreBackup(file, target, { check, sample: 1, random: () => 0 }));
      expect(err.code).toBe('AUDIT_FAILED');
      expect(err.message).toMatch(/block 5/);
      expect(await listing(target)).toEqual([]);
    }
  });

  it('snapshot check refuses a block whose sealer signature does not verify, and one whose body is not its merkle root', async () => {
    for (const [what, offset, reason] of [
      ['signature', 112 + 10, /sealer signature does not verify/],
      ['body', 112 + 64 + 4 + 4 + 20, /merkle|decode|hashes/i],
    ] as const) {
      const fx = await makeFixture();
      cleanup.push(() => fx.close());
      await extend(fx, 3);
      await fx.chain.importBlock(buildBlock(fx, { txs: [makeTx(fx, [{ n: 1, what }])] }));
      await extend(fx, 3);
      const dir = new DataDir(fx.dir);
      await dir.writeGenesis(fx.genesis);
      // Block 4 changed in place under its own hash: the header hash still matches its key.
      const hash = (await fx.store.getMainHash(4)) as string;
      const bytes = Buffer.from((await fx.store.getBlockBytes(hash)) as Uint8Array);
      bytes[offset] = (bytes[offset] as number) ^ 0x01;
      await fx.store.repositories.blocks.putRaw(hash, bytes);
      const file = join(await temp(), `${what}.backup`);
      await writeBackup(fx.store, dir, createWriteStream(file), { genesis: fx.genesis });
      const target = join(await temp(), 'data');
      const err = await refused(restoreBackup(file, target, { check: 'snapshot', sample: 0, random: () => 0 }));
      expect(err.code).toBe('AUDIT_FAILED');
      expect(err.message).toMatch(/block 4/);
      expect(err.message).toMatch(reason);
      expect(await listing(target)).toEqual([]);
    }
  });

  it('snapshot check: every header, the indexes of a sample', async () => {
    const { file } = await backedUp(40);
    const target = join(await temp(), 'data');
    const report = await restoreBackup(file, target, { check: 'snapshot', sample: 3, random: () => 0.5 });
    expect(report.audit.ok).toBe(true);
    expect(report.audit.mode).toBe('snapshot');
    expect(report.audit.blocksChecked).toBe(40);
    expect(report.audit.indexBlocksChecked).toBe(35);
  });

  it('encrypted with keys: restores the key files (mode 0600) with the passphrase; refuses without it', async () => {
    const { file } = await backedUp(2, { passphrase: 'pass phrase' });
    const target = join(await temp(), 'data');
    expect((await refused(restoreBackup(file, target, { check: 'audit' }))).code).toBe('PASSPHRASE_NEEDED');
    expect(await listing(target)).toEqual([]);
    const report = await restoreBackup(file, target, { check: 'audit', passphrase: 'pass phrase' });
    expect(report.files.sort()).toEqual([FILES.genesis, FILES.memberKey].sort());
    expect((await stat(join(target, FILES.memberKey))).mode & 0o777).toBe(0o600);
    expect((await readFile(join(target, FILES.memberKey), 'utf8')).trim()).toBe('aa'.repeat(32));
  });
});
