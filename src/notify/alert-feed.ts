/**
 * The feed of an alert subscription (docs/notifications.md "Alert subscriptions"): the alerts
 * raised, and the status changes applied, on the main chain, in chain order, read from the alert
 * index ranges (chain/alerts.ts ALERT_INDEX), never from the blocks.
 *
 * A position is (height, phase, ordinal): phase 0 = an alert raised in that block, 1 = an alert
 * whose status changed in it; the ordinal counts the index keys of that height and phase in the
 * subscription's range (ID order). Within a block, raised alerts come before status changes. The
 * keys of a block's height are written by that block's connect and removed by its disconnect, so
 * once the block has its confirmations the ordinals stand.
 *
 * Each item is the alert as it stood after its block (history cut there, status from it), with
 * the changes that block applied, and the block's hash: the subscriber checks the tx proofs at
 * GET /alerts/{id}.
 */
import type { Chain } from '../chain/chain.js';
import { ALERT_INDEX, alertIdOfIndexKey, type AlertChange, type AlertRecord } from '../chain/alerts.js';
import type { RecordSource } from '../chain/alert-state.js';
import type { Position } from '../api/query.js';
import { comparePositions, endOf } from './scan.js';
import type { DeliveryFeed, FeedHit } from './subscriber.js';
import type { AlertEventKind, AlertSubscriptionFilter } from './records.js';

export interface AlertHit extends FeedHit {
  kind: AlertEventKind;
  blockHash: string;
  alert: AlertRecord;
  /** The changes applied in this block (status items only). */
  changes: AlertChange[];
}

/** Packs named per alert in a delivery (itemCount and GET /alerts/{id} give them all). */
export const DELIVERY_ITEMS = 100;
/** Index keys read per range and call: a call's work is bounded; the cursor moves on from where it stopped. */
const PAGE = 500;
/** Alert records read at once while filtering (a recall alert may name 100,000 packs: read few at a time). */
const READ = 32;
const SEP = '\u0000';

/** The alert as it stood after the block at `height`. */
export function alertAt(rec: AlertRecord, height: number): AlertRecord {
  const history = rec.history.filter((c) => c.height <= height);
  let status: AlertRecord['status'] = 'new';
  let resolution: AlertRecord['resolution'] = null;
  for (const c of history) {
    if (c.refused !== undefined) continue;
    status = c.status;
    resolution = c.resolution;
  }
  return { ...rec, status, resolution, history };
}

function selects(a: AlertRecord, f: AlertSubscriptionFilter): boolean {
  if (f.owner !== undefined && a.owner !== f.owner) return false;
  if (f.party !== undefined && !a.parties.includes(f.party)) return false;
  if (f.lot && (a.gtin !== f.lot.gtin || a.lot !== f.lot.lot)) return false;
  if (f.codes !== undefined && !f.codes.includes(a.code)) return false;
  return true;
}

/** The index range a filter reads its raised alerts from: the most selective one it names. */
function raisedRange(f: AlertSubscriptionFilter): string {
  if (f.lot) return ALERT_INDEX.lot(f.lot.gtin, f.lot.lot);
  if (f.owner !== undefined) return ALERT_INDEX.owner(f.owner);
  if (f.party !== undefined) return ALERT_INDEX.party(f.party);
  return ALERT_INDEX.all;
}

const pad = (h: number): string => String(h).padStart(10, '0');

interface Entry {
  position: Position;
  id: string;
}

/** Index keys by position of a range's last scan: the next scan starts at the cursor's key instead of counting from its height's first. */
type KeyMemo = Map<string, string>;
const posKey = (p: Position): string => `${p.height}.${p.txIndex}.${p.eventIndex}`;

/**
 * The entries of one range after `after` (phase `phase`) up to `maxHeight`: at most `want` of them.
 * `bound`: every entry of the range at or before it is in `entries` (or at or before `after`).
 */
