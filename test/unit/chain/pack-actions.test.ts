/**
 * Pack txs on the chain (chain/alert-state.ts, reactivation.ts) with the real trace rules: the
 * undo of a dispense (day 9: active again; day 11: refused with an alert; another member:
 * refused; a recalled, stolen or destroyed pack: refused), and scratch-off code checks (the first
 * right check recorded, a second raises SCRATCH_CODE_REUSED, a proof that does not match the
 * commitment raises SCRATCH_CODE_INVALID_PROOF, reported wrong codes raise SCRATCH_CODE_GUESSING).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditChain } from '../../../src/chain/audit.js';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { actionTxBody, signTx } from '../../../src/chain/tx.js';
import { queryAlerts } from '../../../src/chain/alert-query.js';
import { alertIdOfIndexKey, type AlertRecord, type PackRecord } from '../../../src/chain/alerts.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import { commitScratchCode, scratchProof } from '../../../src/trace/scratch-code.js';
import type { PackAction, SignedTx } from '../../../src/chain/types.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import { buildBlock, GENESIS_TIME, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, destroy, dispense, receive, recallPacks, sgtin, ship, stolen } from '../../helpers/epcis-events.js';

const DAY = 86_400_000;
const SHOP = 'urn:epc:id:sgln:4012345.00001.0';
let fx: Fixture;
const maker = generateKeyPair();
const pharmacy = generateKeyPair();
const other = generateKeyPair();
const makerId = keyIdHex(maker.publicKey);

beforeEach(async () => {
  fx = await makeFixture(
    { ...TEST_PARAMS, maxTxBytes: 256 * 1024, maxBlockBytes: 1024 * 1024 },
    {
      rules: traceRules(),
      extraMembers: [
        { name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] },
        { name: 'Pharmacy', role: 'pharmacy', key: pharmacy },
        { name: 'Other pharmacy', role: 'pharmacy', key: other },
      ],
    },
  );
  fx.clock.now = GENESIS_TIME + 400 * DAY;
});
afterEach(async () => {
  // The audit's replay of the alert and pack records (chain/record-replay.ts) agrees with what each scenario's connects wrote.
  const report = await auditChain(fx.store, fx.genesis, traceRules());
  expect(report.problem).toBeNull();
  await fx.close();
});

const keyOf = (epc: string): string => itemKeyInfo(epc).key;
let seq = 0;

function tx(key: KeyPair, evs: { event: Record<string, unknown>; id: string }[]): SignedTx {
  return makeTx(fx, evs.map((e) => e.event), key, evs.map((e) => e.id));
}

function packTx(key: KeyPair, pack: PackAction): SignedTx {
  return signTx(actionTxBody(fx.chain.chainId, keyIdHex(key.publicKey), GENESIS_TIME + ++seq, { pack }), key.secretKey);
}

async function mine(txs: SignedTx[], time?: number): Promise<HeaderEntry> {
  const b = buildBlock(fx, { txs, ...(time !== undefined ? { time } : {}) });
  await fx.chain.importBlock(b);
  return fx.chain.header(b.hashHex) as HeaderEntry;
}

async function item(epc: string): Promise<Record<string, unknown>> {
  return (await fx.store.getItem(keyOf(epc))) as Record<string, unknown>;
}

async function alertsOn(epc: string): Promise<AlertRecord[]> {
  return (await queryAlerts(fx.store, {}, { limit: 100 })).alerts.filter((a) => a.items.includes(keyOf(epc)));
}

/** A pack commissioned, shipped, received and dispensed by Pharmacy at SHOP; returns the dispense block's time. */
async function dispensed(epc: string): Promise<number> {
  await mine([tx(maker, [commission([epc], 'L1')])]);
  await mine([tx(maker, [ship([epc])])]);
  await mine([tx(pharmacy, [receive([epc])])]);
  return (await mine([tx(pharmacy, [dispense([epc], SHOP)])])).time;
}

