/**
 * A new member's node from another member's snapshot: `start --snapshot FILE` refuses a damaged
 * file (the data directory unchanged), restores a good one with the snapshot checks, then syncs
 * the blocks after the snapshot's tip from its peer and serves /trace with proofs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureSettled, commissionDoc, eventOf, tipOf, tokenOf } from '../chaos/lib.js';
import { fetchSettled } from '../helpers/retry.js';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';
import { initMember } from '../../src/node/commands/init.js';
import { DataDir } from '../../src/node/data-dir.js';
import { makeGenesis } from '../../src/node/dev-consortium.js';
import { paramsForInterval } from '../../src/chain/genesis.js';

const dirs: string[] = [];
afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

async function p2pAddress(n: NodeProc): Promise<string> {
  const p = (await (await fetchSettled(n.api + '/peers')).json()) as { self: { addresses: string[] } | null };
  const a = p.self?.addresses[0];
  if (!a) throw new Error('node has no p2p address');
  return a;
}

describe('a new node from a snapshot', () => {
  it('refuses a damaged snapshot, starts from a good one, syncs the rest from its peer and serves /trace', async () => {
    const root = await tempDir('tracechain-snapshot-it-');
    dirs.push(root);
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    const members = [await initMember({ data: a, name: 'a', role: 'dev', prefixes: [], seal: true }), await initMember({ data: b, name: 'b', role: 'dev', prefixes: [], seal: true })];
    const genesis = makeGenesis('snapshot integration', members, Date.now(), paramsForInterval(200));
    for (const d of [a, b]) await new DataDir(d).writeGenesis(genesis);

    const nodeA = await startNode(['--p2p', '/ip4/127.0.0.1/tcp/0', '--workers', '1', '--log-level', 'info'], { dataDir: a });
    const token = await tokenOf(a);
    const before = commissionDoc('snapA', 3);
    const r1 = await captureSettled(nodeA.api, token, before);
    expect(r1.status).toBe(202);
    const firstId = (r1.body?.eventIds as string[])[0] as string;
    await waitFor('the first events in a block, height 10', async () => (await eventOf(nodeA.api, firstId)).block !== null && (await tipOf(nodeA.api)).height >= 10, 60_000);

    const file = join(root, 'a.backup');
    const backup = await runCli(['backup', '--data', a, '--out', file, '--api', nodeA.api, '--json'], { timeoutMs: 60_000 });
    expect(backup.code).toBe(0);
    const snapTip = (JSON.parse(backup.stdout.trim()) as { tip: { height: number } }).tip.height;
    // An event captured after the snapshot: B must get it from A.
    const after = await captureSettled(nodeA.api, token, commissionDoc('snapB', 1));
    expect(after.status).toBe(202);
    const afterId = (after.body?.eventIds as string[])[0] as string;
    await waitFor('the later event in a block above the snapshot', async () => {
      const v = await eventOf(nodeA.api, afterId);
      return v.block !== null && v.block.height > snapTip;
    }, 60_000);
    const addrA = await p2pAddress(nodeA);

    // A damaged snapshot: refused with the reason, B's directory unchanged.
    const bytes = await readFile(file);
    const bad = join(root, 'bad.backup');
    const flipped = Buffer.from(bytes);
    const mid = Math.floor(bytes.length / 2);
    flipped[mid] = (flipped[mid] as number) ^ 0x01;
    await writeFile(bad, flipped);
    const listing = async (): Promise<string[]> => (await readdir(b)).sort();
    const beforeB = await listing();
    const refused = await runCli(['start', '--data', b, '--api', '127.0.0.1:0', '--snapshot', bad, '--no-mine'], { timeoutMs: 60_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/checksum|damaged|truncated/i);
    expect(await listing()).toEqual(beforeB);

    const nodeB = await startNode(['--snapshot', file, '--p2p', '/ip4/127.0.0.1/tcp/0', '--bootstrap', addrA, '--no-mine', '--log-level', 'info'], { dataDir: b, timeoutMs: 60_000 });
    try {
      const started = nodeB.logs.map((l) => JSON.parse(l) as { msg?: string; headersChecked?: number; indexBlocksChecked?: number }).find((l) => l.msg?.startsWith('started from a snapshot'));
      expect(started?.headersChecked).toBe(snapTip);
      expect(started?.indexBlocksChecked).toBeGreaterThan(0);
      const tipA = await tipOf(nodeA.api);
      await waitFor('B synced past the snapshot', async () => (await tipOf(nodeB.api)).height >= tipA.height, 60_000);
      expect((await eventOf(nodeB.api, afterId)).status).toBe(200);
      const epc = (before.epcisBody as { eventList: { epcList: string[] }[] }).eventList[0]?.epcList[0] as string;
      const trace = (await (await fetchSettled(`${nodeB.api}/trace/${encodeURIComponent(epc)}`)).json()) as { events: { eventId: string; proof: { blockHash: string } | null }[] };
      expect(trace.events.map((e) => e.eventId)).toContain(firstId);
      expect(trace.events[0]?.proof?.blockHash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      expect(await nodeB.kill('SIGTERM')).toBe(0);
      expect(await nodeA.kill('SIGTERM')).toBe(0);
    }
    expect((await runCli(['audit', '--data', b])).code).toBe(0);
  }, 240_000);
});