async function scanRange(source: RecordSource, prefix: string, phase: number, after: Position, maxHeight: number, want: number, memo: KeyMemo): Promise<{ entries: Entry[]; bound: Position }> {
  const entries: Entry[] = [];
  // Where to start: past the cursor's height when the cursor is past this phase of it; at the
  // cursor's own key when the last scan saw it; else at its height's first key (ordinals count from there).
  let from = `${prefix}${pad(after.height)}`;
  let height = -1;
  let ordinal = 0;
  const known = after.txIndex === phase ? memo.get(posKey(after)) : undefined;
  if (after.txIndex > phase) from = `${prefix}${pad(after.height)}${SEP}g`;
  else if (known !== undefined) {
    from = known;
    height = after.height;
    ordinal = after.eventIndex + 1;
  }
  const seen: KeyMemo = new Map();
  const done = (bound: Position): { entries: Entry[]; bound: Position } => {
    memo.clear();
    for (const [p, k] of seen) memo.set(p, k);
    return { entries, bound };
  };
  for (;;) {
    const keys = await source.scanRecordIndex(prefix, { after: from, limit: PAGE });
    for (const k of keys) {
      const h = Number(k.slice(prefix.length, prefix.length + 10));
      if (h > maxHeight) return done(endOf(maxHeight));
      if (h !== height) {
        height = h;
        ordinal = 0;
      }
      const position = { height: h, txIndex: phase, eventIndex: ordinal++ };
      if (comparePositions(position, after) > 0) {
        entries.push({ position, id: alertIdOfIndexKey(k) });
        seen.set(posKey(position), k);
      }
      if (entries.length >= want) return done(position);
    }
    if (keys.length < PAGE) return done(endOf(maxHeight));
    from = keys[keys.length - 1] as string;
  }
}

/** The feed of one alert subscription. */
export function alertFeed(chain: Chain, filter: AlertSubscriptionFilter): DeliveryFeed<AlertHit> {
  const source: RecordSource = chain.store;
  const raised = filter.events.includes('raised') ? raisedRange(filter) : undefined;
  const changed = filter.events.includes('status') ? ALERT_INDEX.changes : undefined;
  const memos: [KeyMemo, KeyMemo] = [new Map(), new Map()];
  return {
    async next(after, maxHeight, max) {
      const top = Math.min(maxHeight, chain.tip.height);
      if (top < 0 || comparePositions(after, endOf(top)) >= 0) return { hits: [], scannedTo: after };
      let bound = endOf(top);
      const found: Entry[] = [];
      // A stream wants one hit: a few entries per range, not a page (the cursor's key is remembered, so the next call goes on from it).
      const want = Math.min(PAGE, Math.max(16, max * 2));
      for (const [prefix, phase] of [
        [raised, 0],
        [changed, 1],
      ] as const) {
        if (prefix === undefined) continue;
        const r = await scanRange(source, prefix, phase, after, top, want, memos[phase]);
        found.push(...r.entries);
        if (comparePositions(r.bound, bound) < 0) bound = r.bound;
      }
      const candidates = found.filter((e) => comparePositions(e.position, bound) <= 0).sort((a, b) => comparePositions(a.position, b.position));
      const hits: AlertHit[] = [];
      // Few records per read while few hits are wanted (a stream wants one), more when they do not match.
      let chunk = Math.min(READ, Math.max(2, max));
      for (let i = 0; i < candidates.length; i += chunk, chunk = Math.min(READ, chunk * 2)) {
        const page = candidates.slice(i, i + chunk);
        const recs = await source.getRecords('alert', page.map((e) => e.id));
        for (const [j, e] of page.entries()) {
          const rec = recs[j] as AlertRecord | undefined;
          if (rec === undefined || !selects(rec, filter)) continue;
          const h = e.position.height;
          const alert = alertAt(rec, h);
          const changes = e.position.txIndex === 1 ? alert.history.filter((c) => c.height === h && c.refused === undefined) : [];
          if (e.position.txIndex === 1 && changes.length === 0) continue;
          const blockHash = e.position.txIndex === 0 ? rec.raisedBy.blockHash : ((await chain.store.getMainHash(h)) ?? '');
          hits.push({ position: e.position, kind: e.position.txIndex === 0 ? 'raised' : 'status', blockHash, alert, changes });
          if (hits.length >= max) return { hits, scannedTo: e.position };
        }
      }
      return { hits, scannedTo: bound };
    },
    document(hits, meta) {
      return JSON.stringify({
        type: 'AlertNotification',
        subscriptionID: meta.subscriptionId,
        creationDate: new Date(meta.createdAt).toISOString(),
        alerts: hits.map((h) => {
          const a = h.alert;
          const items = a.items.length > DELIVERY_ITEMS ? { items: a.items.slice(0, DELIVERY_ITEMS), itemsTruncated: true } : {};
          return {
            kind: h.kind,
            block: { height: h.position.height, hash: h.blockHash },
            ...(h.kind === 'status' ? { changes: h.changes } : {}),
            alert: { ...a, ...items },
            href: `/alerts/${a.id}`,
          };
        }),
      });
    },
  };
}

