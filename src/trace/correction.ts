/**
 * EPCIS 2.0 corrections (error declarations, EPCIS §7.4.1.2): an event carrying `errorDeclaration`
 * re-states an earlier event to declare it erroneous. CBV 2.0 leaves `errorDeclaration` out of
 * the event hash, so the declaration has the same event ID as the event it declares. The chain
 * keeps one record per ID, so a declaration is recorded under its own record ID, derived from
 * the declared event's ID (`declarationIdOf`): anyone can compute where the declaration of an
 * event is, and a second declaration of one event is a duplicate of the first.
 *
 * Item status (`applyDeclaration`): an erred event stops counting. Each item the erred event
 * changed gets back the state it had before that event (the `prior` snapshot status.ts keeps of
 * an item's last event) when no later event changed it since; when one did, the erred event's
 * effect cannot be taken out alone, and the item is marked suspect with an ERRED_EVENT alert for
 * a person to review. The alerts the erred event raised are withdrawn in either case.
 */
import { createHash } from 'node:crypto';
import { isObject, type JsonObject } from '../common/json.js';
import { eventHash, EMPTY_HASH_CONTEXT } from './event-hash.js';
import { eventFacts } from './actions.js';
import { itemKeyOrUndefined } from './identifiers.js';
import { MAX_ALERTS, type ItemRecord, type ItemStateReader, type StatusInput, type StatusOutput } from './status.js';

const EVENT_ID = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/;

/** Domain tag of a declaration's record ID (never an event's own hash input, which starts with `eventType=`). */
const DECLARATION_TAG = 'tracechain:errorDeclaration\u0000';

/** What an error declaration says: why, when, and the corrective events. */
export interface ErrorDeclarationInfo {
  reason: string | null;
  declarationTime: string | null;
  correctiveEventIDs: string[];
}

/** Whether an event is an error declaration (it carries an `errorDeclaration` object). */
export function isErrorDeclaration(event: Record<string, unknown>): boolean {
  return isObject(event['errorDeclaration']);
}

/** The record ID of the declaration of the event `declaredId` (a CBV 2.0 event ID). Throws on another form. */
export function declarationIdOf(declaredId: string): string {
  const m = EVENT_ID.exec(declaredId);
  if (m === null) throw new Error(`not a CBV 2.0 event ID: ${declaredId.slice(0, 100)}`);
  const digest = createHash('sha256')
    .update(DECLARATION_TAG, 'utf8')
    .update(Buffer.from(m[1] as string, 'hex'))
    .digest('hex');
  return `ni:///sha-256;${digest}?ver=CBV2.0`;
}

/** The event a self-contained declaration declares erroneous: its CBV 2.0 hash (errorDeclaration is not hashed). */
export function declaredEventIdOf(event: JsonObject): string {
  return eventHash(event, EMPTY_HASH_CONTEXT);
}

/**
 * The ID a self-contained event is recorded under on the chain: its CBV 2.0 event ID, or for an
 * error declaration the declaration's record ID.
 */
export function recordIdOf(event: JsonObject): string {
  const id = eventHash(event, EMPTY_HASH_CONTEXT);
  return isErrorDeclaration(event) ? declarationIdOf(id) : id;
}

/** The declaration's fields (reason as given, declaration time, corrective event IDs). */
export function errorDeclarationOf(event: Record<string, unknown>): ErrorDeclarationInfo | undefined {
  const ed = event['errorDeclaration'];
  if (!isObject(ed)) return undefined;
  const ids = ed['correctiveEventIDs'];
  return {
    reason: typeof ed['reason'] === 'string' ? ed['reason'] : null,
    declarationTime: typeof ed['declarationTime'] === 'string' ? ed['declarationTime'] : null,
    correctiveEventIDs: Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [],
  };
}

/**
 * The item-status effect of a declaration: the erred event (`declaredId`, whose content the
 * declaration repeats) stops counting for every item it named or changed. `input.eventId` is the
 * declaration's record ID.
 */
