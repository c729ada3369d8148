/**
 * Item status, derived only from events in connected blocks; pure and deterministic (no clock:
 * times come from the events). The chain layer stores the returned writes per block and undoes
 * them on disconnect; it overlays them on its reader before applying the next event.
 *
 * Lifecycle: active → in_transit (shipping) → active (receiving) → dispensed | decommissioned |
 * destroyed; `recalled` by a recall event on the item, its parent, or its lot. Business
 * conflicts are RECORDED, never rejected: the item turns `suspect` and gets an alert (a pack
 * dispensed twice, shipped by a party that does not hold it, dispensed after a recall or after
 * its expiry date, commissioned twice, acted on after it left the supply chain).
 * Aggregation moves children with their parent (a case shipped ships its packs); unpacking
 * detaches them.
 */
import type { Member } from '../chain/types.js';
import { eventFacts, type EventFacts, type TraceAction } from './actions.js';
import { TraceError } from './errors.js';
import { isObject, type JsonObject } from '../common/json.js';
import { itemKeyInfo, itemKeyOrUndefined, parseEpcUrn, parseDigitalLink } from './identifiers.js';
import { parseTime } from './epcis-time.js';

export type ItemStatus = 'active' | 'in_transit' | 'dispensed' | 'decommissioned' | 'recalled' | 'destroyed' | 'suspect' | 'unknown';

export interface ItemAlert {
  code: string;
  message: string;
  eventId: string;
  /** Event time, milliseconds since the Unix epoch. */
  time: number;
}

export interface ItemRecord {
  /** Canonical item key (id.gs1.org Digital Link). */
  key: string;
  /** Reported status: `suspect` once a conflict was recorded, else `lifecycle`. */
  status: ItemStatus;
  /** Where the item is in its lifecycle, conflicts aside. */
  lifecycle: ItemStatus;
  /** Member ID of the holder, or null when unknown. */
  custodian: string | null;
  /** Member ID of the member that commissioned it. */
  manufacturer: string | null;
  gtin: string | null;
  lot: string | null;
  /** ILMD itemExpirationDate (YYYY-MM-DD). */
  expiry: string | null;
  /** Key of the container the item is packed in. */
  parent: string | null;
  /** Keys of the items packed in this one (containers only). */
  children?: string[];
  /** Most recent alerts, oldest first (at most MAX_ALERTS). */
  alerts: ItemAlert[];
  lastEventId: string;
  /**
   * The item as it was before its last event (lastEventId), so an error declaration of that
   * event can restore it (trace/correction.ts). Absent on records written before it was kept.
   */
  prior?: PriorState;
}

/** The fields of an item record an event changes, as they were before it (see ItemRecord.prior). */
export type PriorState = Pick<ItemRecord, 'status' | 'lifecycle' | 'custodian' | 'manufacturer' | 'lot' | 'expiry' | 'parent' | 'lastEventId'>;

/** The prior-state snapshot of a record. */
export function priorOf(r: ItemRecord): PriorState {
  return { status: r.status, lifecycle: r.lifecycle, custodian: r.custodian, manufacturer: r.manufacturer, lot: r.lot, expiry: r.expiry, parent: r.parent, lastEventId: r.lastEventId };
}

export const MAX_ALERTS = 20;
/** Containment levels a shipment or recall follows (pallet → case → pack …). */
export const MAX_CONTAINMENT_DEPTH = 4;
/** Most children one container records. */
export const MAX_CHILDREN = 10_000;

export interface ItemStateReader {
  getItem(key: string): Promise<ItemRecord | undefined>;
  isLotRecalled(gtin: string, lot: string): Promise<boolean>;
}

export interface StatusInput {
  event: Record<string, unknown>;
  eventId: string;
  submitter: Member;
  /** Block time (ms); used only when the event time cannot be read. */
  blockTime: number;
  /** The record key of an identifier (default: its canonical item key; a private event's projection names tag keys: private-event.ts). */
  keyOf?: (id: string) => string | undefined;
}

