/**
 * An item's journey: the events that tell where it has been, in chain order.
 *
 * Besides the events naming the item itself, a journey holds
 *   - the events of every container the item was in, while it was in it: from the
 *     AggregationEvent ADD that put it in (packing, or the commissioning of a pre-packed parent)
 *     to the one that took it out (DELETE naming it, or naming no children: the container was
 *     emptied), to a re-packing into another container, or to the item leaving the supply chain
 *     (dispensed, decommissioned, destroyed, consumed by a transformation); through every nesting
 *     level (pack in case in pallet: the pallet's events while the case was on it and the pack in
 *     the case), each marked with the container it came through;
 *   - the class-level events of its lot (LGTIN) and of its GTIN without lot, marked `class`;
 *   - one level of transformations: the journeys (own and container events, not their class
 *     events nor their own transformations) of the items a transformation made it from (inputs)
 *     or made from it (outputs).
 *
 * Pure: what it reads comes through a JourneyReader (the store's history and links indexes, at
 * the edge), and `linksOfEvent` says which index records an event makes, so the chain can write
 * them at block connect. Every read is bounded by the page size: an item's link records are a
 * subset of its own history (each names the item), so records past the (limit+1)-th after the
 * cursor cannot change the page.
 */
import type { LinkKind, LinkRecord, LinkRole, Position, RoleLinkRecord } from '../chain/store.js';
import type { JsonObject } from '../common/json.js';
import { eventFacts, type EventFacts } from './actions.js';
import { encodeDigitalLinkValue, itemKeyOrUndefined } from './identifiers.js';

export type { LinkKind, LinkRecord, LinkRole, Position, RoleLinkRecord } from '../chain/store.js';
export { roleOfKind } from '../chain/store.js';

/** One link record an event makes for one item (`other`: the container, for `in` and `out`). */
export interface Link {
  key: string;
  kind: LinkKind;
  other?: string;
}

/** An entry of the EPC history index. */
export interface HistoryRef extends Position {
  eventId: string;
}

export function comparePositions(a: Position, b: Position): number {
  return a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex;
}

/** The position just before `p` (its eventIndex may be −1: "strictly after" it means "from p on"). */
export function justBefore(p: Position): Position {
  return { height: p.height, txIndex: p.txIndex, eventIndex: p.eventIndex - 1 };
}

function later(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}

function earlier(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return comparePositions(a, b) <= 0 ? a : b;
}

/** Canonical keys of the identifiers that are GS1 keys (the history index follows no others either). */
function keysOf(ids: readonly string[]): string[] {
  return [...new Set(ids.map(itemKeyOrUndefined).filter((k): k is string => k !== undefined))];
}

const LEAVING = new Set(['dispense', 'decommission', 'destroy']);

/**
 * The link records one event makes. Containment follows EPCIS aggregation semantics, whatever
 * the bizStep: an AggregationEvent ADD puts its child EPCs in its parent (packing, or the
 * commissioning of a pre-packed parent), a DELETE takes the named ones out, or all of them when
 * it names none (the parent is `emptied`). Dispensing, decommissioning and destroying an item
 * (any event type but aggregation) and consuming it in a transformation make it `left`.
 * Identifiers that are not GS1 keys (not in the history index either) make none.
 */
export function linksOfEvent(event: Record<string, unknown>): Link[] {
  const f: EventFacts = eventFacts(event as JsonObject);
  const out: Link[] = [];
  if (f.type === 'AggregationEvent' && (f.action === 'ADD' || f.action === 'DELETE')) {
    const parent = f.parentID !== undefined ? itemKeyOrUndefined(f.parentID) : undefined;
    if (parent === undefined) return out;
    const children = keysOf(f.epcs).filter((k) => k !== parent);
    if (f.action === 'ADD') for (const key of children) out.push({ key, kind: 'in', other: parent });
    else if (children.length > 0) for (const key of children) out.push({ key, kind: 'out', other: parent });
    else out.push({ key: parent, kind: 'emptied' });
    return out;
  }
  if (f.type === 'TransformationEvent') {
    const inputs = keysOf(f.inputs);
    const outputs = new Set(keysOf(f.epcs));
    for (const key of inputs) {
      out.push({ key, kind: 'left' });
      out.push({ key, kind: outputs.has(key) ? 'input-output' : 'input' });
    }
    for (const key of outputs) if (!inputs.includes(key)) out.push({ key, kind: 'output' });
    return out;
  }
  if (LEAVING.has(f.primary)) {
    const subjects = [...f.epcs];
    if (f.parentID !== undefined) subjects.push(f.parentID);
    for (const key of keysOf(subjects)) out.push({ key, kind: 'left' });
  }
  return out;
}

