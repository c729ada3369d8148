import { describe, expect, it } from 'vitest';
import type { Member } from '../../../src/chain/types.js';
import {
  canonicalItemKey,
  declarationIdOf,
  declaredEventIdOf,
  effectiveStatus,
  errorDeclarationOf,
  eventIdOf,
  prepareDocument,
  recordIdOf,
  verifyEventIds,
  type ItemRecord,
  type ItemStateReader,
  type JsonObject,
} from '../../../src/trace/index.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { doc, member } from './helpers.js';

/** Item state in memory, applying events through the chain's trace rules (declarations included). */
class State implements ItemStateReader {
  readonly items = new Map<string, ItemRecord>();
  private readonly rules = traceRules();
  private n = 0;
  async getItem(key: string): Promise<ItemRecord | undefined> {
    return this.items.get(key);
  }
  async isLotRecalled(): Promise<boolean> {
    return false;
  }
  async apply(submitter: Member, event: JsonObject): Promise<string> {
    const eventId = recordIdOf(event);
    const out = await this.rules.applyEvent(
      { getItem: async (k) => this.items.get(k) as never, isLotRecalled: async () => false },
      { event, eventId, submitter, blockTime: 1_700_000_000_000 + this.n++ },
    );
    for (const r of out.items) this.items.set(r.key, JSON.parse(JSON.stringify(r)) as ItemRecord);
    return eventId;
  }
  record(epc: string): ItemRecord {
    const r = this.items.get(canonicalItemKey(epc));
    if (!r) throw new Error(`no record for ${epc}`);
    return r;
  }
  status(epc: string): string {
    return effectiveStatus(this.record(epc), false);
  }
}

const maker = member('manufacturer', 'maker', ['0614141']);
const pharmacy = member('pharmacy', 'pharmacy');
const pack = (n: number): string => `urn:epc:id:sgtin:0614141.107346.${n}`;
const CASE = 'urn:epc:id:sscc:0614141.1234567890';

