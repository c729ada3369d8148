/**
 * An online backup of a running node under capture load: the backup is taken through the
 * node's API while captures keep coming (and keep being accepted), restored into a new data
 * directory with its keys (encrypted), audited, and the restored node serves every event the
 * old node reported in a block at or below the manifest's tip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureSettled, commissionDoc, eventOf, FAST, sleep, tokenOf } from '../chaos/lib.js';
import { LevelChainStore } from '../../src/storage/index.js';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor } from '../helpers/node-process.js';

const dirs: string[] = [];
afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

describe('online backup and restore', () => {
  it('backs up while capturing; the restore audits clean and holds every event reported at or below the tip', async () => {
    const root = await tempDir('tracechain-backup-it-');
    dirs.push(root);
    const dataDir = join(root, 'node');
    const node = await startNode(FAST, { dataDir });
    const token = await tokenOf(dataDir);
    const accepted: string[] = [];
    let loading = true;
    let captureFailures = 0;
    const loader = (async () => {
      let i = 0;
      while (loading) {
        const r = await captureSettled(node.api, token, commissionDoc(`bk${i++}`, 5));
        if (r.status === 202 && r.body?.eventIds) accepted.push(...r.body.eventIds);
        else captureFailures++;
      }
    })();
    const file = join(root, 'node.backup');
    const passFile = join(root, 'pass');
    await writeFile(passFile, 'a long passphrase for the drill\n');
    let manifestTip: { hash: string; height: number };
    try {
      await waitFor('some captures', async () => accepted.length >= 50, 60_000);
      // Refused without the node's token; the CLI uses the token of the data directory.
      expect((await fetch(`${node.api}/admin/backup`, { method: 'POST' })).status).toBe(401);
      const during = accepted.length;
      const backup = await runCli(['backup', '--data', dataDir, '--out', file, '--api', node.api, '--include-keys', '--passphrase-file', passFile, '--json'], { timeoutMs: 120_000 });
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      const report = JSON.parse(backup.stdout.trim().split('\n').pop() as string) as { mode: string; tip: { hash: string; height: number }; includesKeys: boolean; entries: number };
      expect(report.mode).toBe('online');
      expect(report.includesKeys).toBe(true);
      manifestTip = report.tip;
      expect(manifestTip.height).toBeGreaterThan(0);
      // Capture went on during and after the backup.
      await waitFor('captures after the backup', async () => accepted.length >= during + 50, 60_000);
    } finally {
      loading = false;
      await loader;
    }
    expect(captureFailures).toBe(0);
    // The client's list: every accepted event and the block the node reports it in.
    const inBlock = new Map<string, number>();
    await waitFor(
      'every accepted event in a block',
      async () => {
        for (const id of accepted) {
          if (inBlock.has(id)) continue;
          const v = await eventOf(node.api, id);
          if (v.status !== 200 || !v.block) return false;
          inBlock.set(id, v.block.height);
        }
        return true;
      },
      60_000,
      200,
    );
    expect(await node.kill('SIGTERM')).toBe(0);
    const expected = [...inBlock].filter(([, h]) => h <= manifestTip.height).map(([id]) => id);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(accepted.length);

    // Restore: refused without the passphrase (target untouched), then restored and audited.
    const restored = join(root, 'restored');
    const noPass = await runCli(['restore', '--from', file, '--data', restored]);
    expect(noPass.code).toBe(3);
    expect(noPass.stderr).toMatch(/PASSPHRASE_NEEDED/);
    const restore = await runCli(['restore', '--from', file, '--data', restored, '--passphrase-file', passFile], { timeoutMs: 120_000 });
    expect(restore.stderr).toBe('');
    expect(restore.stdout).toMatch(/restore ok: .* audit ok/);
    expect(restore.code).toBe(0);
    expect(await readFile(join(restored, 'member.key'), 'utf8')).toBe(await readFile(join(dataDir, 'member.key'), 'utf8'));
    const audit = await runCli(['audit', '--data', restored]);
    expect(audit.code).toBe(0);

    const store = await LevelChainStore.open(join(restored, 'chain'));
    try {
      expect(await store.getTip()).toBe(manifestTip.hash);
      const missing: string[] = [];
      for (const id of expected) if (!(await store.getEventLocation(id))) missing.push(id);
      expect(missing).toEqual([]);
    } finally {
      await store.close();
    }

    // The restored node starts with the member's keys and serves the events.
    const again = await startNode(['--no-mine', '--log-level', 'info'], { dataDir: restored });
    try {
      for (const id of expected.slice(0, 20)) {
        const v = await eventOf(again.api, id);
        expect(v.status).toBe(200);
        expect(v.block?.height).toBeLessThanOrEqual(manifestTip.height);
      }
    } finally {
      expect(await again.kill('SIGTERM')).toBe(0);
    }
    await sleep(0);
  }, 240_000);
});
