/**
 * The alert feed's paging (notify/alert-feed.ts) on a real chain: 510 alerts raised in one block
 * (more than one index page) come out once each, in index order, whatever the batch size, and a
 * filter that matches none of them moves the cursor past the block in a bounded number of calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBlock, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, dispense, receive, sgtin, ship, type Ev } from '../../helpers/epcis-events.js';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { alertId } from '../../../src/chain/alerts.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import { alertFeed } from '../../../src/notify/alert-feed.js';
import { comparePositions, endOf } from '../../../src/notify/scan.js';
import type { Position } from '../../../src/api/query.js';

const N = 510;
const maker = generateKeyPair();
const pharmacy = generateKeyPair();
let fx: Fixture;
let expected: string[] = [];
let height = 0;

const tx = (key: KeyPair, evs: Ev[]): SignedTx => makeTx(fx, evs.map((e) => e.event), key, evs.map((e) => e.id));
const mine = async (txs: SignedTx[]): Promise<void> => void (await fx.chain.importBlock(buildBlock(fx, { txs })));

beforeAll(async () => {
  fx = await makeFixture(
    { ...TEST_PARAMS, maxTxBytes: 1024 * 1024, maxBlockBytes: 4 * 1024 * 1024, maxEventsPerTx: 10 },
    {
      rules: traceRules(),
      extraMembers: [
        { name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] },
        { name: 'Pharmacy', role: 'pharmacy', key: pharmacy },
      ],
    },
  );
  const packs = Array.from({ length: N }, (_, i) => sgtin(`af${i}`));
  await mine([tx(maker, [commission(packs, 'LF')])]);
  await mine([tx(maker, [ship(packs)])]);
  await mine([tx(pharmacy, [receive(packs)])]);
  await mine([tx(pharmacy, [dispense(packs)])]);
  const twice = dispense(packs);
  await mine([tx(pharmacy, [twice])]);
  height = fx.chain.tip.height;
  expected = packs.map((p) => alertId('event', twice.id, 'DISPENSED_TWICE', itemKeyInfo(p).key)).sort();
  await mine([]);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('alert feed', () => {
  it.each([1, 7, 1000])('gives each of %i-at-a-time batches once, in index order, across index pages', async (max) => {
    const feed = alertFeed(fx.chain, { owner: keyIdHex(maker.publicKey), events: ['raised', 'status'] });
    let after: Position = endOf(height - 1);
    const got: string[] = [];
    for (let calls = 0; calls < N + 10; calls++) {
      const batch = await feed.next(after, fx.chain.tip.height, max);
      expect(batch.hits.length).toBeLessThanOrEqual(max);
      got.push(...batch.hits.map((h) => h.alert.id));
      if (comparePositions(batch.scannedTo, after) <= 0) break;
      after = batch.scannedTo;
    }
    expect(got).toEqual(expected);
    expect(comparePositions(after, endOf(fx.chain.tip.height))).toBe(0);
  });

  it('a filter that matches none moves past the block, each call a bounded step, delivering nothing', async () => {
    const feed = alertFeed(fx.chain, { codes: ['RECALL'], events: ['raised'] });
    let after: Position = endOf(height - 1);
    let calls = 0;
    while (comparePositions(after, endOf(fx.chain.tip.height)) < 0) {
      const batch = await feed.next(after, fx.chain.tip.height, 100);
      expect(batch.hits).toEqual([]);
      expect(comparePositions(batch.scannedTo, after)).toBeGreaterThan(0);
      after = batch.scannedTo;
      calls++;
    }
    expect(calls).toBeLessThanOrEqual(Math.ceil(N / 200) + 1);
    expect(calls).toBeGreaterThan(1);
  });
});