export interface StatusOutput {
  /** Every record this event created or changed. */
  items: ItemRecord[];
  /** Lots recalled by this event (recall on an LGTIN class). */
  recalledLots: { gtin: string; lot: string }[];
}

const INACTIVE: ReadonlySet<ItemStatus> = new Set(['dispensed', 'decommissioned', 'destroyed']);


function localName(k: string): string {
  return k.slice(Math.max(k.lastIndexOf(':'), k.lastIndexOf('/'), k.lastIndexOf('#'), k.lastIndexOf('}')) + 1);
}

function ilmdField(event: JsonObject, name: string): string | null {
  const ilmd = event['ilmd'];
  if (!isObject(ilmd)) return null;
  for (const [k, v] of Object.entries(ilmd)) if (localName(k) === name && (typeof v === 'string' || typeof v === 'number')) return String(v);
  return null;
}

/** GTIN and lot of an LGTIN class (URN or Digital Link), or undefined. */
export function lotOfClass(epcClass: string): { gtin: string; lot: string } | undefined {
  if (epcClass.startsWith('urn:')) {
    const p = parseEpcUrn(epcClass);
    return p?.form === 'class' && p.gtin !== undefined && p.lot !== undefined ? { gtin: p.gtin, lot: p.lot } : undefined;
  }
  const dl = parseDigitalLink(epcClass);
  const lot = dl?.qualifiers['10'];
  return dl !== undefined && dl.ai === '01' && lot !== undefined ? { gtin: dl.value, lot } : undefined;
}

/** Expiry date `YYYY-MM-DD` (or a full date-time) passed at `time` (ms)? Expires at the end of that day, UTC. */
export function expiredAt(expiry: string, time: number): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(expiry);
  if (!m) return false;
  const endOfDay = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + 86_400_000;
  return time >= endOfDay;
}

class Transition {
  private readonly changed = new Map<string, ItemRecord>();
  readonly recalledLots: { gtin: string; lot: string }[] = [];

  constructor(
    private readonly reader: ItemStateReader,
    private readonly input: StatusInput,
    readonly time: number,
  ) {}

  async get(key: string): Promise<ItemRecord | undefined> {
    return this.changed.get(key) ?? (await this.reader.getItem(key));
  }

  /** A writable copy of the item's record (a fresh `unknown` one when it has none). */
  async edit(key: string): Promise<ItemRecord> {
    const mine = this.changed.get(key);
    if (mine) return mine;
    const stored = await this.reader.getItem(key);
    const rec: ItemRecord = stored
      ? { ...stored, alerts: [...stored.alerts], ...(stored.children ? { children: [...stored.children] } : {}) }
      : this.fresh(key);
    rec.prior = stored ? priorOf(stored) : { ...priorOf(rec), lastEventId: '' };
    rec.lastEventId = this.input.eventId;
    this.changed.set(key, rec);
    return rec;
  }

  private fresh(key: string): ItemRecord {
    let gtin: string | null = null;
    try {
      gtin = itemKeyInfo(key).gtin ?? null;
    } catch (e) {
      if (!(e instanceof TraceError)) throw e;
    }
    return { key, status: 'unknown', lifecycle: 'unknown', custodian: null, manufacturer: null, gtin, lot: null, expiry: null, parent: null, alerts: [], lastEventId: this.input.eventId };
  }

  alert(rec: ItemRecord, code: string, message: string, suspect = true): void {
    rec.alerts.push({ code, message, eventId: this.input.eventId, time: this.time });
    if (rec.alerts.length > MAX_ALERTS) rec.alerts.splice(0, rec.alerts.length - MAX_ALERTS);
    if (suspect) rec.status = 'suspect';
  }

  setLifecycle(rec: ItemRecord, s: ItemStatus): void {
    rec.lifecycle = s;
    if (rec.status !== 'suspect') rec.status = s;
  }

