/**
 * Start-up replay of the tx log and the one-time import of an earlier release's mempool.dat:
 * after a crash (only what was fsynced survives) every acknowledged pending tx is back in the
 * mempool in capture order, mined ones are kept for finality, a tx refused for good is dropped
 * and logged; a legacy mempool.dat goes into the tx log and is deleted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { toHex } from '../../../src/common/bytes.js';
import { canonicalTx, txId } from '../../../src/chain/tx.js';
import { InlineTxVerifier } from '../../../src/chain/tx-verifier.js';
import { FileTxLog } from '../../../src/storage/tx-log.js';
import { encodeMempoolFile } from '../../../src/storage/mempool-file.js';
import { importLegacyMempool } from '../../../src/node/legacy-mempool.js';
import { replayTxLog } from '../../../src/node/tx-log-replay.js';
import { buildBlock, makeFixture, makeTx, TEST_PARAMS, testRules, type Fixture, type FixtureOptions } from '../../helpers/chain-fixture.js';
import { MemLogFs } from '../storage/mem-log-fs.js';

const DIR = '/data/txlog';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const silent = pino({ level: 'silent' });

async function openLog(fs: MemLogFs): Promise<FileTxLog> {
  return (await FileTxLog.open({ dir: DIR, maxPayloadBytes: TEST_PARAMS.maxTxBytes }, { logger: quiet, fs })).log;
}

describe('tx log replay at start', () => {
  let fx: Fixture;
  let dir: string | undefined;
  afterEach(async () => {
    await fx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('after a crash: acknowledged pending txs are back in the mempool in order, a mined one is kept, a bad one dropped', async () => {
    const fs = new MemLogFs();
    const modules: FixtureOptions = { txLog: await openLog(fs) };
    fx = await makeFixture(undefined, modules);
    const txs = [0, 1, 2, 3].map((i) => makeTx(fx, [{ epc: `urn:x:p${i}`, action: 'commission' }]));
    for (const t of txs) await fx.chain.submitTx(t);
    await fx.chain.importBlock(buildBlock(fx, { txs: [txs[0] as (typeof txs)[number]] }));
    // A record whose tx no longer verifies (its signature altered): refused for good at replay.
    const forged = { ...makeTx(fx, [{ epc: 'urn:x:forged', action: 'commission' }]), sig: 'ab'.repeat(64) };
    const fc = canonicalTx(forged);
    await modules.txLog?.appendTx(fc.id, fc.bytes);
    // The crash: nothing closed; only the fsynced bytes survive.
    const crashed = new MemLogFs();
    crashed.load(fs.crashImage());
    const log = await openLog(crashed);
    modules.txLog = log;
    const chain = await fx.reopen();
    expect(chain.mempool.size).toBe(0);
    const verifier = new InlineTxVerifier({ chainId: chain.chainId }, { registry: chain.registry, rules: testRules });
    const figures = await replayTxLog(log, chain, verifier, silent);
    expect(figures).toEqual({ records: 5, restored: 3, kept: { ALREADY_KNOWN: 1 }, dropped: { BAD_SIGNATURE: 1 } });
    expect(chain.mempool.select(1 << 20).map((e) => e.idHex)).toEqual(txs.slice(1).map((t) => toHex(txId(t))));
    // Replayed txs were not appended again; the forged one's record is gone, the mined one's kept.
    expect(log.stats().appends).toBe(0);
    expect([...log.liveTxIds()].sort()).toEqual(txs.map((t) => toHex(txId(t))).sort());
  });

  it("an earlier release's mempool.dat is admitted once into the tx log, then deleted; a damaged one is moved aside", async () => {
    const fs = new MemLogFs();
    const log = await openLog(fs);
    fx = await makeFixture(undefined, { txLog: log });
    dir = await mkdtemp(join(tmpdir(), 'tracechain-legacy-'));
    const path = join(dir, 'mempool.dat');
    const txs = [0, 1].map((i) => makeTx(fx, [{ epc: `urn:x:l${i}`, action: 'commission' }]));
    await writeFile(path, encodeMempoolFile(txs.map((t) => canonicalTx(t).bytes)));
    expect(await importLegacyMempool(path, fx.chain, silent)).toEqual({ saved: 2, restored: 2, dropped: {} });
    await expect(access(path)).rejects.toThrow();
    // Admitted concurrently (signatures on the verifier pool): the log holds both, in the order their checks finished.
    expect([...log.liveTxIds()].sort()).toEqual(txs.map((t) => toHex(txId(t))).sort());
    expect(fx.chain.mempool.size).toBe(2);
    await writeFile(path, 'not a mempool file at all, but long enough to look at');
    expect(await importLegacyMempool(path, fx.chain, silent)).toBeUndefined();
    await access(`${path}.bad`);
    await log.close();
  });

  it("mempool.dat stays for the next start when the tx log refuses writes", async () => {
    const fs = new MemLogFs();
    const log = await openLog(fs);
    fx = await makeFixture(undefined, { txLog: log });
    dir = await mkdtemp(join(tmpdir(), 'tracechain-legacy-'));
    const path = join(dir, 'mempool.dat');
    const tx = makeTx(fx, [{ epc: 'urn:x:l9', action: 'commission' }]);
    await writeFile(path, encodeMempoolFile([canonicalTx(tx).bytes]));
    log.suspendWrites('disk space low');
    expect(await importLegacyMempool(path, fx.chain, silent)).toEqual({ saved: 1, restored: 0, dropped: {} });
    await access(path);
    expect(fx.chain.mempool.size).toBe(0);
    await log.close();
  });
});