describe('undo of a dispense', () => {
  it('day 9: the member that dispensed, at the same location, makes the pack active again', async () => {
    const epc = sgtin('u9');
    const t = await dispensed(epc);
    expect(await item(epc)).toMatchObject({ status: 'dispensed' });
    await mine([packTx(pharmacy, { op: 'reactivate', item: keyOf(epc), location: SHOP })], t + 9 * DAY);
    expect(await item(epc)).toMatchObject({ status: 'active', lifecycle: 'active' });
    expect(await alertsOn(epc)).toEqual([]);
    const [p] = await fx.store.getRecords('pack', [keyOf(epc)]);
    expect((p as PackRecord).left).toBeNull();
    // Dispensing it again is no conflict: it was active.
    await mine([tx(pharmacy, [dispense([epc], SHOP)])], t + 9 * DAY + 10_000);
    expect(await item(epc)).toMatchObject({ status: 'dispensed' });
  });

  it('day 11: refused, the pack stays dispensed, and an alert REACTIVATE_TOO_LATE goes to the manufacturer', async () => {
    const epc = sgtin('u11');
    const t = await dispensed(epc);
    await mine([packTx(pharmacy, { op: 'reactivate', item: keyOf(epc), location: SHOP })], t + 11 * DAY);
    expect(await item(epc)).toMatchObject({ status: 'dispensed' });
    expect((await alertsOn(epc)).map((a) => [a.code, a.owner])).toEqual([['REACTIVATE_TOO_LATE', makerId]]);
  });

  it('another member: refused with REACTIVATE_OTHER_MEMBER; another location: REACTIVATE_OTHER_LOCATION', async () => {
    const epc = sgtin('uo');
    const t = await dispensed(epc);
    await mine([packTx(other, { op: 'reactivate', item: keyOf(epc), location: SHOP })], t + DAY);
    await mine([packTx(pharmacy, { op: 'reactivate', item: keyOf(epc), location: 'urn:epc:id:sgln:4012345.00002.0' })], t + 2 * DAY);
    expect(await item(epc)).toMatchObject({ status: 'dispensed' });
    expect((await alertsOn(epc)).map((a) => a.code)).toEqual(['REACTIVATE_OTHER_MEMBER', 'REACTIVATE_OTHER_LOCATION']);
  });

  it('a recalled pack: refused with REACTIVATE_RECALLED', async () => {
    const epc = sgtin('ur');
    const t = await dispensed(epc);
    await mine([tx(maker, [recallPacks([epc])])], t + DAY);
    await mine([packTx(pharmacy, { op: 'reactivate', item: keyOf(epc), location: SHOP })], t + 2 * DAY);
    expect(await item(epc)).toMatchObject({ lifecycle: 'dispensed' });
    expect((await alertsOn(epc)).map((a) => a.code)).toContain('REACTIVATE_RECALLED');
  });

  it('a stolen pack and a destroyed pack: refused with REACTIVATE_STOLEN and REACTIVATE_DESTROYED', async () => {
    const a = sgtin('us');
    const t = await dispensed(a);
    await mine([tx(fx.sealer, [stolen([a])])], t + DAY);
    await mine([packTx(pharmacy, { op: 'reactivate', item: keyOf(a), location: SHOP })], t + 2 * DAY);
    expect((await alertsOn(a)).map((x) => [x.code, x.owner])).toEqual([
      ['REPORTED_STOLEN', makerId],
      ['REACTIVATE_STOLEN', makerId],
    ]);
    const b = sgtin('ud');
    await mine([tx(maker, [commission([b], 'L2')])]);
    await mine([tx(maker, [destroy([b])])]);
    await mine([packTx(maker, { op: 'reactivate', item: keyOf(b), location: null })]);
    expect((await alertsOn(b)).map((x) => x.code)).toEqual(['REACTIVATE_DESTROYED']);
  });
  it('an expired pack: REACTIVATE_EXPIRED; a pack never dispensed: REACTIVATE_NOT_INACTIVE; an unknown pack: REACTIVATE_NOT_INACTIVE', async () => {
    const e = sgtin('ue');
    const t0 = new Date(GENESIS_TIME + 1 * DAY).toISOString().slice(0, 10);
    await mine([tx(maker, [commission([e], 'L4', t0)])]);
    await mine([tx(maker, [ship([e])])]);
    await mine([tx(pharmacy, [receive([e])])]);
    const t = (await mine([tx(pharmacy, [dispense([e], SHOP)])])).time;
    await mine([packTx(pharmacy, { op: 'reactivate', item: keyOf(e), location: SHOP })], t + 3 * DAY);
    expect(await item(e)).toMatchObject({ lifecycle: 'dispensed' });
    expect((await alertsOn(e)).map((a) => a.code)).toContain('REACTIVATE_EXPIRED');
    const n = sgtin('un');
    await mine([tx(maker, [commission([n], 'L1')])]);
    await mine([packTx(maker, { op: 'reactivate', item: keyOf(n), location: null })]);
    expect(await item(n)).toMatchObject({ lifecycle: 'active' });
    expect((await alertsOn(n)).map((a) => a.code)).toEqual(['REACTIVATE_NOT_INACTIVE']);
    const u = sgtin('never-seen');
    await mine([packTx(pharmacy, { op: 'reactivate', item: keyOf(u), location: SHOP })]);
    expect((await alertsOn(u)).map((a) => a.code)).toEqual(['REACTIVATE_NOT_INACTIVE']);
  });
});