/**
 * The class keys whose events belong to an item's journey: its lot (LGTIN) and its GTIN without
 * lot. An LGTIN's journey gets its GTIN's; other keys (SSCC, GLN, …) have none.
 */
export function classKeysOf(item: { key: string; gtin?: string | null; serial?: string | null; lot?: string | null }): string[] {
  if (item.gtin === undefined || item.gtin === null) return [];
  const gtinKey = `https://id.gs1.org/01/${item.gtin}`;
  if (item.key === gtinKey) return [];
  const out: string[] = [];
  if (item.lot !== undefined && item.lot !== null && item.lot !== '') {
    const lotKey = `${gtinKey}/10/${encodeDigitalLinkValue(item.lot)}`;
    if (lotKey !== item.key) out.push(lotKey);
  }
  out.push(gtinKey);
  return out;
}

/** What the journey needs from the store (history and links indexes, main-chain events). */
export interface JourneyReader {
  /** `key`'s link records of `role` in chain order: strictly after `after` (from the first without it), up to `upTo` inclusive, at most `limit`. */
  links(key: string, role: LinkRole, range: { after?: Position; upTo?: Position; limit: number }): Promise<LinkRecord[]>;
  /** `key`'s link records of `role` at or before `at`, newest first, at most `limit`. */
  linksBefore(key: string, role: LinkRole, at: Position, limit: number): Promise<LinkRecord[]>;
  /**
   * `key`'s link records of every role in one read (child, then parent, then transform; each in
   * chain order), at most `limit`. `shared`: the key is read as a container, so other journeys
   * (its other packs') are likely to read it too.
   */
  allLinks(key: string, limit: number, shared: boolean): Promise<RoleLinkRecord[]>;
  /**
   * `key`'s history entries in chain order: strictly after `after`, up to `upTo` inclusive, at
   * most `limit`. `shared`: a container's or class's, which other journeys are likely to read too.
   */
  history(key: string, range: { after?: Position; upTo?: Position; limit: number }, shared: boolean): Promise<HistoryRef[]>;
  /** The main-chain event at a position (asked only for the transformations the item was part of). */
  event(at: Position): Promise<Record<string, unknown>>;
}

/** How a step belongs to the journey: `via` is absent for events naming the item. */
export interface JourneyStep extends HistoryRef {
  /** The container's key, `class`, `input` or `output`; absent when the event names the item. */
  via?: string;
  /** Keys from the item to what the event names: [case, pallet], [lot class], [input pack, its case]. */
  path?: string[];
}

export interface JourneyPage {
  /** At most `limit` steps, in chain order. */
  steps: JourneyStep[];
  /** More steps follow the last one. */
  more: boolean;
  /** The item took part in more transformations, or with more items, than a journey follows. */
  linksTruncated: boolean;
}

export interface JourneyOptions {
  /** Steps strictly after this position (the last step of the previous page). */
  after?: Position;
  limit: number;
  /** classKeysOf(the item), or a promise of them (the caller reads the item's lot meanwhile). */
  classKeys: readonly string[] | Promise<readonly string[]>;
}

/** Most transformation records, and most items linked through them, one journey follows. */
export const MAX_LINKED_ITEMS = 64;

/** A container window: the item was in `container` from `from` to `to` (inclusive; open without `to`). */
interface Window {
  container: string;
  from: Position;
  /** Where the item (or the level below) went into the container: `from` before clipping to the level below's window. */
  since: Position;
  to: Position | undefined;
  /** Keys from the traced item (or linked item) to the container, outermost last. */
  path: string[];
}

type Mark = { tier: number; depth: number; via?: string; path?: string[] };

const SELF: Mark = { tier: 0, depth: 0 };

interface Source {
  refs: HistoryRef[];
  mark: Mark;
}

/** Link records read at once per key: most items and containers have a handful. */
const SNAPSHOT_RECORDS = 64;

/**
 * The link reads of one page. A key's records are read whole in one read when they are few
 * (most items and containers: a pack has 2–4, a case or pallet as many), so each key costs one
 * round trip; a key with more is read by the bounded range reads. Memoised per page.
 */
