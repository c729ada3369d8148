/**
 * Recall fan-out (chain/alert-state.ts, recall-fanout.ts) against brute force: a generated corpus
 * of 10,000 packs of one GTIN across a manufacturer and 5 holders (shipped, received, moved on,
 * in transit, dispensed; a second lot mixed in), then a recall of the lot. The RECALL alerts the
 * chain derived must name, per holder, exactly the packs that a walk of every pack's trace (its
 * EPC history, event by event, up to the recall) finds unsold and held by that holder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { decodeTx } from '../../../src/chain/tx.js';
import { queryAlerts } from '../../../src/chain/alert-query.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { eventFacts } from '../../../src/trace/actions.js';
import { itemKeyInfo } from '../../../src/trace/identifiers.js';
import type { SignedTx } from '../../../src/chain/types.js';
import type { Role } from '../../../src/chain/types.js';
import { buildBlock, makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { commission, dispense, GTIN, receive, recallLot, sgtin, ship } from '../../helpers/epcis-events.js';

const PACKS = 10_000;
const HOLDERS: { name: string; role: Role }[] = [
  { name: 'Wholesaler A', role: 'wholesaler' },
  { name: 'Wholesaler B', role: 'wholesaler' },
  { name: 'Pharmacy C', role: 'pharmacy' },
  { name: 'Pharmacy D', role: 'pharmacy' },
  { name: 'Hospital E', role: 'hospital' },
];

/** Deterministic PRNG (mulberry32), so the corpus is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let fx: Fixture;
const maker = generateKeyPair();
const holderKeys = HOLDERS.map(() => generateKeyPair());
const makerId = keyIdHex(maker.publicKey);
let recallEventId = '';

function tx(key: KeyPair, evs: { event: Record<string, unknown>; id: string }[]): SignedTx {
  return makeTx(fx, evs.map((e) => e.event), key, evs.map((e) => e.id));
}

async function mine(txs: SignedTx[]): Promise<void> {
  await fx.chain.importBlock(buildBlock(fx, { txs }));
}

beforeAll(async () => {
  fx = await makeFixture(
    { ...TEST_PARAMS, maxTxBytes: 8 * 1024 * 1024, maxBlockBytes: 32 * 1024 * 1024, maxEventsPerTx: 10_000 },
    {
      rules: traceRules(),
      extraMembers: [{ name: 'Maker', role: 'manufacturer', key: maker, gs1CompanyPrefixes: ['0614141'] }, ...HOLDERS.map((h, i) => ({ ...h, key: holderKeys[i] as KeyPair }))],
    },
  );
  const rand = rng(20261207);
  const epcs = Array.from({ length: PACKS }, (_, i) => sgtin(`f${i}`));
  // Lot LX for most packs, LY for every 17th: the recall of LX must not reach LY.
  const lx = epcs.filter((_, i) => i % 17 !== 0);
  const ly = epcs.filter((_, i) => i % 17 === 0);
  const chunks = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));
  await mine([tx(maker, [...chunks(lx, 1000).map((c) => commission(c, 'LX')), ...chunks(ly, 1000).map((c) => commission(c, 'LY'))])]);
  // First hop: each pack goes to a holder (0..4) or stays with the maker (5); some stay in transit.
  const dest = epcs.map(() => Math.floor(rand() * 6));
  const inTransit = epcs.map(() => rand() < 0.1);
  const shipments = HOLDERS.map((_, h) => epcs.filter((_, i) => dest[i] === h));
  await mine([tx(maker, shipments.filter((s) => s.length > 0).map((s) => ship(s)))]);
  await mine(HOLDERS.map((_, h) => tx(holderKeys[h] as KeyPair, [receive((shipments[h] as string[]).filter((e) => !inTransit[epcs.indexOf(e)]))])));
  const index = new Map(epcs.map((e, i) => [e, i]));
  const received = (h: number): string[] => (shipments[h] as string[]).filter((e) => !inTransit[index.get(e) as number]);
  // Second hop: the wholesalers move a third of what they received to a pharmacy or the hospital.
  for (const w of [0, 1]) {
    const moved = received(w).filter(() => rand() < 0.33);
    const to = 2 + Math.floor(rand() * 3);
    await mine([tx(holderKeys[w] as KeyPair, [ship(moved)])]);
    await mine([tx(holderKeys[to] as KeyPair, [receive(moved.filter(() => rand() < 0.9))])]);
  }
  // Pharmacies and the hospital dispense part of what they hold.
  const holds = async (h: number): Promise<string[]> => {
    const id = keyIdHex((holderKeys[h] as KeyPair).publicKey);
    const items = await fx.store.getItems(epcs.map((e) => itemKeyInfo(e).key));
    return epcs.filter((_, i) => items[i]?.custodian === id && items[i]?.lifecycle === 'active');
  };
  const dispensing: SignedTx[] = [];
  for (const h of [2, 3, 4]) dispensing.push(tx(holderKeys[h] as KeyPair, [dispense((await holds(h)).filter(() => rand() < 0.4))]));
  await mine(dispensing);
  const recall = recallLot('LX', lx.length);
  recallEventId = recall.id;
  await mine([tx(maker, [recall])]);
}, 120_000);

afterAll(async () => fx.close());

/** Brute force: walk each pack's trace up to the recall; holder = last commissioner or receiver, sold once dispensed. */
async function bruteForce(): Promise<Map<string, string[]>> {
  const txCache = new Map<string, SignedTx>();
  const txAt = async (height: number, txIndex: number): Promise<SignedTx> => {
    const k = `${height}/${txIndex}`;
    let t = txCache.get(k);
    if (!t) {
      const hash = (await fx.store.getMainHash(height)) as string;
      t = decodeTx((await fx.store.getBlockTx(hash, txIndex)) as Uint8Array, { maxTxBytes: 1 << 30, maxEventsPerTx: 1 << 20 });
      txCache.set(k, t);
    }
    return t;
  };
  const out = new Map<string, string[]>();
  for (let i = 0; i < PACKS; i++) {
    const key = itemKeyInfo(sgtin(`f${i}`)).key;
    let holder: string | null = null;
    let sold = false;
    let lot: string | null = null;
    for (const h of await fx.store.history(key, { limit: 100 })) {
      const t = await txAt(h.height, h.txIndex);
      const event = t.events[h.eventIndex] as Record<string, unknown>;
      if (h.eventId === recallEventId) break;
      const f = eventFacts(event);
      if (f.primary === 'commission') {
        holder = t.submitter;
        const ilmd = event.ilmd as Record<string, unknown>;
        lot = ilmd['cbvmda:lotNumber'] as string;
      } else if (f.primary === 'receive') holder = t.submitter;
      else if (f.primary === 'dispense') sold = true;
    }
    // A lot recall names the class, not the pack, so the walk also stops at the end of the history.
    if (lot === 'LX' && !sold && holder !== null) out.set(holder, [...(out.get(holder) ?? []), key]);
  }
  for (const v of out.values()) v.sort();
  return out;
}

describe('recall fan-out', () => {
  it('on 10,000 packs across 5 holders equals a brute-force walk of every pack’s trace', async () => {
    const alerts = (await queryAlerts(fx.store, { lot: { gtin: GTIN, lot: 'LX' } }, { limit: 100 })).alerts.filter((a) => a.raisedBy.eventId === recallEventId);
    const fanOut = new Map<string, string[]>();
    for (const a of alerts) {
      expect(a.code).toBe('RECALL');
      expect(a.owner).toBe(makerId);
      const holder = a.parties.length === 1 ? (a.parties[0] as string) : (a.parties.find((p) => p !== makerId) as string);
      fanOut.set(holder, a.items);
      expect(a.itemCount).toBe(a.items.length);
    }
    const expected = await bruteForce();
    expect(expected.size).toBe(6); // the maker and all five holders hold unsold packs
    expect(new Map([...fanOut].sort())).toEqual(new Map([...expected].sort()));
  }, 60_000);
});
