/**
 * Reliability, scenario 3: a corrupted store. One dev node captures events and mines; then,
 * on copies of its stopped data dir, each fault is injected and the invariant checked:
 * the node refuses to serve wrong data and says what is wrong, `tracechain audit` names the
 * damage, and `tracechain reindex` (with `--repair` for damaged LevelDB files) restores a
 * store where every acknowledged, mined event is found again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, cp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor } from '../helpers/node-process.js';
import { fetchSettled } from '../helpers/retry.js';
import { blockAt, captureSettled, commissionDoc, eventOf, FAST, tipOf, tokenOf } from '../chaos/lib.js';
import { COMPACT_BLOCK_SIZE, assembleBlock, expand, isCompressed, parseBlockRecord } from '../../src/storage/compact.js';

const dirs: string[] = [];
let pristine = '';
/**
 * The stopped node's data dir as it left it, before anything reopened it: its LevelDB write-ahead
 * log still holds the recent writes (any later open, audit included, moves them into a table and
 * starts an empty log, which a truncation could not damage).
 */
let withLog = '';
let acked: string[] = [];
let tipHeight = 0;
/** A main-chain block carrying at least one tx: [height, hash]. */
let txBlock: { height: number; hash: string } = { height: 0, hash: '' };

async function copyOf(): Promise<string> {
  const d = await tempDir('tracechain-rel-store-');
  dirs.push(d);
  await rm(d, { recursive: true, force: true });
  await cp(pristine, d, { recursive: true });
  return d;
}

async function withDb<T>(dataDir: string, fn: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<T>): Promise<T> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dataDir, 'chain'), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const hexKey = (prefix: number, hex: string): Uint8Array => Uint8Array.from([prefix, ...Buffer.from(hex, 'hex')]);

/** Start the node on `dir`, check every acknowledged event is in a block, stop it. */
async function allEventsFound(dir: string): Promise<number> {
  const node = await startNode(FAST.concat(['--no-mine']), { dataDir: dir });
  try {
    let found = 0;
    for (const id of acked) if ((await eventOf(node.api, id)).block) found++;
    return found;
  } finally {
    await node.kill();
  }
}

beforeAll(async () => {
  pristine = await tempDir('tracechain-rel-store-');
  dirs.push(pristine);
  const node = await startNode(FAST, { dataDir: pristine });
  const token = await tokenOf(pristine);
  for (let i = 0; i < 8; i++) {
    const r = await captureSettled(node.api, token, commissionDoc('st', 3));
    expect(r.status).toBe(202);
    acked.push(...(r.body?.eventIds ?? []));
  }
  await waitFor('all captured events mined', async () => {
    for (const id of acked) if (!(await eventOf(node.api, id)).block) return false;
    return true;
  }, 60_000);
  const first = await eventOf(node.api, acked[0] as string);
  txBlock = first.block as { height: number; hash: string };
  await node.kill('SIGTERM');
  withLog = await tempDir('tracechain-rel-store-log-');
  dirs.push(withLog);
  await rm(withLog, { recursive: true, force: true });
  await cp(pristine, withLog, { recursive: true });
  const audit = JSON.parse((await runCli(['audit', '--data', pristine, '--json'])).stdout) as { ok: boolean; tipHeight: number };
  expect(audit.ok).toBe(true);
  tipHeight = audit.tipHeight;
  acked = [...new Set(acked)];
}, 120_000);

afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