class PageLinks {
  private readonly whole = new Map<string, Promise<Map<LinkRole, LinkRecord[]> | undefined>>();

  constructor(
    private readonly reader: JourneyReader,
    /** The item the page is of: every other key is read as a container. */
    private readonly item: string,
  ) {}

  private snapshot(key: string): Promise<Map<LinkRole, LinkRecord[]> | undefined> {
    let p = this.whole.get(key);
    if (p === undefined) {
      p = this.reader.allLinks(key, SNAPSHOT_RECORDS + 1, key !== this.item).then((records) => {
        if (records.length > SNAPSHOT_RECORDS) return undefined;
        const byRole = new Map<LinkRole, LinkRecord[]>([
          ['child', []],
          ['parent', []],
          ['transform', []],
        ]);
        for (const { role, ...r } of records) byRole.get(role)?.push(r);
        return byRole;
      });
      this.whole.set(key, p);
    }
    return p;
  }

  async links(key: string, role: LinkRole, range: { after?: Position; upTo?: Position; limit: number }): Promise<LinkRecord[]> {
    const all = (await this.snapshot(key))?.get(role);
    if (all === undefined) return this.reader.links(key, role, range);
    const out: LinkRecord[] = [];
    for (const r of all) {
      if (out.length >= range.limit || (range.upTo !== undefined && comparePositions(r, range.upTo) > 0)) break;
      if (range.after === undefined || comparePositions(r, range.after) > 0) out.push(r);
    }
    return out;
  }

  async linksBefore(key: string, role: LinkRole, at: Position, limit: number): Promise<LinkRecord[]> {
    const all = (await this.snapshot(key))?.get(role);
    if (all === undefined) return this.reader.linksBefore(key, role, at, limit);
    const out: LinkRecord[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const r = all[i] as LinkRecord;
      if (comparePositions(r, at) <= 0) out.push(r);
    }
    return out;
  }
}

/**
 * One page of an item's journey. Every read asks for at most limit+1 records; the merge keeps
 * only what every source has read up to (a source that filled its quota may have more after its
 * last record), so the page is exact whatever the sizes of the sources.
 */
export async function journeyPage(reader: JourneyReader, item: string, opts: JourneyOptions): Promise<JourneyPage> {
  if (!Number.isSafeInteger(opts.limit) || opts.limit < 1) throw new RangeError('journey limit must be a positive integer');
  const want = opts.limit + 1;
  const after = opts.after;
  const links = new PageLinks(reader, item);
  const sources: Promise<Source>[] = [];
  const read = (key: string, mark: Mark, from?: Position, upTo?: Position, final?: Promise<WindowEnd>): void => {
    const start = from === undefined ? after : later(after, justBefore(from));
    const reading = reader.history(key, { after: start, upTo, limit: want }, key !== item);
    // A container window's history is read while the window's end is still being decided (the
    // container may have been emptied earlier): read to the furthest end, keep what is within.
    // Cutting a read short this way loses nothing: it was in order from the window's start.
    const source =
      final === undefined
        ? reading.then((refs) => ({ refs, mark }))
        : Promise.all([reading, final]).then(([refs, end]) => ({
            refs: end === null ? [] : end.to === undefined ? refs : refs.filter((r) => comparePositions(r, end.to as Position) <= 0),
            mark,
          }));
    // Awaited below with the others; if another read fails first, the page fails with that
    // error and this one's outcome no longer matters (it must not surface as unhandled).
    source.catch(() => undefined);
    sources.push(source);
  };

  read(item, SELF);
  const containers = followContainers(links, item, after, want, (w, base, final) => read(w.container, containerMark(w, base), w.from, w.to, final), SELF);
  const classes = Promise.resolve(opts.classKeys).then((keys) => {
    for (const k of keys) if (k !== item) read(k, { tier: 2, depth: 0, via: 'class', path: [k] });
  });
  const linked = followTransformations(reader, links, item, after, want, read);
  const [, , linksTruncated] = await Promise.all([containers, classes, linked]);
  return { ...merge(await Promise.all(sources), opts.limit), linksTruncated };
}

function containerMark(w: Window, base: Mark): Mark {
  if (base.tier === 0) return { tier: 1, depth: w.path.length, via: w.container, path: w.path };
  // A linked item's containers: marked as the link, the path going through the linked item.
  return { tier: base.tier, depth: (base.path?.length ?? 0) + w.path.length, via: base.via as string, path: [...(base.path ?? []), ...w.path] };
}