export async function applyDeclaration(reader: ItemStateReader, input: StatusInput, declaredId: string): Promise<StatusOutput> {
  const f = eventFacts(input.event as JsonObject);
  const named = [...f.epcs, ...f.inputs, ...(f.parentID !== undefined ? [f.parentID] : [])];
  const keys = [...new Set(named.map(itemKeyOrUndefined).filter((k): k is string => k !== undefined))];
  // An observation changes no item (unless it recalls): its declaration has nothing to take out.
  const changesItems = f.primary !== 'observe' || f.recall;
  const changed = new Map<string, ItemRecord>();
  const get = async (key: string): Promise<ItemRecord | undefined> => changed.get(key) ?? (await reader.getItem(key));
  const copy = (r: ItemRecord): ItemRecord => ({ ...r, alerts: [...r.alerts], ...(r.children ? { children: [...r.children] } : {}) });
  // The items the erred event changed: those it named, and the containers and children it moved with them.
  const touched = new Set<string>();
  const queue = [...keys];
  while (queue.length > 0 && touched.size < 10_000) {
    const k = queue.shift() as string;
    if (touched.has(k)) continue;
    const rec = await get(k);
    if (rec === undefined) continue;
    touched.add(k);
    if (rec.lastEventId !== declaredId && !rec.alerts.some((a) => a.eventId === declaredId)) continue;
    for (const c of rec.children ?? []) queue.push(c);
    if (rec.parent !== null) queue.push(rec.parent);
    if (rec.prior?.parent != null) queue.push(rec.prior.parent);
  }
  for (const k of touched) {
    const stored = await get(k);
    if (stored === undefined) continue;
    const byErred = stored.lastEventId === declaredId;
    const alerted = stored.alerts.some((a) => a.eventId === declaredId);
    if (!byErred && !alerted && !keys.includes(k)) continue;
    const rec = copy(stored);
    rec.alerts = rec.alerts.filter((a) => a.eventId !== declaredId);
    if (byErred && rec.prior !== undefined) {
      const p = rec.prior;
      rec.lifecycle = p.lifecycle;
      rec.custodian = p.custodian;
      rec.manufacturer = p.manufacturer;
      rec.lot = p.lot;
      rec.expiry = p.expiry;
      if (p.parent !== rec.parent) {
        // The erred event took the item out of (or put it into) a container: put that back.
        if (rec.parent !== null) {
          const now = await get(rec.parent);
          if (now !== undefined && now.children !== undefined) changed.set(now.key, { ...copy(now), children: now.children.filter((c) => c !== k) });
        }
        if (p.parent !== null) {
          const was = await get(p.parent);
          if (was !== undefined && !(was.children ?? []).includes(k)) changed.set(was.key, { ...copy(was), children: [...(was.children ?? []), k] });
        }
        rec.parent = p.parent;
      }
      rec.status = p.status;
      // An item the erred event brought into being keeps the declaration as its last event.
      rec.lastEventId = p.lastEventId === '' ? input.eventId : p.lastEventId;
      delete rec.prior;
    } else if (keys.includes(k) && changesItems) {
      // Events after the erred one changed the item: its effect cannot be taken out alone.
      rec.alerts.push({ code: 'ERRED_EVENT', message: `event ${declaredId} was declared in error after later events; review this item's status`, eventId: input.eventId, time: input.blockTime });
      if (rec.alerts.length > MAX_ALERTS) rec.alerts.splice(0, rec.alerts.length - MAX_ALERTS);
      rec.status = 'suspect';
    } else {
      // Only alerts of the erred event: withdraw them.
      rec.status = rec.alerts.some((a) => a.code !== 'RECALLED') ? 'suspect' : rec.lifecycle;
    }
    changed.set(k, rec);
  }
  return { items: [...changed.values()], recalledLots: [] };
}
