import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Member, SignedTx } from '../../../src/chain/types.js';
import { TxError } from '../../../src/common/errors.js';
import { traceRules } from '../../../src/trace/chain-rules.js';
import { canonicalItemKey, effectiveStatus, eventIdOf, type ItemRecord, type ItemStateReader, type JsonObject } from '../../../src/trace/index.js';
import {
  checkReveal,
  commitmentId,
  commitmentOf,
  projectionOf,
  tagKey,
  tagKeyOfId,
  tagOfKey,
  type Projection,
} from '../../../src/trace/private-event.js';
import { isEntitled, partyKey } from '../../../src/trace/entitlement.js';
import { member } from './helpers.js';

const rules = traceRules();

/** Item state in memory, as the chain keeps it: the same scenario is run in public and in private mode. */
class State implements ItemStateReader {
  readonly items = new Map<string, ItemRecord>();
  readonly lots = new Set<string>();
  private n = 0;
  constructor(private readonly mode: 'public' | 'private') {}
  async getItem(key: string): Promise<ItemRecord | undefined> {
    return this.items.get(key);
  }
  async isLotRecalled(gtin: string, lot: string): Promise<boolean> {
    return this.lots.has(`${gtin}|${lot}`);
  }
  async apply(submitter: Member, event: JsonObject): Promise<void> {
    const salt = new Uint8Array(32).fill(this.n + 1);
    const onChain = this.mode === 'public' ? event : (projectionOf(event) as unknown as JsonObject);
    const eventId = this.mode === 'public' ? eventIdOf(event) : commitmentId(commitmentOf(event, salt));
    const tx = { kind: this.mode === 'public' ? 'epcis' : 'private', events: [onChain], eventIds: [eventId] } as unknown as SignedTx;
    rules.checkRoles(tx, submitter);
    const out = await rules.applyEvent(
      { getItem: async (k) => (await this.getItem(k)) as never, isLotRecalled: (l) => this.isLotRecalled(l.gtin, l.lot) },
      { event: onChain, eventId, submitter, blockTime: 1_700_000_000_000 + this.n++ },
    );
    for (const r of out.items) this.items.set(r.key, JSON.parse(JSON.stringify(r)) as ItemRecord);
    for (const l of out.recalledLots) this.lots.add(`${l.gtin}|${l.lot}`);
  }
  /** Status and alert codes of an item, under the key its mode keeps it by. */
  view(epc: string): { status: string; lifecycle: string; alerts: string[]; custodian: string | null; lot: string | null; gtin: string | null; expiry: string | null } {
    const key = this.mode === 'public' ? canonicalItemKey(epc) : (tagKeyOfId(epc) as string);
    const r = this.items.get(key);
    if (!r) throw new Error(`no record for ${epc}`);
    const status = effectiveStatus(r, r.gtin !== null && r.lot !== null && this.lots.has(`${r.gtin}|${r.lot}`));
    return { status, lifecycle: r.lifecycle, alerts: r.alerts.map((a) => a.code), custodian: r.custodian, lot: r.lot, gtin: r.gtin, expiry: r.expiry };
  }
}

const maker = member('manufacturer', 'maker', ['0614141']);
const wholesaler = member('wholesaler', 'wholesaler');
const pharmacy = member('pharmacy', 'pharmacy');
const regulator = member('regulator', 'regulator');
const pack = (n: number): string => `urn:epc:id:sgtin:0614141.107346.${n}`;
const CASE = 'urn:epc:id:sscc:0614141.1234567890';
const GLN_FROM = 'urn:epc:id:sgln:0614141.00001.0';
const GLN_TO = 'urn:epc:id:sgln:0614141.00002.0';
const PO = 'urn:epcglobal:cbv:bt:0614141000010:PO-778899';