let clock = Date.UTC(2024, 2, 1, 8);
function ev(fields: JsonObject): JsonObject {
  clock += 60_000;
  return { type: 'ObjectEvent', eventTime: new Date(clock).toISOString(), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', ...fields };
}
const commission = (epcs: string[]): JsonObject => ev({ action: 'ADD', bizStep: 'commissioning', disposition: 'active', epcList: epcs });
const dispense = (epcs: string[]): JsonObject => ev({ bizStep: 'dispensing', disposition: 'dispensed', epcList: epcs });
const receive = (epcs: string[]): JsonObject => ev({ bizStep: 'receiving', disposition: 'in_progress', epcList: epcs });
const declare = (event: JsonObject, reason = 'incorrect_data', correctiveEventIDs: string[] = []): JsonObject => ({
  ...event,
  errorDeclaration: { declarationTime: '2024-03-02T00:00:00Z', reason, ...(correctiveEventIDs.length > 0 ? { correctiveEventIDs } : {}) },
});

describe('error declarations: IDs', () => {
  it('a declaration hashes to the event it declares, and is recorded under a record ID derived from it', () => {
    const e = dispense([pack(1)]);
    const d = declare(e, 'did_not_occur', ['urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6']);
    const id = eventIdOf(e);
    expect(declaredEventIdOf(d)).toBe(id);
    expect(recordIdOf(e)).toBe(id);
    expect(recordIdOf(d)).toBe(declarationIdOf(id));
    expect(recordIdOf(d)).not.toBe(id);
    expect(recordIdOf(d)).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
    expect(errorDeclarationOf(d)).toEqual({ reason: 'did_not_occur', declarationTime: '2024-03-02T00:00:00Z', correctiveEventIDs: ['urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6'] });
    expect(errorDeclarationOf(e)).toBeUndefined();
  });

  it('a document with an event and its declaration prepares both (no duplicate), and the tx IDs verify; the plain hash as a declaration ID does not', () => {
    const e = commission([pack(9)]);
    const prepared = prepareDocument(doc([e, declare(e)]));
    expect(prepared.eventIds[1]).toBe(declarationIdOf(prepared.eventIds[0] as string));
    expect(() => verifyEventIds(prepared.events, prepared.eventIds)).not.toThrow();
    expect(() => verifyEventIds(prepared.events, [prepared.eventIds[0] as string, prepared.eventIds[0] as string])).toThrow(/BAD_EVENT_ID/);
  });
});

describe('error declarations: item status stops counting the erred event', () => {
  it('a wrong dispense declared in error: the pack is active again, held by whoever held it', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(1), pack(2)]));
    await s.apply(pharmacy, receive([pack(1)]));
    const wrong = dispense([pack(1)]);
    const wrongId = await s.apply(pharmacy, wrong);
    expect(s.status(pack(1))).toBe('dispensed');
    const declId = await s.apply(pharmacy, declare(wrong));
    expect(s.status(pack(1))).toBe('active');
    expect(s.record(pack(1))).toMatchObject({ lifecycle: 'active', custodian: 'pharmacy', alerts: [] });
    expect(s.record(pack(1)).lastEventId).not.toBe(wrongId);
    expect(declId).toBe(declarationIdOf(wrongId));
    // It can be dispensed now without a DISPENSED_TWICE conflict.
    await s.apply(pharmacy, dispense([pack(1)]));
    expect(s.status(pack(1))).toBe('dispensed');
    expect(s.record(pack(1)).alerts).toEqual([]);
  });

  it("the erred event's alerts are withdrawn: a dispense twice declared in error leaves the pack dispensed, not suspect", async () => {
    const s = new State();
    await s.apply(maker, commission([pack(3)]));
    await s.apply(pharmacy, dispense([pack(3)]));
    const twice = dispense([pack(3)]);
    await s.apply(pharmacy, twice);
    expect(s.status(pack(3))).toBe('suspect');
    await s.apply(pharmacy, declare(twice));
    expect(s.status(pack(3))).toBe('dispensed');
    expect(s.record(pack(3)).alerts).toEqual([]);
  });

  it('a commissioning declared in error leaves the item unknown again', async () => {
    const s = new State();
    const c = commission([pack(4)]);
    await s.apply(maker, c);
    await s.apply(maker, declare(c));
    expect(s.record(pack(4))).toMatchObject({ status: 'unknown', lifecycle: 'unknown', custodian: null, manufacturer: null });
  });

  it('a dispense out of a case declared in error puts the pack back in its case', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(5), pack(6)]));
    await s.apply(maker, ev({ type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', parentID: CASE, childEPCs: [pack(5), pack(6)] }));
    const wrong = dispense([pack(5)]);
    await s.apply(maker, wrong);
    expect(s.record(CASE).children).toEqual([canonicalItemKey(pack(6))]);
    await s.apply(maker, declare(wrong));
    expect(s.record(pack(5)).parent).toBe(canonicalItemKey(CASE));
    expect(s.record(CASE).children).toEqual([canonicalItemKey(pack(6)), canonicalItemKey(pack(5))]);
    expect(s.status(pack(5))).toBe('active');
  });

  it('an erred event followed by later events cannot be taken out alone: the item turns suspect with ERRED_EVENT', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(7)]));
    const wrongReceive = receive([pack(7)]);
    await s.apply(pharmacy, wrongReceive);
    await s.apply(pharmacy, dispense([pack(7)]));
    const declId = await s.apply(pharmacy, declare(wrongReceive));
    expect(s.status(pack(7))).toBe('suspect');
    expect(s.record(pack(7)).alerts).toEqual([expect.objectContaining({ code: 'ERRED_EVENT', eventId: declId })]);
  });

  it('an observation declared in error changes no status', async () => {
    const s = new State();
    await s.apply(maker, commission([pack(8)]));
    await s.apply(maker, dispense([pack(8)]));
    const seen = ev({ epcList: [pack(8)] });
    await s.apply(maker, seen);
    const before = s.record(pack(8));
    await s.apply(maker, declare(seen));
    expect(s.record(pack(8))).toEqual(before);
  });
});
