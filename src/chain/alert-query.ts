/**
 * Reading alerts back (GET /alerts): the most selective index range of a filter (lot, owner,
 * party, status, else all), walked in the order alerts were raised, each record checked against
 * the rest of the filter. Bounded: at most `limit` matches and `maxScan` index keys per call; the
 * answer carries a cursor to continue from.
 */
import { ALERT_INDEX, alertIdOfIndexKey, alertIndexHeight, type AlertRecord } from './alerts.js';
import type { RecordSource } from './alert-state.js';
import type { AlertStatus } from './types.js';

export interface AlertFilter {
  owner?: string;
  party?: string;
  status?: AlertStatus;
  /** GTIN and lot together. */
  lot?: { gtin: string; lot: string };
}

export interface AlertPage {
  alerts: AlertRecord[];
  /** Pass as `after` for the next page; null when the range is exhausted. */
  next: string | null;
}

const PAGE = 500;

function rangeOf(f: AlertFilter): string {
  if (f.lot) return ALERT_INDEX.lot(f.lot.gtin, f.lot.lot);
  if (f.owner !== undefined) return ALERT_INDEX.owner(f.owner);
  if (f.party !== undefined) return ALERT_INDEX.party(f.party);
  if (f.status !== undefined) return ALERT_INDEX.status(f.status);
  return ALERT_INDEX.all;
}

export function matches(a: AlertRecord, f: AlertFilter): boolean {
  if (f.owner !== undefined && a.owner !== f.owner) return false;
  if (f.party !== undefined && !a.parties.includes(f.party)) return false;
  if (f.status !== undefined && a.status !== f.status) return false;
  if (f.lot && (a.gtin !== f.lot.gtin || a.lot !== f.lot.lot)) return false;
  return true;
}

export async function queryAlerts(source: RecordSource, f: AlertFilter, opts: { limit: number; after?: string; maxScan?: number }): Promise<AlertPage> {
  const prefix = rangeOf(f);
  const maxScan = opts.maxScan ?? 20_000;
  const out: AlertRecord[] = [];
  let after = opts.after !== undefined && opts.after.startsWith(prefix) ? opts.after : undefined;
  let scanned = 0;
  for (;;) {
    const keys = await source.scanRecordIndex(prefix, after === undefined ? { limit: PAGE } : { after, limit: PAGE });
    if (keys.length === 0) return { alerts: out, next: null };
    const recs = await source.getRecords('alert', keys.map(alertIdOfIndexKey));
    for (const [i, r] of recs.entries()) {
      after = keys[i] as string;
      scanned++;
      if (r !== undefined && matches(r as AlertRecord, f)) out.push(r as AlertRecord);
      if (out.length >= opts.limit || scanned >= maxScan) return { alerts: out, next: after };
    }
    if (keys.length < PAGE) return { alerts: out, next: null };
  }
}

export async function getAlert(source: RecordSource, id: string): Promise<AlertRecord | undefined> {
  const [r] = await source.getRecords('alert', [id]);
  return r as AlertRecord | undefined;
}

/**
 * A cursor (`after` of queryAlerts without filters) past every alert raised at or below `height`:
 * a subscriber that has seen the alerts up to a block reads the ones raised since with it.
 */
export function alertCursorAfterHeight(height: number): string {
  return alertIndexHeight(height);
}
