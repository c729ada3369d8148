/**
 * The EPCIS side of alerts (chain/tx-rules-port.ts AlertRules): what the chain's alert step
 * (chain/alert-state.ts) reads of an item record (trace/status.ts owns its shape) and of an
 * event: the conflicts the status machine recorded, recalls, how an event takes packs out of the
 * supply chain and where, theft, scratch-off code commitments. Pure.
 */
import type { AlertRules, EventAlertFacts, ItemFacts } from '../chain/tx-rules-port.js';
import type { StoredItem } from '../chain/store.js';
import { isObject, type JsonObject } from '../common/json.js';
import { eventFacts } from './actions.js';
import { itemKeyOrUndefined } from './identifiers.js';
import { scratchCodesOf } from './scratch-code.js';
import { expiredAt, type ItemRecord, type ItemStatus } from './status.js';

/** Lifecycles of a pack not yet sold or taken out (a recalled pack still held counts). */
const UNSOLD: ReadonlySet<string> = new Set<ItemStatus>(['active', 'in_transit', 'recalled']);
/** The status machine's alert code for a recall touching an item (a fact, not a conflict). */
const RECALLED = 'RECALLED';

function idOf(v: unknown): string | null {
  return isObject(v) && typeof v['id'] === 'string' ? v['id'] : null;
}

export function itemFacts(item: StoredItem): ItemFacts {
  const r = item as unknown as ItemRecord;
  const alerts = Array.isArray(r.alerts) ? r.alerts : [];
  return {
    gtin: r.gtin ?? null,
    lot: r.lot ?? null,
    expiry: r.expiry ?? null,
    custodian: r.custodian ?? null,
    manufacturer: r.manufacturer ?? null,
    lifecycle: r.lifecycle,
    unsold: UNSOLD.has(r.lifecycle),
    conflictsBy: (eventId) => alerts.filter((a) => a.eventId === eventId && a.code !== RECALLED).map((a) => ({ code: a.code, message: a.message })),
    recalledBy: (eventId) => alerts.some((a) => a.eventId === eventId && a.code === RECALLED),
    everRecalled: alerts.some((a) => a.code === RECALLED),
  };
}

export function eventAlertFacts(event: Record<string, unknown>): EventAlertFacts {
  const e = event as JsonObject;
  const f = eventFacts(e);
  const leaves = f.primary === 'dispense' ? 'dispensed' : f.primary === 'decommission' ? 'decommissioned' : null;
  const commissioned = new Set(f.primary === 'commission' ? f.epcs.map(itemKeyOrUndefined).filter((k): k is string => k !== undefined) : []);
  return {
    leaves,
    location: idOf(e['bizLocation']) ?? idOf(e['readPoint']),
    recalls: f.disposition === 'recalled',
    stolen: f.disposition === 'stolen' ? [...new Set([...f.epcs, ...(f.parentID !== undefined ? [f.parentID] : [])].map(itemKeyOrUndefined).filter((k): k is string => k !== undefined))] : [],
    codes: commissioned.size > 0 ? scratchCodesOf(e, commissioned) : [],
  };
}

export function alertRules(): AlertRules {
  return {
    itemFacts,
    lotOf(item) {
      const r = item as unknown as ItemRecord;
      return typeof r.gtin === 'string' && typeof r.lot === 'string' ? { gtin: r.gtin, lot: r.lot } : null;
    },
    eventFacts: eventAlertFacts,
    reactivated(item, lifecycle) {
      const r = item as unknown as ItemRecord;
      const back: ItemRecord = { ...r, alerts: [...r.alerts], lifecycle: lifecycle as ItemStatus };
      if (r.status !== 'suspect') back.status = lifecycle as ItemStatus;
      return back as unknown as StoredItem;
    },
    expiredAt,
  };
}