/** A container window's final end (`to` undefined: open), or null when it turned out empty. */
type WindowEnd = { to: Position | undefined } | null;

/**
 * Every container window of `item` (all nesting levels) that matters after `after`. `onWindow`
 * is called for each as soon as it is found, with a promise of its final end (cut short if the
 * container was emptied meanwhile), so its history is read while the next level's links are.
 */
async function followContainers(
  reader: PageLinks,
  item: string,
  after: Position | undefined,
  want: number,
  onWindow: (w: Window, base: Mark, final: Promise<WindowEnd>) => void,
  base: Mark,
): Promise<void> {
  const expand = async (w: Window, seen: readonly string[]): Promise<void> => {
    let settle: (end: WindowEnd) => void = () => undefined;
    onWindow(w, base, new Promise<WindowEnd>((resolve) => (settle = resolve)));
    // The container's own containers during the window, and whether it was emptied meanwhile
    // (also before the window of the level below began).
    const [emptied, nested] = await Promise.all([
      reader.links(w.container, 'parent', { after: w.since, upTo: w.to, limit: 1 }),
      windowsOf(reader, w.container, { from: w.from, to: w.to }, after, want),
    ]).catch((err: unknown) => {
      settle(null);
      throw err;
    });
    const end = emptied[0] !== undefined ? earlier(w.to, emptied[0]) : w.to;
    if (end !== undefined && (comparePositions(end, w.from) < 0 || (after !== undefined && comparePositions(end, after) <= 0))) {
      settle(null);
      return;
    }
    settle({ to: end });
    const next = seen.concat(w.container);
    await Promise.all(
      nested
        .map((n): Window => ({ ...n, to: earlier(n.to, end), path: [...w.path, n.container] }))
        .filter((n) => !next.includes(n.container) && (n.to === undefined || comparePositions(n.from, n.to) <= 0))
        .map((n) => expand(n, next)),
    );
  };
  const top = await windowsOf(reader, item, {}, after, want);
  await Promise.all(top.filter((w) => w.container !== item).map((w) => expand({ ...w, path: [w.container] }, [item])));
}

/**
 * The containers `key` was in during `span` (inclusive), as far as they matter after `after`:
 * its state at the later of the span's start and the cursor, then its records up to the span's
 * end (at most `want`; past the last one read, nothing is known: windows stop there).
 */
async function windowsOf(
  reader: PageLinks,
  key: string,
  span: { from?: Position; to?: Position },
  after: Position | undefined,
  want: number,
): Promise<Omit<Window, 'path'>[]> {
  const start = later(after, span.from);
  const [open, forward] = await Promise.all([
    start !== undefined ? containerAt(reader, key, start) : Promise.resolve(undefined),
    reader.links(key, 'child', { after: start, upTo: span.to, limit: want }),
  ]);
  const horizon = forward.length >= want ? forward[forward.length - 1] : undefined;
  const out: { container: string; from: Position; to: Position | undefined }[] = [];
  let cur = open;
  const close = (at: Position): void => {
    if (cur !== undefined) out.push({ container: cur.container, from: cur.from, to: at });
    cur = undefined;
  };
  for (const r of forward) {
    if (r.kind === 'in' && r.other !== undefined) {
      // Every `in` starts a window, even into the container the item is in: the container may
      // have been emptied since (a parent record, checked per window by the caller).
      close(r);
      cur = { container: r.other, from: r };
    } else if (r.kind === 'out') {
      if (cur !== undefined && cur.container === r.other) close(r);
    } else if (r.kind === 'left') {
      close(r);
    }
  }
  if (cur !== undefined) out.push({ container: cur.container, from: cur.from, to: earlier(horizon, span.to) });
  return out
    .map((w) => ({ container: w.container, from: later(w.from, span.from) as Position, since: w.from, to: earlier(w.to, span.to) }))
    .filter((w) => (w.to === undefined || comparePositions(w.from, w.to) <= 0) && (w.to === undefined || after === undefined || comparePositions(w.to, after) > 0));
}

/** Link records read per step when walking an item's records backwards. */
const BACK_STEP = 8;

/**
 * The window `key` is in at `at` by its own records (emptying is the caller's business): the
 * latest `in`, unless a `left` or an `out` of that container came after it (an `out` of another
 * container changes nothing). Reads backwards until that is decided.
 */