describe('scratch-off code checks', () => {
  const SALT = '00112233445566778899aabbccddeeff';
  it('the first right check is recorded; a second raises SCRATCH_CODE_REUSED naming the first; a wrong proof raises SCRATCH_CODE_INVALID_PROOF; reported guesses raise SCRATCH_CODE_GUESSING', async () => {
    const epc = sgtin('c1');
    const key = keyOf(epc);
    await mine([tx(maker, [commission([epc], 'L3', '2030-12-31', [commitScratchCode(epc, 'K7Q2-99XZ', SALT)])])]);
    const [p0] = await fx.store.getRecords('pack', [key]);
    expect((p0 as PackRecord).code).toMatchObject({ salt: SALT });
    const proof = scratchProof(SALT, 'K7Q2-99XZ');
    await mine([packTx(pharmacy, { op: 'code-check', item: key, proof, location: SHOP })]);
    expect(await alertsOn(epc)).toEqual([]);
    await mine([packTx(other, { op: 'code-check', item: key, proof, location: 'urn:epc:id:sgln:4012345.00009.0' })]);
    const reused = await alertsOn(epc);
    expect(reused.map((a) => [a.code, a.owner])).toEqual([['SCRATCH_CODE_REUSED', makerId]]);
    expect(reused[0]?.message).toContain(SHOP);
    await mine([packTx(other, { op: 'code-check', item: key, proof: scratchProof(SALT, 'WRONG-CODE'), location: null })]);
    await mine([packTx(other, { op: 'code-guess', item: key, failures: 10, location: null })]);
    expect((await alertsOn(epc)).map((a) => a.code)).toEqual(['SCRATCH_CODE_REUSED', 'SCRATCH_CODE_INVALID_PROOF', 'SCRATCH_CODE_GUESSING']);
    const [p] = await fx.store.getRecords('pack', [key]);
    expect((p as PackRecord).checks).toHaveLength(2);
  });
});

describe('reindex', () => {
  it('rebuilds every alert, pack record and index key from the blocks, as they were', async () => {
    const SALT = '00112233445566778899aabbccddeeff';
    const a = sgtin('x1');
    const b = sgtin('x2');
    await mine([tx(maker, [commission([a, b], 'L9', '2030-12-31', [commitScratchCode(a, 'RIGHT-CODE', SALT)])])]);
    await mine([tx(maker, [ship([a, b])])]);
    await mine([tx(pharmacy, [receive([a, b])])]);
    const t = (await mine([tx(pharmacy, [dispense([b], SHOP), dispense([b], SHOP)])])).time;
    await mine([packTx(pharmacy, { op: 'code-check', item: keyOf(a), proof: scratchProof(SALT, 'RIGHT-CODE'), location: SHOP })]);
    await mine([packTx(other, { op: 'code-check', item: keyOf(a), proof: scratchProof(SALT, 'RIGHT-CODE'), location: null })]);
    await mine([packTx(other, { op: 'reactivate', item: keyOf(b), location: SHOP })], t + DAY);
    await mine([tx(maker, [recallPacks([a])])], t + 2 * DAY);
    const snapshot = async (): Promise<{ index: string[]; alerts: unknown[]; packs: unknown[] }> => {
      const index = [...(await fx.store.scanRecordIndex('a', { limit: 10_000 })), ...(await fx.store.scanRecordIndex('i', { limit: 10_000 }))];
      const ids = (await fx.store.scanRecordIndex('aa\u0000', { limit: 10_000 })).map(alertIdOfIndexKey);
      return { index, alerts: await fx.store.getRecords('alert', ids), packs: await fx.store.getRecords('pack', [keyOf(a), keyOf(b)]) };
    };
    const before = await snapshot();
    expect(before.alerts.length).toBeGreaterThanOrEqual(4);
    expect(before.index.some((k) => k.startsWith('il\u0000'))).toBe(true);
    await fx.chain.close();
    await fx.store.clearIndexes();
    expect((await snapshot()).index).toEqual([]);
    await fx.reopen();
    expect(await snapshot()).toEqual(before);
  });
});