let clock = Date.UTC(2024, 2, 1, 8);
function ev(fields: JsonObject): JsonObject {
  clock += 60_000;
  return { type: 'ObjectEvent', eventTime: new Date(clock).toISOString(), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', ...fields };
}
const commission = (epcs: string[], lot: string, expiry: string): JsonObject =>
  ev({ action: 'ADD', bizStep: 'commissioning', disposition: 'active', epcList: epcs, ilmd: { 'cbvmda:lotNumber': lot, 'cbvmda:itemExpirationDate': expiry } });
const packInto = (parent: string, children: string[]): JsonObject => ev({ type: 'AggregationEvent', action: 'ADD', bizStep: 'packing', parentID: parent, childEPCs: children });
const unpack = (parent: string, children: string[]): JsonObject => ev({ type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', parentID: parent, childEPCs: children });
const ship = (epcs: string[]): JsonObject =>
  ev({
    bizStep: 'shipping',
    disposition: 'in_transit',
    epcList: epcs,
    bizTransactionList: [{ type: 'po', bizTransaction: PO }],
    sourceList: [{ type: 'owning_party', source: GLN_FROM }],
    destinationList: [{ type: 'owning_party', destination: GLN_TO }],
    readPoint: { id: GLN_FROM },
  });
const receive = (epcs: string[]): JsonObject => ev({ bizStep: 'receiving', disposition: 'in_progress', epcList: epcs });
const dispense = (epcs: string[]): JsonObject => ev({ bizStep: 'dispensing', disposition: 'dispensed', epcList: epcs });
const lotRecall = (gtinLot: string): JsonObject => ev({ bizStep: 'holding', disposition: 'recalled', quantityList: [{ epcClass: gtinLot, quantity: 1200, uom: 'EA' }] });

async function scenario(mode: 'public' | 'private'): Promise<State> {
  const s = new State(mode);
  await s.apply(maker, commission([pack(1), pack(2), pack(3)], 'LOT1', '2027-12-31'));
  await s.apply(maker, commission([pack(9)], 'LOT2', '2024-01-31'));
  await s.apply(maker, packInto(CASE, [pack(1), pack(2), pack(3)]));
  await s.apply(maker, ship([CASE]));
  await s.apply(wholesaler, receive([CASE]));
  await s.apply(wholesaler, unpack(CASE, [pack(1), pack(2), pack(3)]));
  await s.apply(wholesaler, ship([pack(1), pack(2), pack(3), pack(9)]));
  await s.apply(pharmacy, receive([pack(1), pack(2), pack(3), pack(9)]));
  await s.apply(pharmacy, dispense([pack(1)]));
  await s.apply(pharmacy, dispense([pack(1)]));
  await s.apply(regulator, lotRecall('urn:epc:class:lgtin:0614141.107346.LOT1'));
  await s.apply(pharmacy, dispense([pack(2)]));
  await s.apply(pharmacy, dispense([pack(9)]));
  return s;
}

describe('private events: item status from the projection alone', () => {
  it('dispensing twice, lot recalls and expiry raise the same statuses and alerts in private mode as in public mode', async () => {
    const pub = await scenario('public');
    const priv = await scenario('private');
    for (const epc of [pack(1), pack(2), pack(3), pack(9), CASE]) {
      const a = pub.view(epc);
      const b = priv.view(epc);
      expect({ ...b, custodian: b.custodian }, epc).toEqual({ ...a, gtin: epc === CASE ? null : a.gtin });
    }
    expect(priv.view(pack(1)).alerts).toContain('DISPENSED_TWICE');
    expect(priv.view(pack(2)).alerts).toContain('DISPENSED_AFTER_RECALL');
    expect(priv.view(pack(3)).status).toBe('recalled');
    expect(priv.view(pack(9)).alerts).toContain('DISPENSED_AFTER_EXPIRY');
    expect([...priv.lots]).toEqual([...pub.lots]);
  });

  it('a private item is kept under its tag key; its clear key is nowhere in the state', async () => {
    const priv = await scenario('private');
    const dump = JSON.stringify([...priv.items.entries()]);
    expect(dump).not.toContain('0614141.107346');
    expect(dump).not.toContain(canonicalItemKey(pack(1)));
    expect(priv.items.has(tagKey(tagOfKey(canonicalItemKey(pack(1)))))).toBe(true);
  });
});

describe('private events: the projection', () => {
  it('holds no party, location, business transaction, quantity or clear item identifier', () => {
    const text = JSON.stringify(projectionOf(ship([pack(1), pack(2)])));
    for (const s of [GLN_FROM, GLN_TO, PO, '0614141.00001', 'PO-778899', '107346', 'readPoint', 'quantity']) expect(text).not.toContain(s);
    expect(JSON.parse(text)).toMatchObject({ type: 'PrivateProjection', eventType: 'ObjectEvent', step: 'ship' });
  });

  it('tags are the same for the same item however it is written (URN or Digital Link)', () => {
    expect(tagKeyOfId(pack(5))).toBe(tagKeyOfId('https://id.gs1.org/01/10614141073464/21/5'));
    expect(tagKeyOfId(pack(5))).not.toBe(tagKeyOfId(pack(6)));
  });

  it('the same event with two salts has two commitments', () => {
    const e = ship([pack(1)]);
    expect(commitmentOf(e, new Uint8Array(32).fill(1))).not.toBe(commitmentOf(e, new Uint8Array(32).fill(2)));
  });
});

describe('private events: a body checked against its commitment and projection (fuzz)', () => {
  const event = ship([pack(1), pack(2)]);
  const salt = new Uint8Array(32).fill(7);
  const saltHex = Buffer.from(salt).toString('hex');
  const commitment = commitmentOf(event, salt);
  const projection = projectionOf(event);

  it('the true body, salt and projection pass', () => {
    expect(checkReveal({ event, salt: saltHex }, commitment, projection)).toEqual({ ok: true });
  });

  it('any changed byte in the body is detected', () => {
    const text = JSON.stringify(event);
    fc.assert(
      fc.property(fc.nat({ max: text.length - 1 }), fc.integer({ min: 1, max: 94 }), (at, delta) => {
        const code = ((text.charCodeAt(at) - 32 + delta) % 95) + 32;
        const changed = text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);
        let parsed: JsonObject;
        try {
          parsed = JSON.parse(changed) as JsonObject;
        } catch {
          return; // no longer JSON: nothing to reveal
        }
        expect(checkReveal({ event: parsed, salt: saltHex }, commitment, projection).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('any changed byte in the salt is detected', () => {
    fc.assert(
      fc.property(fc.nat({ max: 31 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const s = Uint8Array.from(salt);
        s[at] = (s[at] as number) ^ x;
        const r = checkReveal({ event, salt: Buffer.from(s).toString('hex') }, commitment, projection);
        expect(r).toMatchObject({ ok: false, reason: 'COMMITMENT_MISMATCH' });
      }),
    );
  });

  it('any changed byte in the projection is detected', () => {
    const text = JSON.stringify(projection);
    fc.assert(
      fc.property(fc.nat({ max: text.length - 1 }), fc.integer({ min: 1, max: 94 }), (at, delta) => {
        const code = ((text.charCodeAt(at) - 32 + delta) % 95) + 32;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1));
        } catch {
          return;
        }
        // A change JSON reads away (whitespace) leaves the same projection: nothing was changed.
        if (JSON.stringify(parsed) === text) return;
        expect(checkReveal({ event, salt: saltHex }, commitment, parsed)).toMatchObject({ ok: false, reason: 'PROJECTION_MISMATCH' });
      }),
      { numRuns: 300 },
    );
  });

  it('a salt that is not 32 bytes of hex is refused', () => {
    expect(checkReveal({ event, salt: 'zz' }, commitment, projection)).toMatchObject({ ok: false, reason: 'BAD_SALT' });
  });
});

describe('private tx rules: one test per error code', () => {
  const projection = projectionOf(ship([pack(1)])) as unknown as Record<string, unknown>;
  const id = commitmentId('ab'.repeat(32));
  const tx = (events: Record<string, unknown>[], eventIds = [id]): SignedTx => ({ v: 1, chain: '00'.repeat(32), kind: 'private', submitter: '11'.repeat(20), time: 0, events, eventIds, sig: '22'.repeat(64) });
  const codeOf = (f: () => void): string => {
    try {
      f();
    } catch (err) {
      if (err instanceof TxError) return err.type.code;
      throw err;
    }
    return 'none';
  };

  it('a well-formed private tx from a member allowed its action passes', () => {
    expect(codeOf(() => rules.checkEvents(tx([projection]), maker))).toBe('none');
  });
  it('INVALID_EVENT: a projection with a field it may not carry (a clear EPC)', () => {
    expect(codeOf(() => rules.checkEvents(tx([{ ...projection, epcList: [pack(1)] }]), null))).toBe('INVALID_EVENT');
  });
  it('INVALID_EVENT: a clear EPCIS event in a private tx', () => {
    expect(codeOf(() => rules.checkEvents(tx([ship([pack(1)])]), null))).toBe('INVALID_EVENT');
  });
  it('BAD_EVENT_ID: an event ID that is not a commitment', () => {
    expect(codeOf(() => rules.checkEvents(tx([projection], ['urn:uuid:1']), null))).toBe('BAD_EVENT_ID');
  });
  it('ROLE_VIOLATION: a pharmacy shipping', () => {
    expect(codeOf(() => rules.checkEvents(tx([projection]), pharmacy))).toBe('ROLE_VIOLATION');
  });
  it('ROLE_VIOLATION (foreign prefix): a manufacturer commissioning a lot under another company prefix', () => {
    const p = projectionOf(commission([pack(1)], 'L', '2030-01-01')) as Projection;
    const other = member('manufacturer', 'other', ['0999999']);
    expect(codeOf(() => rules.checkEvents(tx([p as unknown as Record<string, unknown>]), other))).toBe('ROLE_VIOLATION');
    expect(codeOf(() => rules.checkEvents(tx([p as unknown as Record<string, unknown>]), maker))).toBe('none');
  });
});

describe('entitlement: who gets a private body', () => {
  const event = ship([pack(1)]);
  const withParties = (m: Member, parties: string[]): Member => ({ ...m, parties });
  it('the submitter, the members named as source or destination, and regulators; nobody else', () => {
    expect(isEntitled(maker, event, maker.id)).toBe(true);
    expect(isEntitled(regulator, event, maker.id)).toBe(true);
    expect(isEntitled(withParties(wholesaler, [GLN_TO]), event, maker.id)).toBe(true);
    expect(isEntitled(wholesaler, event, maker.id)).toBe(false);
    expect(isEntitled(withParties(pharmacy, ['urn:epc:id:pgln:0614141.99999']), event, maker.id)).toBe(false);
  });
  it('a GLN matches however it is written (SGLN URN, PGLN URN, Digital Link)', () => {
    expect(isEntitled(withParties(wholesaler, ['urn:epc:id:pgln:0614141.00002']), event, maker.id)).toBe(true);
    expect(partyKey('https://id.gs1.org/414/0614141000029')).toBe(partyKey(GLN_TO));
  });
});

describe('private events: the alert rules read the projection', () => {
  it('a dispense leaves the supply chain and a recall recalls, as in public mode; no location or code is read', () => {
    const facts = rules.alerts?.eventFacts;
    if (facts === undefined) throw new Error('the trace rules have alert rules');
    for (const event of [dispense([pack(1)]), lotRecall('urn:epc:class:lgtin:0614141.107346.LOT1'), ship([pack(1)])]) {
      const pub = facts(event);
      const priv = facts(projectionOf(event) as unknown as JsonObject);
      expect({ leaves: priv.leaves, recalls: priv.recalls }).toEqual({ leaves: pub.leaves, recalls: pub.recalls });
      expect(priv.location ?? null).toBeNull();
      expect(priv.codes).toEqual([]);
    }
    expect(facts(projectionOf(dispense([pack(1)])) as unknown as JsonObject).leaves).toBe('dispensed');
  });
});
