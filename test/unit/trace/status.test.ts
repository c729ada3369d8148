import { describe, expect, it } from 'vitest';
import type { Member } from '../../../src/chain/types.js';
import {
  applyEvent,
  canonicalItemKey,
  checkRole,
  effectiveStatus,
  eventIdOf,
  type ItemRecord,
  type ItemStateReader,
  type JsonObject,
} from '../../../src/trace/index.js';
import { member } from './helpers.js';

/** The chain layer's role, in memory: applies each event's writes before the next one. */
class State implements ItemStateReader {
  readonly items = new Map<string, ItemRecord>();
  readonly lots = new Set<string>();
  private n = 0;
  async getItem(key: string): Promise<ItemRecord | undefined> {
    return this.items.get(key);
  }
  async isLotRecalled(gtin: string, lot: string): Promise<boolean> {
    return this.lots.has(`${gtin}|${lot}`);
  }
  async apply(submitter: Member, event: JsonObject): Promise<string> {
    checkRole(submitter, event);
    const eventId = eventIdOf(event);
    const out = await applyEvent(this, { event, eventId, submitter, blockTime: 1_700_000_000_000 + this.n++ });
    for (const r of out.items) this.items.set(r.key, JSON.parse(JSON.stringify(r)) as ItemRecord);
    for (const l of out.recalledLots) this.lots.add(`${l.gtin}|${l.lot}`);
    return eventId;
  }
  record(epc: string): ItemRecord {
    const r = this.items.get(canonicalItemKey(epc));
    if (!r) throw new Error(`no record for ${epc}`);
    return r;
  }
  status(epc: string): string {
    const r = this.record(epc);
    return effectiveStatus(r, r.gtin !== null && r.lot !== null && this.lots.has(`${r.gtin}|${r.lot}`));
  }
}

const maker = member('manufacturer', 'maker', ['0614141']);
const wholesaler = member('wholesaler', 'wholesaler');
const otherWholesaler = member('wholesaler', 'other-wholesaler');
const pharmacy = member('pharmacy', 'pharmacy');
const regulator = member('regulator', 'regulator');

const pack = (n: number): string => `urn:epc:id:sgtin:0614141.107346.${n}`;
const CASE = 'urn:epc:id:sscc:0614141.1234567890';
const LGTIN = 'urn:epc:class:lgtin:0614141.107346.LOT1';

