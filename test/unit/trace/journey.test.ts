import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalItemKey,
  classKeysOf,
  comparePositions,
  journeyPage,
  linksOfEvent,
  roleOfKind,
  MAX_LINKED_ITEMS,
  type HistoryRef,
  type JourneyReader,
  type JourneyStep,
  type JsonObject,
  type LinkRecord,
  type LinkRole,
  type Position,
  type RoleLinkRecord,
} from '../../../src/trace/index.js';
import { itemKeysOfEvent } from '../../../src/trace/chain-rules.js';

/**
 * The chain's role, in memory: events get positions in chain order (a few per tx, a few txs per
 * block), the history and links indexes are built from them with the same functions the chain
 * uses, and the reader answers range reads on them as the store does.
 */
class Ledger implements JourneyReader {
  readonly events: { pos: Position; event: JsonObject; name: string; eventId: string }[] = [];
  private readonly hist = new Map<string, HistoryRef[]>();
  private readonly link = new Map<string, LinkRecord[]>();
  readonly reads: string[] = [];
  private pos: Position = { height: 1, txIndex: 0, eventIndex: 0 };

  /** Record an event; `same` keeps it in the tx of the previous one. */
  add(name: string, event: JsonObject, opts: { same?: boolean } = {}): this {
    if (this.events.length > 0) {
      const p = this.pos;
      if (opts.same) this.pos = { ...p, eventIndex: p.eventIndex + 1 };
      else if (p.txIndex < 2) this.pos = { height: p.height, txIndex: p.txIndex + 1, eventIndex: 0 };
      else this.pos = { height: p.height + 1, txIndex: 0, eventIndex: 0 };
    }
    const pos = this.pos;
    const eventId = `ni:///sha-256;${this.events.length.toString(16).padStart(64, '0')}?ver=CBV2.0`;
    this.events.push({ pos, event, name, eventId });
    for (const key of new Set(itemKeysOfEvent(event))) this.push(this.hist, key, { ...pos, eventId });
    for (const l of linksOfEvent(event)) {
      const r: LinkRecord = { ...pos, kind: l.kind };
      if (l.other !== undefined) r.other = l.other;
      this.push(this.link, `${l.key}|${roleOfKind(l.kind)}`, r);
    }
    return this;
  }

  private push<T extends Position>(m: Map<string, T[]>, k: string, v: T): void {
    const list = m.get(k) ?? [];
    list.push(v);
    m.set(k, list);
  }

  private range<T extends Position>(list: readonly T[], r: { after?: Position; upTo?: Position; limit: number }): T[] {
    return list.filter((x) => (r.after === undefined || comparePositions(x, r.after) > 0) && (r.upTo === undefined || comparePositions(x, r.upTo) <= 0)).slice(0, r.limit);
  }

  async links(key: string, role: LinkRole, r: { after?: Position; upTo?: Position; limit: number }): Promise<LinkRecord[]> {
    this.reads.push(`links ${role} ${key}`);
    return this.range(this.link.get(`${key}|${role}`) ?? [], r);
  }

  async linksBefore(key: string, role: LinkRole, at: Position, limit: number): Promise<LinkRecord[]> {
    this.reads.push(`links back ${role} ${key}`);
    return (this.link.get(`${key}|${role}`) ?? []).filter((x) => comparePositions(x, at) <= 0).reverse().slice(0, limit);
  }

  /** With `bounded`, every key looks as if it had too many records to read at once (the bounded range reads are used). */
  bounded = false;

  async allLinks(key: string, limit: number): Promise<RoleLinkRecord[]> {
    this.reads.push(`links all ${key}`);
    const out: RoleLinkRecord[] = [];
    for (const role of ['child', 'parent', 'transform'] as const) for (const r of this.link.get(`${key}|${role}`) ?? []) out.push({ ...r, role });
    if (this.bounded) return Array.from({ length: limit }, () => ({ height: 0, txIndex: 0, eventIndex: 0, kind: 'left' as const, role: 'child' as const }));
    return out.slice(0, limit);
  }

