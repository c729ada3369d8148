/**
 * Alerts as chain state (chain/alert-state.ts, connect.ts) with the real trace rules: a business
 * conflict and a recall become alerts with IDs derived from their events, owned by the member
 * whose GS1 prefix the GTIN carries; a reorg removes them and their index keys and a reconnect
 * restores them; the lifecycle is changed by signed txs and each illegal change is refused with
 * its code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { actionTxBody, signTx } from '../../../src/chain/tx.js';
import { alertId, type AlertRecord } from '../../../src/chain/alerts.js';
import { alertCursorAfterHeight, queryAlerts, getAlert } from '../../../src/chain/alert-query.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import { TxError } from '../../../src/common/errors.js';
import type { AlertAction, SignedTx } from '../../../src/chain/types.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import { buildBlock, GENESIS_TIME, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, dispense, GTIN, receive, recallLot, sgtin, ship } from '../../helpers/epcis-events.js';

let fx: Fixture;
const maker = generateKeyPair();
const pharmacy = generateKeyPair();
const regulator = generateKeyPair();
const makerId = keyIdHex(maker.publicKey);
const pharmacyId = keyIdHex(pharmacy.publicKey);

beforeEach(async () => {
  fx = await makeFixture(
    { ...TEST_PARAMS, maxTxBytes: 256 * 1024, maxBlockBytes: 1024 * 1024 },
    {
      rules: traceRules(),
      extraMembers: [
        { name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] },
        { name: 'Pharmacy', role: 'pharmacy', key: pharmacy },
        { name: 'Regulator', role: 'regulator', key: regulator },
      ],
    },
  );
});
afterEach(async () => fx.close());

const keyOf = (epc: string): string => itemKeyInfo(epc).key;
let seq = 0;

function tx(key: KeyPair, evs: { event: Record<string, unknown>; id: string }[]): SignedTx {
  return makeTx(fx, evs.map((e) => e.event), key, evs.map((e) => e.id));
}

function alertTx(key: KeyPair, alert: AlertAction): SignedTx {
  return signTx(actionTxBody(fx.chain.chainId, keyIdHex(key.publicKey), GENESIS_TIME + ++seq, { alert }), key.secretKey);
}

async function mine(txs: SignedTx[], parent?: HeaderEntry): Promise<HeaderEntry> {
  const b = buildBlock(fx, { txs, ...(parent ? { parent } : {}) });
  await fx.chain.importBlock(b);
  return fx.chain.header(b.hashHex) as HeaderEntry;
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof TxError) return err.code;
  throw err ?? new Error('expected a refusal');
}

/** Two packs commissioned by Maker, shipped and received by Pharmacy, the first dispensed twice. */
async function dispensedTwice(): Promise<{ alert: string; second: string; g: HeaderEntry }> {
  const epcs = [sgtin('a1'), sgtin('a2')];
  await mine([tx(maker, [commission(epcs, 'L1')])]);
  await mine([tx(maker, [ship(epcs)])]);
  await mine([tx(pharmacy, [receive(epcs)])]);
  await mine([tx(pharmacy, [dispense([epcs[0] as string])])]);
  const g = fx.chain.tip;
  const second = dispense([epcs[0] as string]);
  await mine([tx(pharmacy, [second])]);
  return { alert: alertId('event', second.id, 'DISPENSED_TWICE', keyOf(epcs[0] as string)), second: second.id, g };
}

describe('alerts from business conflicts', () => {
  it('a pack dispensed twice raises one alert with an ID from its event, owned by the GTIN prefix holder; a reorg removes it, a reconnect restores it', async () => {
    const { alert, g } = await dispensedTwice();
    const rec = (await getAlert(fx.store, alert)) as AlertRecord;
    expect(rec).toMatchObject({ id: alert, code: 'DISPENSED_TWICE', owner: makerId, status: 'new', gtin: GTIN, lot: 'L1', items: [keyOf(sgtin('a1'))] });
    expect(rec.parties).toContain(pharmacyId);
    expect((await queryAlerts(fx.store, { owner: makerId }, { limit: 10 })).alerts.map((a) => a.id)).toEqual([alert]);
    expect((await queryAlerts(fx.store, { party: pharmacyId, status: 'new' }, { limit: 10 })).alerts.map((a) => a.id)).toEqual([alert]);
    expect((await queryAlerts(fx.store, { lot: { gtin: GTIN, lot: 'L1' } }, { limit: 10 })).alerts).toHaveLength(1);

    // A heavier branch from before the second dispense: the alert and its index keys go.
    const tipBefore = fx.chain.tip;
    const a = await mine([], g);
    await mine([], a);
    expect(fx.chain.tip.hash).not.toBe(tipBefore.hash);
    expect(await getAlert(fx.store, alert)).toBeUndefined();
    expect((await queryAlerts(fx.store, {}, { limit: 10 })).alerts).toEqual([]);
    expect(await fx.store.scanRecordIndex('a', { limit: 10 })).toEqual([]);
    // The first branch grows heavier again: the same alert, same ID, is back with its index keys.
    const c = await mine([], tipBefore);
    await mine([], c);
    await mine([], fx.chain.tip);
    expect(await getAlert(fx.store, alert)).toEqual(rec);
    expect((await queryAlerts(fx.store, { owner: makerId }, { limit: 10 })).alerts.map((x) => x.id)).toEqual([alert]);
  });

  it('a recall of a lot raises one alert per holder of unsold packs, naming them', async () => {
    const epcs = [1, 2, 3, 4].map((i) => sgtin(`r${i}`));
    await mine([tx(maker, [commission(epcs, 'L7')])]);
    await mine([tx(maker, [ship(epcs.slice(0, 3))])]);
    await mine([tx(pharmacy, [receive(epcs.slice(0, 3))])]);
    await mine([tx(pharmacy, [dispense([epcs[0] as string])])]);
    const recall = recallLot('L7');
    await mine([tx(maker, [recall])]);
    const all = (await queryAlerts(fx.store, { lot: { gtin: GTIN, lot: 'L7' } }, { limit: 10 })).alerts;
    const byHolder = new Map(all.map((a) => [a.parties.find((p) => p !== makerId) ?? makerId, a]));
    expect(all.every((a) => a.code === 'RECALL' && a.owner === makerId)).toBe(true);
    // Pharmacy holds 2 unsold packs (one was dispensed); Maker still holds the 4th.
    expect(byHolder.get(pharmacyId)?.items).toEqual([epcs[1], epcs[2]].map((e) => keyOf(e as string)).sort());
    expect(all.find((a) => a.items.includes(keyOf(epcs[3] as string)))?.id).toBe(alertId('event', recall.id, 'RECALL', `${makerId}\u0000${makerId}`));
    expect(all).toHaveLength(2);
    // A subscriber's cursor: the alerts raised after a height, in the order raised.
    const h = all[0]?.raisedBy.height as number;
    expect((await queryAlerts(fx.store, {}, { limit: 10, after: alertCursorAfterHeight(h - 1) })).alerts.map((a) => a.id)).toEqual(all.map((a) => a.id));
    expect((await queryAlerts(fx.store, {}, { limit: 10, after: alertCursorAfterHeight(h) })).alerts).toEqual([]);
  });
});

