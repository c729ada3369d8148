/**
 * The audit recomputes the alert and pack records from the blocks (chain/record-replay.ts) with
 * the real trace rules: a chain with conflicts, a recall reaching a holder, a status change, an
 * undo of a dispense and a scratch-off code check audits clean; a tampered alert record, a
 * tampered pack record, a record index key the blocks do not make and a missing one are each
 * named by their key.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditChain } from '../../../src/chain/audit.js';
import { alertId, ALERT_INDEX, type AlertRecord } from '../../../src/chain/alerts.js';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { actionTxBody, signTx } from '../../../src/chain/tx.js';
import type { AlertAction, PackAction, SignedTx } from '../../../src/chain/types.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import { encodeRecord } from '../../../src/storage/codecs.js';
import { buildBlock, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, dispense, receive, recallLot, sgtin, ship, type Ev } from '../../helpers/epcis-events.js';

const SHOP = 'urn:epc:id:sgln:4012345.00001.0';
const maker = generateKeyPair();
const pharmacy = generateKeyPair();
const rules = traceRules();
let fx: Fixture;
let twice = '';
let recall = '';
const A = sgtin('ar1');
const B = sgtin('ar2');
const C = sgtin('ar3');
const D = sgtin('ar4');

const tx = (key: KeyPair, evs: Ev[]): SignedTx => makeTx(fx, evs.map((e) => e.event), key, evs.map((e) => e.id));
let seq = 0;
const action = (key: KeyPair, a: { alert: AlertAction } | { pack: PackAction }): SignedTx => signTx(actionTxBody(fx.chain.chainId, keyIdHex(key.publicKey), fx.chain.tip.time + ++seq, a), key.secretKey);
const mine = async (txs: SignedTx[]): Promise<void> => {
  const r = await fx.chain.importBlock(buildBlock(fx, { txs }));
  expect(['connected', 'reorg']).toContain(r.status);
};

beforeEach(async () => {
  fx = await makeFixture(
    { ...TEST_PARAMS, maxTxBytes: 256 * 1024, maxBlockBytes: 1024 * 1024 },
    {
      rules,
      extraMembers: [
        { name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] },
        { name: 'Pharmacy', role: 'pharmacy', key: pharmacy },
      ],
    },
  );
  await mine([tx(maker, [commission([A, B, C, D], 'LR')])]);
  await mine([tx(maker, [ship([A, B, C, D])])]);
  await mine([tx(pharmacy, [receive([A, B, C, D])])]);
  await mine([tx(pharmacy, [dispense([A], SHOP)])]);
  const second = dispense([A], SHOP);
  await mine([tx(pharmacy, [second]), tx(pharmacy, [dispense([B], SHOP)])]);
  twice = alertId('event', second.id, 'DISPENSED_TWICE', itemKeyInfo(A).key);
  // The undo of B's dispense (a pack tx that changes item state), then a recall of the lot reaching the pharmacy.
  await mine([action(pharmacy, { pack: { op: 'reactivate', item: itemKeyInfo(B).key, location: SHOP } })]);
  const r = recallLot('LR');
  await mine([tx(maker, [r]), action(maker, { alert: { op: 'status', alert: twice, status: 'investigating', reason: 'asked the pharmacy' } })]);
  recall = alertId('event', r.id, 'RECALL', `${keyIdHex(pharmacy.publicKey)}\u0000${keyIdHex(maker.publicKey)}`);
});

afterEach(async () => {
  await fx.close();
});

describe('audit of the alert and pack records', () => {
  it('a clean store passes, with every record compared', async () => {
    const [rec] = await fx.store.getRecords('alert', [recall]);
    expect(rec).toBeDefined();
    expect(((await fx.store.getRecords('alert', [twice]))[0] as AlertRecord).status).toBe('investigating');
    const report = await auditChain(fx.store, fx.genesis, rules);
    expect(report.problem).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.recordsChecked).toBe(await fx.store.countRecords());
    expect(report.recordsChecked).toBeGreaterThanOrEqual(3);
  });

  it('a tampered alert record is named by its key', async () => {
    const [rec] = await fx.store.getRecords('alert', [recall]);
    await fx.store.repositories.records.putRaw({ ns: 'alert', key: recall }, encodeRecord({ ...(rec as AlertRecord), status: 'closed', resolution: 'genuine' }));
    const report = await auditChain(fx.store, fx.genesis, rules);
    expect(report.ok).toBe(false);
    expect(report.problem?.reason).toBe(`alert record ${recall} differs from a replay of the chain`);
  });

  it('a tampered pack record is named by its key', async () => {
    const key = itemKeyInfo(B).key;
    const [rec] = await fx.store.getRecords('pack', [key]);
    expect(rec).toBeDefined();
    await fx.store.repositories.records.putRaw({ ns: 'pack', key }, encodeRecord({ ...(rec as Record<string, unknown>), stolen: true }));
    const report = await auditChain(fx.store, fx.genesis, rules);
    expect(report.problem?.reason).toBe(`pack record ${key} differs from a replay of the chain`);
  });

  it('a record index key the blocks do not make, and one they make that is missing, are named', async () => {
    const forged = `${ALERT_INDEX.owner(keyIdHex(pharmacy.publicKey))}0000000005\u0000${twice}`;
    await fx.store.repositories.recordIndex.putRaw(forged, new Uint8Array(0));
    const extra = await auditChain(fx.store, fx.genesis, rules);
    expect(extra.problem?.reason).toBe(`record index key ${JSON.stringify(forged)} in the store is not made by a replay of the chain`);
    // The other way: a store that lacks one key the blocks make (a view that hides it).
    const hidden = `${ALERT_INDEX.all}0000000005\u0000${twice}`;
    const lacking = new Proxy(fx.store, {
      get(target, prop, receiver) {
        if (prop === 'scanRecordIndex') {
          return async (prefix: string, opts: { after?: string; limit: number }) => (await target.scanRecordIndex(prefix, opts)).filter((k) => k !== hidden && k !== forged);
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const missing = await auditChain(lacking, fx.genesis, rules);
    expect(missing.problem?.reason).toBe(`record index key ${JSON.stringify(hidden)} is missing from the store (a replay of the chain makes it)`);
  });
});