  async history(key: string, r: { after?: Position; upTo?: Position; limit: number }): Promise<HistoryRef[]> {
    this.reads.push(`history ${key}`);
    return this.range(this.hist.get(key) ?? [], r);
  }

  async event(at: Position): Promise<Record<string, unknown>> {
    const e = this.events.find((x) => comparePositions(x.pos, at) === 0);
    if (!e) throw new Error('no event there');
    return e.event;
  }

  nameOf(step: HistoryRef): string {
    const e = this.events.find((x) => x.eventId === step.eventId);
    if (!e) throw new Error(`unknown event ${step.eventId}`);
    return e.name;
  }

  /** The whole journey of `epc`, page by page, as "name" or "name via X". */
  async journey(epc: string, opts: { limit?: number; lot?: string } = {}): Promise<string[]> {
    const steps = await this.steps(epc, opts);
    const showPath = (s: JourneyStep): boolean => s.path !== undefined && (s.path.length > 1 || s.via === 'input' || s.via === 'output');
    return steps.map((s) => (s.via === undefined ? this.nameOf(s) : `${this.nameOf(s)} via ${short(s.via)}${showPath(s) ? ` [${(s.path ?? []).map(short).join(' > ')}]` : ''}`));
  }

  /** The steps, paged; the same whether keys' records are read at once or by bounded reads. */
  async steps(epc: string, opts: { limit?: number; lot?: string } = {}): Promise<JourneyStep[]> {
    const was = this.bounded;
    this.bounded = !was;
    const other = await this.stepsAs(epc, opts);
    this.bounded = was;
    const steps = await this.stepsAs(epc, opts);
    expect(other).toEqual(steps);
    return steps;
  }

  private async stepsAs(epc: string, opts: { limit?: number; lot?: string }): Promise<JourneyStep[]> {
    const info = { key: canonicalItemKey(epc), gtin: /\/01\/(\d{14})/.exec(canonicalItemKey(epc))?.[1] ?? null, lot: opts.lot ?? null };
    const out: JourneyStep[] = [];
    let after: Position | undefined;
    for (let pages = 0; pages < 10_000; pages++) {
      const page = await journeyPage(this, info.key, { after, limit: opts.limit ?? 1000, classKeys: classKeysOf(info) });
      out.push(...page.steps);
      if (!page.more) return out;
      after = page.steps[page.steps.length - 1];
    }
    throw new Error('paging did not end');
  }
}

/** Container and item names as the tests wrote them (the keys are canonical Digital Links). */
const NAMES = new Map<string, string>();
function short(key: string): string {
  return NAMES.get(key) ?? key;
}
function named(name: string, epc: string): string {
  NAMES.set(canonicalItemKey(epc), name);
  return epc;
}

const pack = (n: number): string => named(`pack${n}`, `urn:epc:id:sgtin:0614141.107346.${n}`);
const sscc = (name: string, n: number): string => named(name, `urn:epc:id:sscc:0614141.${String(n).padStart(10, '0')}`);
const CASE = sscc('case', 1);
const CASE2 = sscc('case2', 2);
const PALLET = sscc('pallet', 3);
const CONTAINER = sscc('container', 4);
const BUNDLE = sscc('bundle', 5);
const LOT = 'urn:epc:class:lgtin:0614141.107346.LOT1';
named('lot LOT1', LOT);
const GTIN = 'urn:epc:idpat:sgtin:0614141.107346.*';
named('gtin', GTIN);

