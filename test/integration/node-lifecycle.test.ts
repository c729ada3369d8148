/**
 * A real dev node process: first start creates a consortium and token, mines, serves blocks;
 * SIGKILL while mining leaves an intact chain that audit accepts and the node resumes; a
 * flipped byte in a stored block is named by audit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { access, readdir, writeFile } from 'node:fs/promises';
import { captureSettled, commissionDoc, eventOf, tipOf, tokenOf } from '../chaos/lib.js';
import { join } from 'node:path';
import { LevelChainStore } from '../../src/storage/index.js';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor } from '../helpers/node-process.js';

const FAST = ['--block-interval', '200', '--workers', '1', '--log-level', 'info'];

interface BlockJson {
  hash: string;
  height: number;
  header: string;
  prevHash: string;
  merkleRoot: string;
  time: number;
  bits: number;
  nonce: string;
  sealer: string;
  txIds: string[];
}

/** The tip's height (tipOf asks again while the node sheds the read, and throws on anything but a 200 with a height). */
async function tipHeight(api: string): Promise<number> {
  return (await tipOf(api)).height;
}

const dirs: string[] = [];
afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

describe('dev node lifecycle', () => {
  it('creates a dev consortium, mines, serves blocks and problem details', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const node = await startNode(FAST, { dataDir: dir });
    try {
      await access(join(dir, 'api-token'));
      expect((await node.token()).length).toBeGreaterThan(20);
      const health = await node.get('/health');
      expect(health.status).toBe(200);
      const h = (await health.json()) as { status: string; height: number; peers: number; synced: boolean };
      expect(h.status).toBe('ok');
      expect(h.peers).toBe(0);
      expect(h.synced).toBe(true);

      await waitFor('3 blocks', async () => (await tipHeight(node.api)) >= 3, 60_000);
      const tip = (await (await node.get('/blocks/tip')).json()) as BlockJson;
      expect(tip.header).toMatch(/^[0-9a-f]{224}$/);
      expect(tip.hash).toMatch(/^[0-9a-f]{64}$/);
      const byHeight = (await (await node.get(`/blocks/${tip.height}`)).json()) as BlockJson;
      const byHash = (await (await node.get(`/blocks/${tip.hash}`)).json()) as BlockJson;
      expect(byHash.hash).toBe(tip.hash);
      expect(byHeight.height).toBe(tip.height);
      const parent = (await (await node.get(`/blocks/${tip.height - 1}`)).json()) as BlockJson;
      expect(tip.prevHash).toBe(parent.hash);

      const bad = await node.get('/blocks/not-a-block');
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await bad.json()) as { type: string; title: string; status: number; detail: string };
      expect(problem.status).toBe(400);
      expect(problem.title).toBeTruthy();
      expect(problem.detail).toBeTruthy();
      expect((await node.get('/blocks/99999999')).status).toBe(404);
      expect((await node.get('/no/such/route')).status).toBe(404);
    } finally {
      expect(await node.kill('SIGTERM')).toBe(0);
    }
    // A clean shutdown leaves a chain that audits clean.
    const audit = await runCli(['audit', '--data', dir]);
    expect(audit.stdout).toMatch(/audit ok/);
    expect(audit.code).toBe(0);
  });

  it('pending txs survive SIGKILL and SIGTERM (the tx log): replayed at start, mined, their records dropped once final; an old damaged mempool.dat is moved aside', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    // Not mining: the captures stay pending.
    let node = await startNode(FAST.concat(['--no-mine']), { dataDir: dir });
    const token = await tokenOf(dir);
    const pending: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await captureSettled(node.api, token, commissionDoc('mp', 2));
      expect(r.status).toBe(202);
      pending.push(...(r.body?.eventIds ?? []));
    }
    await node.kill('SIGKILL');
    await writeFile(join(dir, 'mempool.dat'), 'not a mempool file at all, but long enough to look at');
    node = await startNode(FAST.concat(['--no-mine']), { dataDir: dir });
    try {
      expect(node.logs.some((l) => l.includes('"restored":3') && l.includes('tx log replayed'))).toBe(true);
      expect(((await (await node.get('/health')).json()) as { mempool: number }).mempool).toBe(3);
      expect(node.logs.some((l) => l.includes('mempool.dat of an earlier release is unreadable'))).toBe(true);
      await access(join(dir, 'mempool.dat.bad'));
    } finally {
      await node.kill('SIGTERM');
    }
    node = await startNode(FAST, { dataDir: dir });
    try {
      expect(node.logs.some((l) => l.includes('"restored":3') && l.includes('tx log replayed'))).toBe(true);
      await waitFor('the replayed txs mined', async () => {
        for (const id of pending) if (!(await eventOf(node.api, id)).block) return false;
        return true;
      }, 30_000, 100);
      // Final at 6 confirmations (~1.2 s at this block interval): the records are dropped.
      await waitFor('tx log records dropped at finality', async () => /^tracechain_txlog_live_records 0$/m.test(await (await node.get('/metrics')).text()), 30_000, 200);
    } finally {
      await node.kill('SIGTERM');
    }
    expect((await readdir(join(dir, 'txlog'))).filter((n) => n.endsWith('.seg'))).toHaveLength(1);
  });

  it('survives SIGKILL while mining: audit passes and the node continues from its tip', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    let node = await startNode(FAST, { dataDir: dir });
    await waitFor('5 blocks', async () => (await tipHeight(node.api)) >= 5, 60_000);
    await node.kill('SIGKILL');
    const audit = await runCli(['audit', '--data', dir]);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    const heightAtCrash = Number(/to height (\d+)/.exec(audit.stdout)?.[1]);
    expect(heightAtCrash).toBeGreaterThanOrEqual(5);
    node = await startNode(FAST, { dataDir: dir });
    try {
      expect(await tipHeight(node.api)).toBeGreaterThanOrEqual(heightAtCrash);
      await waitFor('growth after restart', async () => (await tipHeight(node.api)) > heightAtCrash, 60_000);
    } finally {
      await node.kill('SIGTERM');
    }
  });

  it('audit names a block whose stored bytes were flipped', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const node = await startNode(FAST, { dataDir: dir });
    await waitFor('4 blocks', async () => (await tipHeight(node.api)) >= 4, 60_000);
    await node.kill('SIGTERM');
    const store = await LevelChainStore.open(join(dir, 'chain'));
    const hash = (await store.getMainHash(2)) as string;
    const bytes = (await store.getBlockBytes(hash)) as Uint8Array;
    const flipped = bytes.slice();
    flipped[50] = (flipped[50] as number) ^ 0xff; // inside the merkle root field of the header
    await store.repositories.blocks.putRaw(hash, flipped);
    await store.close();
    const audit = await runCli(['audit', '--data', dir]);
    expect(audit.code).not.toBe(0);
    expect(audit.stdout).toMatch(/audit FAILED at block 2/);
    expect(audit.stdout).toContain(hash);
  });
});