let clock = Date.UTC(2024, 2, 1, 8);
function ev(fields: JsonObject): JsonObject {
  clock += 60_000;
  return { type: 'ObjectEvent', eventTime: new Date(clock).toISOString(), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', ...fields };
}
const commission = (epcs: string[], lot: string, expiry: string): JsonObject =>
  ev({ action: 'ADD', bizStep: 'commissioning', disposition: 'active', epcList: epcs, ilmd: { 'cbvmda:lotNumber': lot, 'cbvmda:itemExpirationDate': expiry } });
const aggregate = (action: 'ADD' | 'DELETE', parent: string, children: string[]): JsonObject =>
  ev({ type: 'AggregationEvent', action, bizStep: action === 'ADD' ? 'packing' : 'unpacking', parentID: parent, childEPCs: children });
const ship = (epcs: string[]): JsonObject => ev({ bizStep: 'shipping', disposition: 'in_transit', epcList: epcs });
const receive = (epcs: string[]): JsonObject => ev({ bizStep: 'receiving', disposition: 'in_progress', epcList: epcs });
const dispense = (epcs: string[]): JsonObject => ev({ bizStep: 'dispensing', disposition: 'dispensed', epcList: epcs });

describe('item status: a pack through the supply chain', () => {
  it('commission → pack into a case → ship → receive → unpack → dispense; conflicts turn items suspect', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(1), pack(2), pack(3), pack(4)], 'LOT1', '2027-12-31'));
    expect(s.status(pack(1))).toBe('active');
    expect(s.record(pack(1))).toMatchObject({ custodian: 'maker', manufacturer: 'maker', gtin: '10614141073464', lot: 'LOT1', expiry: '2027-12-31' });

    await s.apply(maker, aggregate('ADD', CASE, [pack(1), pack(2), pack(3), pack(4)]));
    expect(s.record(CASE).children).toHaveLength(4);
    expect(s.record(pack(2)).parent).toBe(canonicalItemKey(CASE));

    // The case is shipped: its packs go with it.
    await s.apply(maker, ship([CASE]));
    expect(s.status(CASE)).toBe('in_transit');
    expect(s.status(pack(3))).toBe('in_transit');

    await s.apply(wholesaler, receive([CASE]));
    expect(s.status(pack(3))).toBe('active');
    expect(s.record(pack(3)).custodian).toBe('wholesaler');

    await s.apply(wholesaler, aggregate('DELETE', CASE, [pack(1), pack(4)]));
    expect(s.record(pack(1)).parent).toBeNull();
    expect(s.record(CASE).children).toEqual([canonicalItemKey(pack(2)), canonicalItemKey(pack(3))]);

    await s.apply(wholesaler, ship([pack(1), pack(4)]));
    await s.apply(pharmacy, receive([pack(1), pack(4)]));
    const firstDispense = await s.apply(pharmacy, dispense([pack(1)]));
    expect(s.status(pack(1))).toBe('dispensed');
    expect(s.record(pack(1)).lastEventId).toBe(firstDispense);
    expect(s.status(pack(4))).toBe('active');

    // Dispensed twice: recorded, not rejected.
    const second = await s.apply(pharmacy, dispense([pack(1)]));
    expect(s.status(pack(1))).toBe('suspect');
    expect(s.record(pack(1)).alerts).toEqual([expect.objectContaining({ code: 'DISPENSED_TWICE', eventId: second })]);

    // pack 4 is sold before the recall: it stays dispensed.
    await s.apply(pharmacy, dispense([pack(4)]));

    // The manufacturer recalls the lot: unsold packs (in the case, at the wholesaler) are recalled.
    await s.apply(maker, ev({ bizStep: 'holding', disposition: 'recalled', quantityList: [{ epcClass: LGTIN }] }));
    expect(s.lots.has('10614141073464|LOT1')).toBe(true);
    expect(s.status(pack(2))).toBe('recalled');
    expect(s.status(pack(3))).toBe('recalled');
    expect(s.status(pack(4))).toBe('dispensed');
    expect(s.status(pack(1))).toBe('suspect');

    // Dispensing a recalled pack is recorded as a conflict.
    await s.apply(pharmacy, dispense([pack(2)]));
    expect(s.status(pack(2))).toBe('suspect');
    expect(s.record(pack(2)).alerts.map((a) => a.code)).toContain('DISPENSED_AFTER_RECALL');
  });

  it('shipping by a party that does not hold the item turns it suspect', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(10)], 'LOT2', '2027-12-31'));
    await s.apply(maker, ship([pack(10)]));
    await s.apply(wholesaler, receive([pack(10)]));
    await s.apply(otherWholesaler, ship([pack(10)]));
    expect(s.status(pack(10))).toBe('suspect');
    expect(s.record(pack(10)).alerts[0]).toMatchObject({ code: 'NOT_CUSTODIAN' });
    expect(s.record(pack(10)).custodian).toBe('wholesaler');
  });

  it('dispensing after the expiry date turns the pack suspect', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(20)], 'LOT3', '2024-01-31'));
    await s.apply(maker, ship([pack(20)]));
    await s.apply(pharmacy, receive([pack(20)]));
    await s.apply(pharmacy, dispense([pack(20)]));
    expect(s.status(pack(20))).toBe('suspect');
    expect(s.record(pack(20)).alerts.map((a) => a.code)).toEqual(['DISPENSED_AFTER_EXPIRY']);
  });

  it('a recall of a case (by the regulator) recalls what is packed in it; records stay JSON-serialisable and bounded', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(30), pack(31)], 'LOT4', '2027-12-31'));
    await s.apply(maker, aggregate('ADD', CASE, [pack(30), pack(31)]));
    await s.apply(regulator, ev({ bizStep: 'holding', disposition: 'recalled', epcList: [CASE] }));
    expect(s.status(pack(30))).toBe('recalled');
    expect(s.status(CASE)).toBe('recalled');
    for (let i = 0; i < 30; i++) await s.apply(pharmacy, dispense([pack(31)]));
    const r = s.record(pack(31));
    expect(r.alerts.length).toBeLessThanOrEqual(20);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('is deterministic: the same events give the same records', async () => {
    const run = async (): Promise<string> => {
      const s = new State();
      clock = Date.UTC(2024, 5, 1);
      await s.apply(maker, commission([pack(40), pack(41)], 'L', '2030-01-01'));
      await s.apply(maker, aggregate('ADD', CASE, [pack(40), pack(41)]));
      await s.apply(maker, ship([CASE]));
      await s.apply(pharmacy, receive([CASE]));
      await s.apply(pharmacy, dispense([pack(40)]));
      return JSON.stringify([...s.items.entries()].sort());
    };
    expect(await run()).toBe(await run());
  });

  it('items never commissioned on chain stay unknown', async () => {
    const s = new State();
    await s.apply(pharmacy, receive([pack(50)]));
    expect(s.status(pack(50))).toBe('unknown');
  });
});

describe('item status: containment', () => {
  it('unpacking without children detaches them all; repacking moves a pack between cases', async () => {
    const s = new State();
    const other = 'urn:epc:id:sscc:0614141.1234567891';
    await s.apply(maker, commission([pack(60), pack(61)], 'L6', '2030-01-01'));
    await s.apply(maker, aggregate('ADD', CASE, [pack(60), pack(61)]));
    await s.apply(maker, aggregate('ADD', other, [pack(61)]));
    expect(s.record(pack(61)).parent).toBe(canonicalItemKey(other));
    expect(s.record(CASE).children).toEqual([canonicalItemKey(pack(60))]);
    await s.apply(maker, ev({ type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', parentID: other }));
    expect(s.record(pack(61)).parent).toBeNull();
    expect(s.record(other).children).toEqual([]);
  });

  it('a transformation commissions its outputs and consumes its inputs', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(70)], 'L7', '2030-01-01'));
    await s.apply(maker, ev({ type: 'TransformationEvent', bizStep: 'commissioning', inputEPCList: [pack(70)], outputEPCList: [pack(71)] }));
    expect(s.status(pack(70))).toBe('decommissioned');
    expect(s.status(pack(71))).toBe('active');
  });

  it('decommissioned and destroyed are final; acting on them again is a recorded conflict', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(80), pack(81)], 'L8', '2030-01-01'));
    await s.apply(maker, ev({ action: 'DELETE', bizStep: 'decommissioning', epcList: [pack(80)] }));
    await s.apply(maker, ev({ bizStep: 'destroying', disposition: 'destroyed', epcList: [pack(81)] }));
    expect(s.status(pack(80))).toBe('decommissioned');
    expect(s.status(pack(81))).toBe('destroyed');
    await s.apply(maker, ship([pack(80)]));
    expect(s.status(pack(80))).toBe('suspect');
    expect(s.record(pack(80)).alerts[0]?.code).toBe('ALREADY_INACTIVE');
  });
});