let clock = Date.UTC(2025, 0, 1);
function ev(fields: JsonObject): JsonObject {
  clock += 60_000;
  return { type: 'ObjectEvent', eventTime: new Date(clock).toISOString(), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', ...fields };
}
const commission = (epcs: string[], lot = 'LOT1'): JsonObject => ev({ action: 'ADD', bizStep: 'commissioning', epcList: epcs, ilmd: { 'cbvmda:lotNumber': lot } });
const packInto = (parent: string, children: string[], bizStep = 'packing'): JsonObject => ev({ type: 'AggregationEvent', action: 'ADD', bizStep, parentID: parent, childEPCs: children });
const unpack = (parent: string, children: string[] = []): JsonObject => ev({ type: 'AggregationEvent', action: 'DELETE', bizStep: 'unpacking', parentID: parent, childEPCs: children });
const step = (bizStep: string, epcs: string[]): JsonObject => ev({ bizStep, epcList: epcs });
const recallLot = (cls: string): JsonObject => ev({ bizStep: 'holding', disposition: 'recalled', quantityList: [{ epcClass: cls }] });

describe('linksOfEvent: the link records an event makes', () => {
  it('aggregation ADD puts each child in the parent, whatever the bizStep; DELETE takes the named out, or empties the parent', () => {
    const k = canonicalItemKey;
    expect(linksOfEvent(packInto(CASE, [pack(1), pack(2), CASE]))).toEqual([
      { key: k(pack(1)), kind: 'in', other: k(CASE) },
      { key: k(pack(2)), kind: 'in', other: k(CASE) },
    ]);
    expect(linksOfEvent(packInto(CASE, [pack(1)], 'commissioning'))).toEqual([{ key: k(pack(1)), kind: 'in', other: k(CASE) }]);
    expect(linksOfEvent(unpack(CASE, [pack(1)]))).toEqual([{ key: k(pack(1)), kind: 'out', other: k(CASE) }]);
    expect(linksOfEvent(unpack(CASE))).toEqual([{ key: k(CASE), kind: 'emptied' }]);
    // An OBSERVE aggregation confirms, it does not move anything; a non-GS1 parent is not followed.
    expect(linksOfEvent(ev({ type: 'AggregationEvent', action: 'OBSERVE', parentID: k(CASE), childEPCs: [pack(1)] }))).toEqual([]);
    expect(linksOfEvent(packInto('urn:example:tote:7', [pack(1)]))).toEqual([]);
  });

  it('dispensing, decommissioning and destroying make an item leave; shipping does not', () => {
    const k = canonicalItemKey;
    expect(linksOfEvent(step('dispensing', [pack(1)]))).toEqual([{ key: k(pack(1)), kind: 'left' }]);
    expect(linksOfEvent(ev({ action: 'DELETE', bizStep: 'decommissioning', epcList: [pack(1)] }))).toEqual([{ key: k(pack(1)), kind: 'left' }]);
    expect(linksOfEvent(step('destroying', [pack(1)]))).toEqual([{ key: k(pack(1)), kind: 'left' }]);
    expect(linksOfEvent(step('shipping', [pack(1)]))).toEqual([]);
    expect(linksOfEvent(commission([pack(1)]))).toEqual([]);
  });

  it('a transformation consumes its inputs and links inputs and outputs', () => {
    const k = canonicalItemKey;
    const t = ev({ type: 'TransformationEvent', bizStep: 'repackaging', inputEPCList: [pack(1), pack(2)], outputEPCList: [pack(3), pack(2)] });
    expect(linksOfEvent(t)).toEqual([
      { key: k(pack(1)), kind: 'left' },
      { key: k(pack(1)), kind: 'input' },
      { key: k(pack(2)), kind: 'left' },
      { key: k(pack(2)), kind: 'input-output' },
      { key: k(pack(3)), kind: 'output' },
    ]);
  });
});

describe('classKeysOf', () => {
  it('a pack has its lot and its GTIN; a lot has its GTIN; an SSCC has none', () => {
    expect(classKeysOf({ key: canonicalItemKey(pack(1)), gtin: '10614141073464', lot: 'L/1' })).toEqual([
      'https://id.gs1.org/01/10614141073464/10/L%2F1',
      'https://id.gs1.org/01/10614141073464',
    ]);
    expect(classKeysOf({ key: canonicalItemKey(pack(1)), gtin: '10614141073464', lot: null })).toEqual(['https://id.gs1.org/01/10614141073464']);
    expect(classKeysOf({ key: canonicalItemKey(LOT), gtin: '10614141073464', lot: 'LOT1' })).toEqual(['https://id.gs1.org/01/10614141073464']);
    expect(classKeysOf({ key: canonicalItemKey(GTIN), gtin: '10614141073464', lot: null })).toEqual([]);
    expect(classKeysOf({ key: canonicalItemKey(CASE), gtin: null })).toEqual([]);
  });
});

describe('journeyPage: a pack and its containers', () => {
  it('pack → unpack windows: case events before the pack was packed and after it was taken out are not in its journey', async () => {
    const l = new Ledger()
      .add('commission', commission([pack(1), pack(2)]))
      .add('case inspected before packing', step('inspecting', [CASE]))
      .add('pack', packInto(CASE, [pack(1), pack(2)]))
      .add('ship case', step('shipping', [CASE]))
      .add('receive case', step('receiving', [CASE]), { same: true })
      .add('unpack pack1', unpack(CASE, [pack(1)]))
      .add('ship case again', step('shipping', [CASE]))
      .add('receive case again', step('receiving', [CASE]))
      .add('dispense pack1', step('dispensing', [pack(1)]));
    expect(await l.journey(pack(1))).toEqual(['commission', 'pack', 'ship case via case', 'receive case via case', 'unpack pack1', 'dispense pack1']);
    // pack2 is still in the case: it travelled on with it.
    expect(await l.journey(pack(2))).toEqual(['commission', 'pack', 'ship case via case', 'receive case via case', 'unpack pack1 via case', 'ship case again via case', 'receive case again via case']);
    // The case's own trace is unchanged: every event naming it, none of its packs' own.
    expect(await l.journey(CASE)).toEqual(['case inspected before packing', 'pack', 'ship case', 'receive case', 'unpack pack1', 'ship case again', 'receive case again']);
  });

  it('an unpack naming no children empties the case; dispensing from a case ends the pack’s time in it', async () => {
    const l = new Ledger()
      .add('pack', packInto(CASE, [pack(1), pack(2)]))
      .add('ship case', step('shipping', [CASE]))
      .add('dispense pack2 from the case', step('dispensing', [pack(2)]))
      .add('case seen', step('inspecting', [CASE]))
      .add('unpack all', unpack(CASE))
      .add('case reused', step('shipping', [CASE]));
    expect(await l.journey(pack(1))).toEqual(['pack', 'ship case via case', 'case seen via case', 'unpack all via case']);
    expect(await l.journey(pack(2))).toEqual(['pack', 'ship case via case', 'dispense pack2 from the case']);
  });

  it('the commissioning of a pre-packed parent puts its packs in it', async () => {
    const l = new Ledger()
      .add('commission packs in their case', packInto(CASE, [pack(1)], 'commissioning'))
      .add('ship case', step('shipping', [CASE]))
      .add('unpack', unpack(CASE, [pack(1)]))
      .add('ship case empty', step('shipping', [CASE]));
    expect(await l.journey(pack(1))).toEqual(['commission packs in their case', 'ship case via case', 'unpack']);
  });

  it('follows 4 levels of nesting, each event through the container it names, only while every level held', async () => {
    const l = new Ledger()
      .add('container shipped before', step('shipping', [CONTAINER]))
      .add('pack in bundle', packInto(BUNDLE, [pack(1)]))
      .add('bundle in case', packInto(CASE, [BUNDLE]))
      .add('case on pallet', packInto(PALLET, [CASE]))
      .add('pallet in container', packInto(CONTAINER, [PALLET]))
      .add('container shipped', step('shipping', [CONTAINER]))
      .add('pallet seen', step('inspecting', [PALLET]), { same: true })
      .add('case seen', step('inspecting', [CASE]), { same: true })
      .add('bundle seen', step('inspecting', [BUNDLE]))
      .add('container received', step('receiving', [CONTAINER]))
      .add('pallet out of container', unpack(CONTAINER, [PALLET]))
      .add('container shipped back', step('shipping', [CONTAINER]))
      .add('pallet shipped', step('shipping', [PALLET]))
      .add('case off pallet', unpack(PALLET, [CASE]))
      .add('pallet shipped empty', step('shipping', [PALLET]))
      .add('bundle out of case', unpack(CASE, [BUNDLE]))
      .add('case shipped empty', step('shipping', [CASE]))
      .add('pack out of bundle', unpack(BUNDLE, [pack(1)]))
      .add('bundle shipped empty', step('shipping', [BUNDLE]));
    expect(await l.journey(pack(1))).toEqual([
      'pack in bundle',
      'bundle in case via bundle',
      'case on pallet via case [bundle > case]',
      'pallet in container via pallet [bundle > case > pallet]',
      'container shipped via container [bundle > case > pallet > container]',
      'pallet seen via pallet [bundle > case > pallet]',
      'case seen via case [bundle > case]',
      'bundle seen via bundle',
      'container received via container [bundle > case > pallet > container]',
      'pallet out of container via pallet [bundle > case > pallet]',
      'pallet shipped via pallet [bundle > case > pallet]',
      'case off pallet via case [bundle > case]',
      'bundle out of case via bundle',
      'pack out of bundle',
    ]);
    // A case put on the pallet after the pack left it does not bring the pallet's events.
    const steps = await l.steps(pack(1));
    expect(steps.find((s) => l.nameOf(s) === 'container shipped')).toMatchObject({ via: canonicalItemKey(CONTAINER), path: [BUNDLE, CASE, PALLET, CONTAINER].map(canonicalItemKey) });
  });

  it('re-packing into another case ends the first case’s window without an unpack', async () => {
    const l = new Ledger()
      .add('pack in case', packInto(CASE, [pack(1), pack(2)]))
      .add('ship case', step('shipping', [CASE]))
      .add('re-pack into case2', packInto(CASE2, [pack(1)]))
      .add('ship case', step('shipping', [CASE]))
      .add('ship case2', step('shipping', [CASE2]))
      .add('pack in case again', packInto(CASE, [pack(1)]))
      .add('receive case', step('receiving', [CASE]))
      .add('receive case2', step('receiving', [CASE2]));
    expect(await l.journey(pack(1))).toEqual(['pack in case', 'ship case via case', 're-pack into case2', 'ship case2 via case2', 'pack in case again', 'receive case via case']);
  });

  it('a lot recall before dispensing and one after it are both in the journey, in chain order, via class', async () => {
    const before = new Ledger()
      .add('commission', commission([pack(1)]))
      .add('recall LOT1', recallLot(LOT))
      .add('recall LOT2', recallLot('urn:epc:class:lgtin:0614141.107346.LOT2'))
      .add('dispense', step('dispensing', [pack(1)]));
    expect(await before.journey(pack(1), { lot: 'LOT1' })).toEqual(['commission', 'recall LOT1 via class', 'dispense']);
    const after = new Ledger()
      .add('commission', commission([pack(1)]))
      .add('dispense', step('dispensing', [pack(1)]))
      .add('recall LOT1', recallLot(LOT))
      .add('GTIN-wide hold', ev({ bizStep: 'holding', quantityList: [{ epcClass: GTIN }] }));
    const steps = await after.steps(pack(1), { lot: 'LOT1' });
    expect(steps.map((s) => [after.nameOf(s), s.via, s.path])).toEqual([
      ['commission', undefined, undefined],
      ['dispense', undefined, undefined],
      ['recall LOT1', 'class', ['https://id.gs1.org/01/10614141073464/10/LOT1']],
      ['GTIN-wide hold', 'class', ['https://id.gs1.org/01/10614141073464']],
    ]);
  });

  it('a transformation brings one level of its inputs’ journeys (with their containers), not their own transformations', async () => {
    const l = new Ledger()
      .add('input1 in case', packInto(CASE, [pack(1)]))
      .add('case shipped', step('shipping', [CASE]))
      .add('input1 out', unpack(CASE, [pack(1)]))
      .add('input2 made from pack9', ev({ type: 'TransformationEvent', bizStep: 'repackaging', inputEPCList: [pack(9)], outputEPCList: [pack(2)] }))
      .add('pack9 commissioned', commission([pack(9)]))
      .add('repack into kit', ev({ type: 'TransformationEvent', bizStep: 'repackaging', inputEPCList: [pack(1), pack(2)], outputEPCList: [pack(3)] }))
      .add('kit shipped', step('shipping', [pack(3)]));
    expect(await l.journey(pack(3))).toEqual([
      'input1 in case via input [pack1]',
      'case shipped via input [pack1 > case]',
      'input1 out via input [pack1]',
      'input2 made from pack9 via input [pack2]',
      'repack into kit',
      'kit shipped',
    ]);
    // From an input: the outputs' journeys.
    expect(await l.journey(pack(1))).toEqual(['input1 in case', 'case shipped via case', 'input1 out', 'repack into kit', 'kit shipped via output [pack3]']);
  });

  it('a transformation with more items than a journey follows says so', async () => {
    const inputs = Array.from({ length: MAX_LINKED_ITEMS + 1 }, (_, i) => pack(1000 + i));
    const l = new Ledger().add('kit', ev({ type: 'TransformationEvent', bizStep: 'repackaging', inputEPCList: inputs, outputEPCList: [pack(3)] }));
    const page = await journeyPage(l, canonicalItemKey(pack(3)), { limit: 10, classKeys: [] });
    expect(page.linksTruncated).toBe(true);
    const few = new Ledger().add('kit', ev({ type: 'TransformationEvent', bizStep: 'repackaging', inputEPCList: inputs.slice(0, 3), outputEPCList: [pack(3)] }));
    expect((await journeyPage(few, canonicalItemKey(pack(3)), { limit: 10, classKeys: [] })).linksTruncated).toBe(false);
  });

  it('containers packed into each other (a cycle on the chain) end the walk', async () => {
    const l = new Ledger()
      .add('pack in case', packInto(CASE, [pack(1)]))
      .add('case on pallet', packInto(PALLET, [CASE]))
      .add('pallet in case', packInto(CASE, [PALLET]))
      .add('pallet shipped', step('shipping', [PALLET]))
      .add('case shipped', step('shipping', [CASE]));
    expect(await l.journey(pack(1))).toEqual(['pack in case', 'case on pallet via case', 'pallet in case via case', 'pallet shipped via pallet [case > pallet]', 'case shipped via case']);
  });

  it('pages a long journey: every page size gives the same steps, each read bounded by the page', async () => {
    const l = new Ledger().add('pack', packInto(CASE, [pack(1)]));
    const expected = ['pack'];
    for (let i = 0; i < 60; i++) {
      l.add(`case ${i}`, step('inspecting', [CASE]), { same: i % 3 === 1 });
      expected.push(`case ${i} via case`);
      if (i % 7 === 0) {
        l.add(`pack ${i}`, step('inspecting', [pack(1)]));
        expected.push(`pack ${i}`);
      }
      if (i % 11 === 0) {
        l.add(`recall ${i}`, recallLot(LOT));
        expected.push(`recall ${i} via class`);
      }
    }
    l.add('out', unpack(CASE, [pack(1)])).add('case after', step('shipping', [CASE]));
    expected.push('out');
    const full = await l.journey(pack(1), { lot: 'LOT1' });
    expect(full).toEqual(expected);
    for (const limit of [1, 2, 3, 5, 8, 13, 100]) expect(await l.journey(pack(1), { limit, lot: 'LOT1' })).toEqual(full);
    // One page reads at most limit+1 entries of any source.
    const big = new Ledger().add('pack', packInto(CASE, [pack(1)]));
    for (let i = 0; i < 500; i++) big.add(`case ${i}`, step('inspecting', [CASE]));
    const page = await journeyPage(big, canonicalItemKey(pack(1)), { limit: 5, classKeys: [] });
    expect(page.steps).toHaveLength(5);
    expect(page.more).toBe(true);
  });
});

describe('journeyPage agrees with a replay of the chain, whatever the events (property)', () => {
  const ITEMS = [pack(1), pack(2), CASE, CASE2, PALLET];
  type Op = { t: 'add'; parent: number; kids: number[] } | { t: 'del'; parent: number; kids: number[] } | { t: 'dispense' | 'seen'; item: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ t: fc.constant('add' as const), parent: fc.integer({ min: 2, max: 4 }), kids: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ t: fc.constant('del' as const), parent: fc.integer({ min: 2, max: 4 }), kids: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }) }),
    fc.record({ t: fc.constantFrom('dispense' as const, 'seen' as const), item: fc.integer({ min: 0, max: 4 }) }),
  );

  /** The obvious way: replay parent pointers event by event; an event belongs if it names the item or anything above it just before or just after it. */
  function replay(ops: Op[], item: number): string[] {
    const parent = new Map<number, number>();
    const above = (x: number): Set<number> => {
      const out = new Set<number>();
      for (let p = parent.get(x); p !== undefined && !out.has(p) && p !== x; p = parent.get(p)) out.add(p);
      return out;
    };
    const out: string[] = [];
    ops.forEach((o, i) => {
      const named = o.t === 'add' || o.t === 'del' ? [o.parent, ...o.kids] : [o.item];
      const before = above(item);
      if (o.t === 'add') for (const k of o.kids) if (k !== o.parent) parent.set(k, o.parent);
      if (o.t === 'del') {
        const kids = o.kids.filter((k) => k !== o.parent);
        if (kids.length === 0) for (const [k, p] of [...parent]) if (p === o.parent) parent.delete(k);
        for (const k of kids) if (parent.get(k) === o.parent) parent.delete(k);
      }
      if (o.t === 'dispense') parent.delete(o.item);
      const after = above(item);
      if (named.includes(item) || named.some((n) => before.has(n) || after.has(n))) out.push(`e${i}`);
    });
    return out;
  }

  it('for every item and every page size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), fc.boolean(), async (ops, limit, same, bounded) => {
        const l = new Ledger();
        l.bounded = bounded;
        ops.forEach((o, i) => {
          const name = `e${i}`;
          const opts = { same: same[i] === true };
          if (o.t === 'add') l.add(name, packInto(ITEMS[o.parent] as string, o.kids.map((k) => ITEMS[k] as string)), opts);
          else if (o.t === 'del') l.add(name, unpack(ITEMS[o.parent] as string, o.kids.map((k) => ITEMS[k] as string)), opts);
          else l.add(name, step(o.t === 'dispense' ? 'dispensing' : 'inspecting', [ITEMS[o.item] as string]), opts);
        });
        for (let item = 0; item < ITEMS.length; item++) {
          const want = replay(ops, item);
          const got = (await l.steps(ITEMS[item] as string, { limit })).map((s) => l.nameOf(s));
          expect(got, `item ${item}, limit ${limit}`).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('journeyPage: a failing read', () => {
  it('fails the page with that read’s error, and leaves no promise rejected unhandled', async () => {
    const l = new Ledger().add('pack', packInto(CASE, [pack(1)])).add('ship case', step('shipping', [CASE]));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const broken: JourneyReader = {
        links: (k, r, range) => l.links(k, r, range),
        linksBefore: (k, r, at, n) => l.linksBefore(k, r, at, n),
        allLinks: async (k, n) => {
          if (k === canonicalItemKey(CASE)) throw new Error('disk on fire');
          return l.allLinks(k, n);
        },
        history: async (k, r) => {
          await new Promise((res) => setTimeout(res, 20));
          if (k !== canonicalItemKey(pack(1))) throw new Error(`history of ${k} failed too`);
          return l.history(k, r);
        },
        event: (at) => l.event(at),
      };
      await expect(journeyPage(broken, canonicalItemKey(pack(1)), { limit: 10, classKeys: [canonicalItemKey(LOT)] })).rejects.toThrow('disk on fire');
      await new Promise((res) => setTimeout(res, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