describe('reliability: corrupted store', () => {
  it('garbled and deleted index entries: audit names them, reindex rebuilds every index', async () => {
    const dir = await copyOf();
    await withDb(dir, async (db) => {
      // Garble every item record, delete the main-chain entry and tx locations of one block.
      for await (const k of db.keys({ gt: Uint8Array.of(0x07), lt: Uint8Array.of(0x08) })) await db.put(k, Buffer.from('{"garbage'));
      const heightKey = Buffer.alloc(5);
      heightKey[0] = 0x03;
      heightKey.writeUInt32BE(txBlock.height, 1);
      await db.del(heightKey);
      for await (const k of db.keys({ gt: Uint8Array.of(0x04), lt: Uint8Array.of(0x05), limit: 5 })) await db.del(k);
    });
    const bad = await runCli(['audit', '--data', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/audit FAILED/);
    const re = await runCli(['reindex', '--data', dir, '--json']);
    expect(re.code, re.stderr).toBe(0);
    const report = JSON.parse(re.stdout) as { ok: boolean; height: number; blocksConnected: number };
    expect(report.height).toBe(tipHeight);
    expect((await runCli(['audit', '--data', dir])).code).toBe(0);
    expect(await allEventsFound(dir)).toBe(acked.length);
  });

  it('a flipped byte in a stored block (its txs: compressed, checksummed records): never served, audit and reindex name the block', async () => {
    const dir = await copyOf();
    await withDb(dir, async (db) => {
      // The block record is its head; its txs are its blockTxs records (storage/compact.ts).
      expect(((await db.get(hexKey(0x01, txBlock.hash))) as Uint8Array).length).toBe(COMPACT_BLOCK_SIZE);
      const prefix = hexKey(0x0b, txBlock.hash);
      let flipped = 0;
      for await (const [k, v] of db.iterator({ gte: prefix, lt: Uint8Array.from([...prefix, 0xff, 0xff, 0xff, 0xff, 0xff]) })) {
        const tx = Buffer.from(v);
        expect(isCompressed(tx)).toBe(true);
        tx[tx.length >> 1] = (tx[tx.length >> 1] as number) ^ 0x04;
        await db.put(k, tx);
        flipped++;
      }
      expect(flipped).toBeGreaterThan(0);
    });
    const node = await startNode(FAST.concat(['--no-mine']), { dataDir: dir });
    try {
      // A node just started on a loaded machine may shed a read (503 + Retry-After): asked again.
      const res = await fetchSettled(`${node.api}/blocks/${txBlock.hash}`);
      expect(res.status).toBe(500);
      const problem = (await res.json()) as { code: string; detail: string };
      expect(problem.code).toBe('STORE_DAMAGED');
      expect(problem.detail).toContain(txBlock.hash);
      expect((await blockAt(node.api, txBlock.height)).status).toBe(500);
      const ev = await fetchSettled(`${node.api}/events/${encodeURIComponent(acked[0] as string)}/proof`);
      expect([500]).toContain(ev.status);
      expect(((await ev.json()) as { type: string }).type).toMatch(/store-damaged/);
      expect((await node.get('/health')).status).toBe(200); // the node stays up for the rest
    } finally {
      await node.kill();
    }
    const audit = await runCli(['audit', '--data', dir]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toContain(`block ${txBlock.height}`);
    const re = await runCli(['reindex', '--data', dir]);
    expect(re.code).toBe(1);
    expect(re.stderr).toContain(txBlock.hash);
    expect(re.stderr).toMatch(/re-sync/);
  });

  it('a block stored by the build before the compact store, with a flipped byte in its per-tx copy (kept for proofs): never served, audit names the block, reindex rewrites the copy', async () => {
    const dir = await copyOf();
    await withDb(dir, async (db) => {
      // The block as the previous build stored it: the whole block, and a plain copy of each tx.
      const head = parseBlockRecord((await db.get(hexKey(0x01, txBlock.hash))) as Uint8Array);
      if (head.kind !== 'compact') throw new Error('expected a compact block record');
      const prefix = hexKey(0x0b, txBlock.hash);
      const txs: [Uint8Array, Uint8Array][] = [];
      for await (const [k, v] of db.iterator({ gte: prefix, lt: Uint8Array.from([...prefix, 0xff, 0xff, 0xff, 0xff, 0xff]) })) txs.push([k.slice(), expand(v, 'tx').slice()]);
      await db.put(hexKey(0x01, txBlock.hash), assembleBlock(head.head, txs.map(([, t]) => t)));
      for (const [k, plain] of txs) {
        const tx = Buffer.from(plain);
        tx[tx.length - 3] = (tx[tx.length - 3] as number) ^ 0x01; // inside the tail ("…,"v":1}"): still the right length
        await db.put(k, tx);
      }
    });
    let node = await startNode(FAST.concat(['--no-mine']), { dataDir: dir });
    try {
      const ev = await fetchSettled(`${node.api}/events/${encodeURIComponent(acked[0] as string)}/proof`);
      expect(ev.status).toBe(500);
      expect(((await ev.json()) as { code: string }).code).toBe('STORE_DAMAGED');
    } finally {
      await node.kill();
    }
    const audit = await runCli(['audit', '--data', dir]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/copy of tx \d+ \(for proofs\) differs from the block/);
    const re = await runCli(['reindex', '--data', dir, '--json']);
    expect(re.code, re.stderr).toBe(0);
    expect((JSON.parse(re.stdout) as { proofRecords: number }).proofRecords).toBe(tipHeight);
    expect((await runCli(['audit', '--data', dir])).code).toBe(0);
    expect(await allEventsFound(dir)).toBe(acked.length);
    node = await startNode(FAST.concat(['--no-mine']), { dataDir: dir });
    await node.kill();
  });

  it('deleted LevelDB CURRENT/MANIFEST: the node refuses to start and says why; reindex --repair restores it', async () => {
    const dir = await copyOf();
    for (const f of await readdir(join(dir, 'chain'))) if (f === 'CURRENT' || f.startsWith('MANIFEST-')) await rm(join(dir, 'chain', f));
    await expect(startNode(FAST.concat(['--no-mine']), { dataDir: dir, timeoutMs: 20_000 })).rejects.toThrow(/chain database/);
    const plain = await runCli(['reindex', '--data', dir]);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/--repair/);
    const re = await runCli(['reindex', '--data', dir, '--repair', '--json']);
    expect(re.code, re.stderr).toBe(0);
    expect((JSON.parse(re.stdout) as { height: number }).height).toBe(tipHeight);
    expect((await runCli(['audit', '--data', dir])).code).toBe(0);
    expect(await allEventsFound(dir)).toBe(acked.length);
  });

  it('a truncated write-ahead log: the node starts on a consistent earlier tip that audit accepts', async () => {
    const dir = withLog;
    const logs = (await readdir(join(dir, 'chain'))).filter((f) => f.endsWith('.log'));
    const sizes = await Promise.all(logs.map(async (f) => ({ f, size: (await stat(join(dir, 'chain', f))).size })));
    const log = sizes.sort((a, b) => b.size - a.size)[0];
    // The fault must hit something: a log with records in it (see withLog), cut by 3,000 bytes.
    expect(log, `no write-ahead log in ${JSON.stringify(sizes)}`).toBeDefined();
    const p = join(dir, 'chain', (log as { f: string }).f);
    const before = (log as { size: number }).size;
    expect(before, 'the log to truncate holds records').toBeGreaterThan(4096);
    await truncate(p, before - 3000);
    const cut = before - (await stat(p)).size;
    expect(cut).toBe(3000);
    // Garbage appended after the cut (a torn write) must be dropped, not read as a record.
    await appendFile(p, Buffer.alloc(100, 0xab));
    expect((await stat(p)).size).toBe(before - 3000 + 100);
    const node = await startNode(FAST.concat(['--no-mine']), { dataDir: dir });
    const tip = await tipOf(node.api);
    await node.kill();
    expect(tip.height).toBeLessThanOrEqual(tipHeight);
    const audit = await runCli(['audit', '--data', dir]);
    expect(audit.code, `${audit.stdout} (cut ${cut} bytes of ${before})`).toBe(0);
    console.log(`reliability-store log figures ${JSON.stringify({ logBytes: before, cut, garbage: 100, tipBefore: tipHeight, tipAfter: tip.height })}`);
  });
});
