/**
 * Alert subscriptions (notify/alert-feed.ts through the notification service) on a real chain with
 * the real trace rules, a manufacturer and a pharmacy: "recalls touching what I hold" and "new
 * alerts on my products" each get exactly their alerts, once, in chain order, after their
 * confirmations, signed; status changes follow; a receiver that was down gets the missed ones
 * under their first delivery IDs; a restart resumes from the stored cursor; an alert of a branch
 * reorganised away before its confirmations never goes out; a WebSocket stream sees the same
 * sequence; every refusal has its code.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { buildBlock, extend, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, dispense, receive, recallLot, recallPacks, sgtin, ship, type Ev } from '../../helpers/epcis-events.js';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { alertId } from '../../../src/chain/alerts.js';
import { actionTxBody, signTx } from '../../../src/chain/tx.js';
import type { AlertAction, SignedTx } from '../../../src/chain/types.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import { NotifyService, type NotifyOptions } from '../../../src/notify/service.js';
import { NotifyRecords } from '../../../src/storage/index.js';
import type { WebhookRequest } from '../../../src/notify/webhook.js';
import { signBody, verifySignature } from '../../../src/notify/signature.js';
import { DEFAULT_QUERY_LIMITS } from '../../../src/api/query.js';
import { HttpProblem } from '../../../src/api/problem.js';
import type { AlertSubscriptionInput } from '../../../src/api/notify-port.js';

const OPTS: NotifyOptions = {
  allowHttp: false,
  maxQueries: 10,
  maxSubscriptions: 4,
  maxStreams: 2,
  maxEventsPerDelivery: 100,
  retryBaseMs: 5,
  retryMaxMs: 20,
  pauseAfterMs: 60_000,
  maxBacklogBlocks: 1_000,
  finalityDepth: 2,
  maxStreamBuffer: 1 << 20,
  limits: DEFAULT_QUERY_LIMITS,
};
const SECRET = 'a-pharmacy-secret-000001';
const DEST = 'http://127.0.0.1:9/alerts';
const SINCE = '2000-01-01T00:00:00Z';
const maker = generateKeyPair();
const pharmacy = generateKeyPair();
const makerId = keyIdHex(maker.publicKey);
const pharmacyId = keyIdHex(pharmacy.publicKey);
const keyOf = (epc: string): string => itemKeyInfo(epc).key;

interface Item {
  kind: string;
  id: string;
  code: string;
  status: string;
  height: number;
  changes: { status: string }[];
}
interface Received {
  deliveryId: string;
  subscriptionId: string;
  items: Item[];
  req: WebhookRequest;
}

function itemsOf(body: string): Item[] {
  const doc = JSON.parse(body) as { type: string; alerts: { kind: string; block: { height: number }; changes?: { status: string }[]; alert: { id: string; code: string; status: string } }[] };
  expect(doc.type).toBe('AlertNotification');
  return doc.alerts.map((a) => ({ kind: a.kind, id: a.alert.id, code: a.alert.code, status: a.alert.status, height: a.block.height, changes: a.changes ?? [] }));
}

describe('alert subscriptions', () => {
  let fx: Fixture;
  let received: Received[];
  let down: boolean;
  let refused: number;
  let services: NotifyService[];
  const A = sgtin('as1');
  const B = sgtin('as2');
  const C = sgtin('as3');

  const make = (opts: Partial<NotifyOptions> = {}): NotifyService => {
    const s = new NotifyService(
      { ...OPTS, ...opts },
      {
        chain: fx.chain,
        records: new NotifyRecords(fx.store),
        clock: () => fx.clock.now,
        logger: pino({ level: 'silent' }),
        send: async (req) => {
          if (down) {
            refused++;
            throw new Error('connection refused');
          }
          received.push({ deliveryId: req.deliveryId, subscriptionId: req.subscriptionId, items: itemsOf(req.body), req });
        },
      },
    );
    services.push(s);
    return s;
  };

  const tx = (key: KeyPair, evs: Ev[]): SignedTx => makeTx(fx, evs.map((e) => e.event), key, evs.map((e) => e.id));
  const mine = async (txs: SignedTx[], parent = fx.chain.tip): Promise<string> => {
    const b = buildBlock(fx, { parent, txs });
    await fx.chain.importBlock(b);
    return b.hashHex;
  };
  let seq = 0;
  const statusTx = (key: KeyPair, action: AlertAction): SignedTx => signTx(actionTxBody(fx.chain.chainId, keyIdHex(key.publicKey), fx.chain.tip.time + ++seq, { alert: action }), key.secretKey);
  const of = (sub: { subscriptionID: string }): Item[] => received.filter((r) => r.subscriptionId === sub.subscriptionID).flatMap((r) => r.items);
  const recallAlert = (ev: Ev): string => alertId('event', ev.id, 'RECALL', `${pharmacyId}\u0000${makerId}`);
  const twiceAlert = (ev: Ev, epc: string): string => alertId('event', ev.id, 'DISPENSED_TWICE', keyOf(epc));

  beforeEach(async () => {
    fx = await makeFixture(
      { ...TEST_PARAMS, maxTxBytes: 256 * 1024, maxBlockBytes: 1024 * 1024 },
      {
        rules: traceRules(),
        extraMembers: [
          { name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] },
          { name: 'Pharmacy', role: 'pharmacy', key: pharmacy },
        ],
      },
    );
    received = [];
    down = false;
    refused = 0;
    services = [];
    await mine([tx(maker, [commission([A, B, C], 'LA')])]);
    await mine([tx(maker, [ship([A, B, C])])]);
    await mine([tx(pharmacy, [receive([A, B, C])])]);
  });
  afterEach(async () => {
    for (const s of services) await s.stop();
    await fx.close();
  });

  it('"recalls touching what I hold" and "new alerts on my products": each matching alert once, in chain order, after its confirmations, signed; then its status changes', async () => {
    const svc = make();
    await svc.start();
    const recalls = await svc.subscribeAlerts({ dest: DEST, signatureToken: SECRET, party: 'Pharmacy', codes: ['RECALL'], initialRecordTime: SINCE });
    const mine2 = await svc.subscribeAlerts({ dest: DEST, signatureToken: `${SECRET}-maker`, owner: makerId, events: ['raised'], initialRecordTime: SINCE });
    expect(recalls).toMatchObject({ signatureToken: '…0001', confirmations: 2, filter: { party: pharmacyId, codes: ['RECALL'], events: ['raised', 'status'] }, status: 'active' });
    expect(JSON.stringify(svc.listAlertSubscriptions())).not.toContain(SECRET);
    await mine([tx(pharmacy, [dispense([A])])]);
    const second = dispense([A]);
    await mine([tx(pharmacy, [second])]);
    const recall = recallLot('LA');
    await mine([tx(maker, [recall])]);
    // The recall's block is the tip: one confirmation of the two asked. The double dispense has two.
    await vi.waitFor(() => expect(of(mine2).map((i) => i.id)).toEqual([twiceAlert(second, A)]), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(of(recalls)).toEqual([]);
    await extend(fx, 1);
    await vi.waitFor(() => expect(of(recalls).map((i) => [i.kind, i.id, i.code, i.status])).toEqual([['raised', recallAlert(recall), 'RECALL', 'new']]), { timeout: 5_000 });
    await vi.waitFor(() => expect(of(mine2).map((i) => i.id)).toEqual([twiceAlert(second, A), recallAlert(recall)]), { timeout: 5_000 });
    for (const r of received) {
      const header = signBody(r.req.secret, r.req.body);
      expect(verifySignature(r.subscriptionId === recalls.subscriptionID ? SECRET : `${SECRET}-maker`, r.req.body, header)).toBe(true);
      expect(verifySignature('a-wrong-secret-of-16+', r.req.body, header)).toBe(false);
    }
    // The owner takes the recall alert into investigation: the pharmacy's subscription hears it; the raised-only one does not.
    await mine([statusTx(maker, { op: 'status', alert: recallAlert(recall), status: 'investigating', reason: 'checking the holders' })]);
    await extend(fx, 1);
    await vi.waitFor(() => expect(of(recalls).map((i) => [i.kind, i.status, i.changes.map((c) => c.status)])).toEqual([['raised', 'new', []], ['status', 'investigating', ['investigating']]]), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(of(mine2)).toHaveLength(2);
    expect(new Set(received.map((r) => r.deliveryId)).size).toBe(received.length);
    expect(svc.getAlertSubscription(recalls.subscriptionID)).toMatchObject({ delivered: 2, status: 'active' });
  });

  it('a receiver down then back gets every missed alert once, in order, under the IDs of its failed attempts', async () => {
    const svc = make();
    await svc.start();
    const sub = await svc.subscribeAlerts({ dest: DEST, signatureToken: SECRET, owner: 'Maker', confirmations: 1, initialRecordTime: SINCE });
    down = true;
    await mine([tx(pharmacy, [dispense([A, B, C])])]);
    const twice = dispense([A, B, C]);
    await mine([tx(pharmacy, [twice])]);
    await vi.waitFor(() => expect(refused).toBeGreaterThan(2), { timeout: 5_000 });
    const firstId = svc.getAlertSubscription(sub.subscriptionID)?.pending?.deliveryId;
    expect(svc.getAlertSubscription(sub.subscriptionID)?.status).toBe('retrying');
    const third = dispense([A]);
    await mine([tx(pharmacy, [third])]);
    down = false;
    // Three alerts in one block come in their index order (ID order), then the later block's.
    const expected = [twiceAlert(twice, A), twiceAlert(twice, B), twiceAlert(twice, C)].sort();
    await vi.waitFor(() => expect(of(sub).map((i) => i.id).slice(0, 3)).toEqual(expected), { timeout: 5_000 });
    await vi.waitFor(() => expect(of(sub).map((i) => i.id)).toEqual([...expected, twiceAlert(third, A)]), { timeout: 5_000 });
    expect(received[0]?.deliveryId).toBe(firstId);
    const heights = of(sub).map((i) => i.height);
    expect(heights).toEqual([...heights].sort((a, b) => a - b));
    await extend(fx, 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(4);
  });

  it('a restart resumes from the stored cursor: nothing lost, nothing twice', async () => {
    const first = make();
    await first.start();
    await first.subscribeAlerts({ dest: DEST, signatureToken: SECRET, party: pharmacyId, confirmations: 1, initialRecordTime: SINCE });
    await mine([tx(pharmacy, [dispense([A])])]);
    const t1 = dispense([A]);
    await mine([tx(pharmacy, [t1])]);
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 5_000 });
    await first.stop();
    const r1 = recallLot('LA');
    await mine([tx(maker, [r1])]);
    const second = make();
    await second.start();
    await vi.waitFor(() => expect(received.flatMap((r) => r.items.map((i) => i.id))).toEqual([twiceAlert(t1, A), recallAlert(r1)]), { timeout: 5_000 });
    await extend(fx, 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(2);
  });

  it('an alert on a branch reorganised away before its confirmations is never delivered', async () => {
    const fork = fx.chain.tip;
    const svc = make();
    await svc.start();
    const strict = await svc.subscribeAlerts({ dest: DEST, signatureToken: SECRET, owner: 'Maker', confirmations: 2, initialRecordTime: SINCE });
    // The control: one confirmation is enough for it, so it does see the doomed alert.
    const loose = await svc.subscribeAlerts({ dest: DEST, signatureToken: SECRET, owner: 'Maker', confirmations: 1, initialRecordTime: SINCE });
    const doomed = recallLot('LA');
    await mine([tx(maker, [doomed])], fork);
    await vi.waitFor(() => expect(of(loose).map((i) => i.id)).toEqual([recallAlert(doomed)]), { timeout: 5_000 });
    const kept = recallPacks([B]);
    const b1 = await mine([tx(maker, [kept])], fork);
    const b1Entry = fx.chain.header(b1);
    if (b1Entry === undefined) throw new Error('b1 not indexed');
    expect((await fx.chain.importBlock(buildBlock(fx, { parent: b1Entry }))).status).toBe('reorg');
    await extend(fx, 1);
    const keptAlert = alertId('event', kept.id, 'RECALL', `${pharmacyId}\u0000${makerId}`);
    await vi.waitFor(() => expect(of(strict).map((i) => i.id)).toEqual([keptAlert]), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(of(strict).map((i) => i.id)).not.toContain(recallAlert(doomed));
    // The loose one saw the doomed alert, so it stops and says why rather than go on as if it had not.
    await vi.waitFor(() => expect(svc.getAlertSubscription(loose.subscriptionID)?.status).toBe('paused'), { timeout: 5_000 });
  });

  it('a status change in a block reorganised away before its confirmations is never delivered', async () => {
    const r = recallLot('LA');
    await mine([tx(maker, [r])]);
    await extend(fx, 1);
    const fork = fx.chain.tip;
    const svc = make();
    await svc.start();
    const sub = await svc.subscribeAlerts({ dest: DEST, signatureToken: SECRET, party: 'Pharmacy', confirmations: 2, initialRecordTime: SINCE });
    await vi.waitFor(() => expect(of(sub).map((i) => i.kind)).toEqual(['raised']), { timeout: 5_000 });
    // The change is mined on a block that loses to a branch of two empty blocks.
    await mine([statusTx(maker, { op: 'status', alert: recallAlert(r), status: 'investigating', reason: 'doomed' })], fork);
    expect((await fx.store.getRecords('alert', [recallAlert(r)]))[0]).toMatchObject({ status: 'investigating' });
    const b1 = buildBlock(fx, { parent: fork });
    await fx.chain.importBlock(b1);
    const b1Entry = fx.chain.header(b1.hashHex);
    if (b1Entry === undefined) throw new Error('b1 not indexed');
    expect((await fx.chain.importBlock(buildBlock(fx, { parent: b1Entry }))).status).toBe('reorg');
    expect((await fx.store.getRecords('alert', [recallAlert(r)]))[0]).toMatchObject({ status: 'new' });
    await extend(fx, 2);
    await new Promise((res) => setTimeout(res, 100));
    expect(of(sub).map((i) => i.kind)).toEqual(['raised']);
    expect(svc.getAlertSubscription(sub.subscriptionID)?.status).toBe('active');
  });

  it('a WebSocket stream sees the sequence the webhook gets', async () => {
    const svc = make();
    await svc.start();
    const sub = await svc.subscribeAlerts({ dest: DEST, signatureToken: SECRET, party: 'Pharmacy', confirmations: 1, initialRecordTime: SINCE });
    const messages: string[] = [];
    const stop = await svc.openAlertStream({ party: 'Pharmacy', confirmations: 1, initialRecordTime: SINCE }, { send: async (t) => void messages.push(t), buffered: () => 0, close: () => undefined });
    await mine([tx(pharmacy, [dispense([A])])]);
    await mine([tx(pharmacy, [dispense([A])])]);
    const r = recallLot('LA');
    await mine([tx(maker, [r])]);
    await mine([statusTx(maker, { op: 'status', alert: recallAlert(r), status: 'closed', resolution: 'genuine', reason: 'recalled as planned' })]);
    await vi.waitFor(() => expect(of(sub)).toHaveLength(3), { timeout: 5_000 });
    await vi.waitFor(() => expect(messages).toHaveLength(3), { timeout: 5_000 });
    const seq = (items: Item[]): string[] => items.map((i) => `${i.kind}:${i.id}:${i.status}`);
    expect(seq(messages.flatMap(itemsOf))).toEqual(seq(of(sub)));
    expect(seq(of(sub)).map((s) => s.split(':')[0])).toEqual(['raised', 'raised', 'status']);
    stop();
  });

  it('refuses with a code: BAD_DESTINATION, BAD_SUBSCRIPTION, NOT_A_MEMBER, TOO_MANY_SUBSCRIPTIONS', async () => {
    const svc = make({ maxSubscriptions: 1 });
    await svc.start();
    const code = async (input: Partial<AlertSubscriptionInput>): Promise<string> => {
      try {
        await svc.subscribeAlerts({ dest: DEST, signatureToken: SECRET, ...input });
      } catch (err) {
        if (err instanceof HttpProblem) return err.code;
        throw err;
      }
      return 'accepted';
    };
    expect(await code({ dest: 'http://example.com/hook' })).toBe('BAD_DESTINATION');
    expect(await code({ signatureToken: 'short' })).toBe('BAD_SUBSCRIPTION');
    expect(await code({ gtin: '10614141073464' })).toBe('BAD_SUBSCRIPTION');
    expect(await code({ codes: ['recall'] })).toBe('BAD_SUBSCRIPTION');
    expect(await code({ events: ['opened'] })).toBe('BAD_SUBSCRIPTION');
    expect(await code({ events: [] })).toBe('BAD_SUBSCRIPTION');
    expect(await code({ initialRecordTime: 'yesterday' })).toBe('BAD_SUBSCRIPTION');
    expect(await code({ owner: 'Nobody' })).toBe('NOT_A_MEMBER');
    expect(await code({ party: 'f'.repeat(40) })).toBe('NOT_A_MEMBER');
    expect(await code({ owner: 'Maker', gtin: '10614141073464', lot: 'LA' })).toBe('accepted');
    expect(await code({ owner: 'Maker' })).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(svc.listAlertSubscriptions()).toHaveLength(1);
    const id = svc.listAlertSubscriptions()[0]?.subscriptionID as string;
    expect(await svc.unsubscribeAlerts(id)).toBe(true);
    expect(await svc.unsubscribeAlerts(id)).toBe(false);
    expect(await new NotifyRecords(fx.store).list('cursor')).toEqual([]);
  });
});