async function containerAt(reader: PageLinks, key: string, at: Position): Promise<{ container: string; from: Position } | undefined> {
  const outs = new Set<string>();
  let upTo = at;
  for (;;) {
    const records = await reader.linksBefore(key, 'child', upTo, BACK_STEP);
    for (const r of records) {
      if (r.kind === 'left') return undefined;
      if (r.kind === 'out' && r.other !== undefined) outs.add(r.other);
      if (r.kind === 'in' && r.other !== undefined) return outs.has(r.other) ? undefined : { container: r.other, from: r };
    }
    const last = records[records.length - 1];
    if (records.length < BACK_STEP || last === undefined) return undefined;
    upTo = justBefore(last);
  }
}

/**
 * One level of transformations: for each the item was an input (output) of, the journeys of its
 * outputs (inputs) — their own events and their containers' — marked `output` (`input`).
 * Returns whether some were left out (more than MAX_LINKED_ITEMS).
 */
async function followTransformations(
  reader: JourneyReader,
  links: PageLinks,
  item: string,
  after: Position | undefined,
  want: number,
  read: (key: string, mark: Mark, from?: Position, upTo?: Position, final?: Promise<WindowEnd>) => void,
): Promise<boolean> {
  const records = await links.links(item, 'transform', { limit: MAX_LINKED_ITEMS + 1 });
  let truncated = records.length > MAX_LINKED_ITEMS;
  const events = await Promise.all(records.slice(0, MAX_LINKED_ITEMS).map((r) => reader.event(r)));
  const linked = new Map<string, 'input' | 'output'>();
  records.slice(0, MAX_LINKED_ITEMS).forEach((r, i) => {
    const f = eventFacts(events[i] as JsonObject);
    const add = (keys: string[], as: 'input' | 'output'): void => {
      for (const k of keys) {
        if (k === item || linked.has(k)) continue;
        if (linked.size >= MAX_LINKED_ITEMS) truncated = true;
        else linked.set(k, as);
      }
    };
    if (r.kind === 'input' || r.kind === 'input-output') add(keysOf(f.epcs), 'output');
    if (r.kind === 'output' || r.kind === 'input-output') add(keysOf(f.inputs), 'input');
  });
  await Promise.all(
    [...linked].map(([key, as]) => {
      const base: Mark = { tier: 3, depth: 1, via: as, path: [key] };
      read(key, base);
      return followContainers(links, key, after, want, (w, b, final) => read(w.container, containerMark(w, b), w.from, w.to, final), base);
    }),
  );
  return truncated;
}

function better(a: Mark, b: Mark): boolean {
  return a.tier < b.tier || (a.tier === b.tier && a.depth < b.depth);
}

function merge(sources: Source[], limit: number): Omit<JourneyPage, 'linksTruncated'> {
  const want = limit + 1;
  // A source that returned its whole quota may hold more after its last record: nothing past
  // the earliest such last record is known to be complete.
  let horizon: Position | undefined;
  for (const s of sources) if (s.refs.length >= want) horizon = earlier(horizon, s.refs[s.refs.length - 1]);
  const best = new Map<string, { ref: HistoryRef; mark: Mark }>();
  for (const s of sources) {
    for (const ref of s.refs) {
      if (horizon !== undefined && comparePositions(ref, horizon) > 0) break;
      const k = `${ref.height}:${ref.txIndex}:${ref.eventIndex}`;
      const seen = best.get(k);
      if (seen === undefined) best.set(k, { ref, mark: s.mark });
      else {
        if (seen.ref.eventId !== ref.eventId) throw new JourneyIndexError(`two event IDs at ${k}: ${seen.ref.eventId} and ${ref.eventId}`);
        if (better(s.mark, seen.mark)) seen.mark = s.mark;
      }
    }
  }
  const all = [...best.values()].sort((a, b) => comparePositions(a.ref, b.ref));
  const steps = all.slice(0, limit).map(({ ref, mark }): JourneyStep => {
    const step: JourneyStep = { height: ref.height, txIndex: ref.txIndex, eventIndex: ref.eventIndex, eventId: ref.eventId };
    if (mark.via !== undefined) {
      step.via = mark.via;
      step.path = mark.path ?? [];
    }
    return step;
  });
  return { steps, more: all.length > limit };
}

/** The history index disagrees with itself (one position, two events): the store is damaged. */
export class JourneyIndexError extends Error {
  override readonly name = 'JourneyIndexError';
}