describe('alert lifecycle', () => {
  it('the owner moves an alert new → investigating → closed, with reasons in its history', async () => {
    const { alert } = await dispensedTwice();
    await fx.chain.submitTx(alertTx(maker, { op: 'status', alert, status: 'investigating', reason: 'asked the pharmacy' }));
    await mine(fx.chain.selectForBlock(1 << 20).map((e) => e.tx));
    await fx.chain.submitTx(alertTx(maker, { op: 'status', alert, status: 'closed', resolution: 'process_error', reason: 'scanned twice' }));
    await mine(fx.chain.selectForBlock(1 << 20).map((e) => e.tx));
    const rec = (await getAlert(fx.store, alert)) as AlertRecord;
    expect(rec).toMatchObject({ status: 'closed', resolution: 'process_error' });
    expect(rec.history.map((h) => [h.status, h.reason, h.by])).toEqual([
      ['investigating', 'asked the pharmacy', makerId],
      ['closed', 'scanned twice', makerId],
    ]);
    expect((await queryAlerts(fx.store, { status: 'closed' }, { limit: 10 })).alerts).toHaveLength(1);
    expect((await queryAlerts(fx.store, { status: 'new' }, { limit: 10 })).alerts).toHaveLength(0);
  });

  it('ALERT_UNKNOWN: a change of an alert the chain does not have', async () => {
    expect(await code(fx.chain.submitTx(alertTx(maker, { op: 'status', alert: 'ab'.repeat(32), status: 'investigating', reason: 'x' })))).toBe('ALERT_UNKNOWN');
  });

  it('ALERT_NOT_OWNER: a member that neither owns the alert nor is a regulator; a regulator may', async () => {
    const { alert } = await dispensedTwice();
    expect(await code(fx.chain.submitTx(alertTx(pharmacy, { op: 'status', alert, status: 'investigating', reason: 'x' })))).toBe('ALERT_NOT_OWNER');
    await fx.chain.submitTx(alertTx(regulator, { op: 'status', alert, status: 'investigating', reason: 'regulator looks into it' }));
  });

  it('ALERT_CLOSED: closed → investigating', async () => {
    const { alert } = await dispensedTwice();
    await fx.chain.submitTx(alertTx(maker, { op: 'status', alert, status: 'closed', resolution: 'counterfeit', reason: 'clone' }));
    await mine(fx.chain.selectForBlock(1 << 20).map((e) => e.tx));
    expect(await code(fx.chain.submitTx(alertTx(maker, { op: 'status', alert, status: 'investigating', reason: 'again' })))).toBe('ALERT_CLOSED');
  });

  it('ALERT_BAD_TRANSITION: investigating → investigating', async () => {
    const { alert } = await dispensedTwice();
    await fx.chain.submitTx(alertTx(maker, { op: 'status', alert, status: 'investigating', reason: 'one' }));
    await mine(fx.chain.selectForBlock(1 << 20).map((e) => e.tx));
    expect(await code(fx.chain.submitTx(alertTx(maker, { op: 'status', alert, status: 'investigating', reason: 'two' })))).toBe('ALERT_BAD_TRANSITION');
  });

  it('a change that raced another into one block is noted as refused, not applied, and the block stands', async () => {
    const { alert } = await dispensedTwice();
    const close = alertTx(maker, { op: 'status', alert, status: 'closed', resolution: 'genuine', reason: 'fine' });
    const look = alertTx(regulator, { op: 'status', alert, status: 'closed', resolution: 'counterfeit', reason: 'not fine' });
    await mine([close, look]);
    const rec = (await getAlert(fx.store, alert)) as AlertRecord;
    expect(rec.resolution).toBe('genuine');
    expect(rec.history.map((h) => h.refused ?? 'ok')).toEqual(['ok', 'ALERT_CLOSED']);
  });
});