  /** The item and everything packed in it, down to MAX_CONTAINMENT_DEPTH levels. */
  async withDescendants(key: string): Promise<ItemRecord[]> {
    const out: ItemRecord[] = [];
    const seen = new Set<string>();
    let level = [key];
    for (let depth = 0; depth <= MAX_CONTAINMENT_DEPTH && level.length > 0; depth++) {
      const next: string[] = [];
      for (const k of level) {
        if (seen.has(k)) continue;
        seen.add(k);
        if (depth > 0 && (await this.get(k)) === undefined) continue;
        const w = await this.edit(k);
        out.push(w);
        for (const c of w.children ?? []) next.push(c);
      }
      level = next;
    }
    return out;
  }

  records(): ItemRecord[] {
    return [...this.changed.values()];
  }
}

function subjectsOf(f: EventFacts): string[] {
  const ids = [...f.epcs];
  if (f.parentID !== undefined && f.type !== 'TransformationEvent') ids.push(f.parentID);
  return ids;
}

/** Applies one event's effect on item records; returns the records it wrote and lots it recalled. */
export async function applyEvent(reader: ItemStateReader, input: StatusInput): Promise<StatusOutput> {
  const event = input.event;
  const f = eventFacts(event);
  const t = typeof event['eventTime'] === 'string' ? parseTime(event['eventTime']) : undefined;
  const tr = new Transition(reader, input, t?.ms ?? input.blockTime);
  const who = input.submitter.id;
  const keyOf = input.keyOf ?? itemKeyOrUndefined;
  const keys = (ids: string[]): string[] => [...new Set(ids.map(keyOf).filter((k): k is string => k !== undefined))];

  const inactiveGuard = (rec: ItemRecord, action: TraceAction): boolean => {
    if (!INACTIVE.has(rec.lifecycle)) return false;
    if (action === 'dispense' && rec.lifecycle === 'dispensed') tr.alert(rec, 'DISPENSED_TWICE', `dispensed again; it was already dispensed`);
    else tr.alert(rec, 'ALREADY_INACTIVE', `${action} of an item that is already ${rec.lifecycle}`);
    return true;
  };

  switch (f.primary) {
    case 'commission': {
      const lot = ilmdField(event, 'lotNumber');
      const expiry = ilmdField(event, 'itemExpirationDate');
      for (const k of keys(f.epcs)) {
        const rec = await tr.edit(k);
        if (rec.lifecycle !== 'unknown') tr.alert(rec, 'ALREADY_COMMISSIONED', `commissioned again; it was commissioned before (now ${rec.lifecycle})`);
        tr.setLifecycle(rec, 'active');
        rec.custodian = who;
        rec.manufacturer = who;
        if (lot !== null) rec.lot = lot;
        if (expiry !== null) rec.expiry = expiry;
      }
      for (const k of keys(f.inputs)) {
        const rec = await tr.edit(k);
        if (!inactiveGuard(rec, 'decommission')) tr.setLifecycle(rec, 'decommissioned');
      }
      break;
    }
    case 'decommission':
    case 'destroy': {
      const to: ItemStatus = f.primary === 'destroy' ? 'destroyed' : 'decommissioned';
      for (const k of keys(subjectsOf(f))) {
        const rec = await tr.edit(k);
        if (!inactiveGuard(rec, f.primary)) tr.setLifecycle(rec, to);
      }
      break;
    }
    case 'pack': {
      const parentKey = f.parentID !== undefined ? keyOf(f.parentID) : undefined;
      if (parentKey === undefined) break;
      const parent = await tr.edit(parentKey);
      if (parent.lifecycle === 'unknown') {
        // A new container comes into being when it is first packed.
        tr.setLifecycle(parent, 'active');
        parent.custodian = who;
      }
      const kids = new Set(parent.children ?? []);
      for (const k of keys(f.epcs)) {
        if (k === parentKey) continue;
        const child = await tr.edit(k);
        inactiveGuard(child, 'pack');
        if (child.parent !== null && child.parent !== parentKey) {
          const old = await tr.edit(child.parent);
          if (old.children) old.children = old.children.filter((c) => c !== k);
        }
        child.parent = parentKey;
        if (kids.size < MAX_CHILDREN) kids.add(k);
      }
      parent.children = [...kids];
      break;
    }
    case 'unpack': {
      const parentKey = f.parentID !== undefined ? keyOf(f.parentID) : undefined;
      if (parentKey === undefined) break;
      const parent = await tr.edit(parentKey);
      const named = keys(f.epcs);
      // DELETE without children disaggregates everything in the container (EPCIS §7.4.3).
      const detach = named.length > 0 ? named : [...(parent.children ?? [])];
      for (const k of detach) {
        const child = await tr.edit(k);
        if (child.parent === parentKey) child.parent = null;
      }
      const gone = new Set(detach);
      parent.children = (parent.children ?? []).filter((c) => !gone.has(c));
      break;
    }
    case 'ship': {
      for (const k of keys(subjectsOf(f))) {
        const top = await tr.edit(k);
        if (top.custodian !== null && top.custodian !== who) {
          tr.alert(top, 'NOT_CUSTODIAN', `shipped by ${who}, but ${top.custodian} holds it`);
        }
        for (const rec of await tr.withDescendants(k)) {
          if (inactiveGuard(rec, 'ship')) continue;
          // A recalled item stays recalled while it travels (e.g. back to its manufacturer).
          if (rec.lifecycle === 'active') tr.setLifecycle(rec, 'in_transit');
        }
      }
      break;
    }
    case 'receive': {
      for (const k of keys(subjectsOf(f))) {
        for (const rec of await tr.withDescendants(k)) {
          if (inactiveGuard(rec, 'receive')) continue;
          if (rec.lifecycle === 'in_transit') tr.setLifecycle(rec, 'active');
          rec.custodian = who;
        }
      }
      break;
    }
    case 'dispense': {
      for (const k of keys(subjectsOf(f))) {
        const rec = await tr.edit(k);
        if (inactiveGuard(rec, 'dispense')) continue;
        const lotRecalled = rec.gtin !== null && rec.lot !== null && (await reader.isLotRecalled(rec.gtin, rec.lot));
        if (rec.lifecycle === 'recalled' || lotRecalled) tr.alert(rec, 'DISPENSED_AFTER_RECALL', 'dispensed after it was recalled');
        if (rec.expiry !== null && expiredAt(rec.expiry, tr.time)) tr.alert(rec, 'DISPENSED_AFTER_EXPIRY', `dispensed after its expiry date ${rec.expiry}`);
        if (rec.lifecycle === 'unknown') tr.alert(rec, 'NOT_COMMISSIONED', 'dispensed, but never commissioned on this chain');
        tr.setLifecycle(rec, 'dispensed');
        rec.custodian = who;
        if (rec.parent !== null) {
          // A dispensed pack has left its case.
          const parent = await tr.edit(rec.parent);
          if (parent.children) parent.children = parent.children.filter((c) => c !== k);
          rec.parent = null;
        }
      }
      break;
    }
    case 'recall':
    case 'observe':
      break;
  }

  if (f.recall) {
    for (const k of keys(subjectsOf(f))) {
      for (const rec of await tr.withDescendants(k)) {
        if (rec.lifecycle === 'active' || rec.lifecycle === 'in_transit') tr.setLifecycle(rec, 'recalled');
        tr.alert(rec, 'RECALLED', `recalled by ${who}`, false);
      }
    }
    for (const c of f.classes) {
      const lot = lotOfClass(c);
      if (lot !== undefined && !tr.recalledLots.some((l) => l.gtin === lot.gtin && l.lot === lot.lot)) tr.recalledLots.push(lot);
    }
  }
  return { items: tr.records(), recalledLots: tr.recalledLots };
}

/**
 * The status to report for a record: `suspect` wins; an unsold (active or in-transit) item of a
 * recalled lot is `recalled`. Status never depends on a clock.
 */
export function effectiveStatus(record: ItemRecord, lotRecalled: boolean): ItemStatus {
  if (record.status === 'suspect') return 'suspect';
  if (lotRecalled && (record.lifecycle === 'active' || record.lifecycle === 'in_transit')) return 'recalled';
  return record.status;
}
