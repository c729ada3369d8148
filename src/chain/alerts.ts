/**
 * Alerts as chain-derived records (docs/alerts.md "Alerts"): their shape, their stable ID
 * (a fixed byte layout hashed), their owner (the manufacturer: the member whose GS1 company prefix
 * the item's GTIN carries), their lifecycle rule (new → investigating → closed, changed by a signed
 * tx of the owner or a regulator) and the index keys the API reads them by. Pure.
 */
import { TxError } from '../common/errors.js';
import { concatBytes, fromHex, toHex, utf8 } from '../common/bytes.js';
import { sha256 } from './sha256.js';
import type { LeftRecord } from './reactivation.js';
import type { AlertAction, AlertResolution, AlertStatus, Member } from './types.js';

export const ALERT_DOMAIN = utf8.encode('tracechain/alert/v1');
/** Most item keys one alert names (a recall alert of a huge lot keeps the count and the first ones). */
export const MAX_ALERT_ITEMS = 100_000;
/** Most entries of an alert's history (status changes and refused attempts). */
export const MAX_ALERT_HISTORY = 200;

/** Where an alert came from: an EPCIS event (a status-machine conflict, a recall) or an action tx. */
export type AlertSource = 'event' | 'tx';
const SOURCE_BYTE: Readonly<Record<AlertSource, number>> = { event: 1, tx: 2 };

export interface AlertChange {
  status: AlertStatus;
  resolution: AlertResolution | null;
  reason: string;
  /** Member ID that signed the change. */
  by: string;
  txId: string;
  height: number;
  time: number;
  /** Set when the change reached a block but the rule refused it (a race): the code, nothing changed. */
  refused?: string;
}

export interface AlertRecord {
  [k: string]: unknown;
  id: string;
  code: string;
  message: string;
  /** Member ID of the owner (the manufacturer), or null when no member holds the GTIN's prefix. */
  owner: string | null;
  /** Member IDs involved (submitter of the raising event or tx, custodians, holders), sorted. */
  parties: string[];
  /** Item keys the alert names (sorted), at most MAX_ALERT_ITEMS. */
  items: string[];
  itemCount: number;
  gtin: string | null;
  lot: string | null;
  raisedBy: { source: AlertSource; eventId: string | null; txId: string; blockHash: string; height: number; time: number };
  status: AlertStatus;
  resolution: AlertResolution | null;
  history: AlertChange[];
}

/** Facts kept per pack (namespace `pack`): how it left the chain, theft, its scratch-off code and checks. */
export interface PackRecord {
  [k: string]: unknown;
  key: string;
  left: LeftRecord | null;
  stolen: boolean;
  /** A recall touched the pack itself (lot recalls are read from the recalled lots). */
  recalled: boolean;
  code: { salt: string; commit: string; eventId: string } | null;
  checks: { txId: string; height: number; time: number; member: string; location: string | null }[];
  reactivations: { txId: string; height: number; time: number; by: string }[];
}

export const MAX_PACK_CHECKS = 100;

export function emptyPack(key: string): PackRecord {
  return { key, left: null, stolen: false, recalled: false, code: null, checks: [], reactivations: [] };
}

const EVENT_DIGEST = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/;

function u16(n: number): Uint8Array {
  if (n > 0xffff) throw new TxError('MALFORMED', 'alert ID part longer than 65,535 bytes');
  return new Uint8Array([n >> 8, n & 0xff]);
}

/**
 * The alert ID: SHA-256 of
 *   "tracechain/alert/v1" ‖ u8 source (1 event, 2 tx) ‖ 32-byte digest of the raising event (its
 *   CBV 2.0 hash) or tx (its ID) ‖ u16 length ‖ code (ASCII) ‖ u16 length ‖ subject (UTF-8)
 * where the subject is the item key, or for a recall the holder's member ID ‖ U+0000 ‖ the owner's.
 * Every node derives the same ID from the same block.
 */
export function alertId(source: AlertSource, ref: string, code: string, subject: string): string {
  let digest: Uint8Array;
  if (source === 'event') {
    const m = EVENT_DIGEST.exec(ref);
    if (!m) throw new TxError('MALFORMED', `alert source ${ref} is not a CBV 2.0 event ID`);
    digest = fromHex(m[1] as string, 32);
  } else digest = fromHex(ref, 32);
  const c = utf8.encode(code);
  const s = utf8.encode(subject);
  return toHex(sha256(concatBytes(ALERT_DOMAIN, new Uint8Array([SOURCE_BYTE[source]]), digest, u16(c.length), c, u16(s.length), s)));
}

/** The member whose GS1 company prefix a GTIN-14 carries (the longest matching prefix; first in registry order on a tie), or null. */
export function ownerOfGtin(gtin: string | null, members: readonly Member[]): string | null {
  if (gtin === null || !/^[0-9]{14}$/.test(gtin)) return null;
  const body = gtin.slice(1);
  let best: { id: string; len: number } | null = null;
  for (const m of members) {
    for (const p of m.gs1CompanyPrefixes) {
      if (body.startsWith(p) && (best === null || p.length > best.len)) best = { id: m.id, len: p.length };
    }
  }
  return best?.id ?? null;
}

/** Whether a member may change alerts it does not own: the regulator (and the dev role, which holds every role). */
export function isRegulator(m: Member): boolean {
  return m.role === 'regulator' || m.role === 'dev';
}

/**
 * The lifecycle rule: throws TxError ALERT_UNKNOWN, ALERT_NOT_OWNER, ALERT_CLOSED or
 * ALERT_BAD_TRANSITION. The shape (target status, resolution only on closing) is alert-tx.ts's.
 */
export function checkAlertTransition(rec: AlertRecord | undefined, action: AlertAction, member: Member): AlertRecord {
  if (rec === undefined) throw new TxError('ALERT_UNKNOWN', `no alert ${action.alert} on this chain`);
  if (rec.owner !== member.id && !isRegulator(member)) {
    throw new TxError('ALERT_NOT_OWNER', `member ${member.name} neither owns alert ${rec.id} (owner ${rec.owner ?? 'none'}) nor is a regulator`);
  }
  if (rec.status === 'closed') throw new TxError('ALERT_CLOSED', `alert ${rec.id} is closed (${rec.resolution ?? 'no resolution'}); a closed alert never changes`);
  if (rec.status === action.status) throw new TxError('ALERT_BAD_TRANSITION', `alert ${rec.id} is ${rec.status} already`);
  return rec;
}

/** The alert after an allowed change (a new object). */
export function applyAlertChange(rec: AlertRecord, action: AlertAction, ctx: { by: string; txId: string; height: number; time: number }): AlertRecord {
  const change: AlertChange = { status: action.status, resolution: action.resolution ?? null, reason: action.reason, by: ctx.by, txId: ctx.txId, height: ctx.height, time: ctx.time };
  return { ...rec, status: action.status, resolution: action.resolution ?? null, history: capHistory([...rec.history, change]) };
}

/** The alert with a refused change noted (nothing else changes). */
export function noteRefusedChange(rec: AlertRecord, action: AlertAction, code: string, ctx: { by: string; txId: string; height: number; time: number }): AlertRecord {
  const change: AlertChange = { status: action.status, resolution: action.resolution ?? null, reason: action.reason, by: ctx.by, txId: ctx.txId, height: ctx.height, time: ctx.time, refused: code };
  return { ...rec, history: capHistory([...rec.history, change]) };
}

function capHistory(h: AlertChange[]): AlertChange[] {
  return h.length > MAX_ALERT_HISTORY ? h.slice(h.length - MAX_ALERT_HISTORY) : h;
}

// ---------------------------------------------------------------------------------------------
// Index keys (chain/store.ts RecordIndexOps). U+0000 separates the parts; heights are 10 digits,
// so each range lists alerts in the order they were raised.

const SEP = '\u0000';
const pad = (h: number): string => String(h).padStart(10, '0');

export const ALERT_INDEX = {
  all: `aa${SEP}`,
  owner: (owner: string | null): string => `ao${SEP}${owner ?? '-'}${SEP}`,
  party: (party: string): string => `ap${SEP}${party}${SEP}`,
  status: (status: AlertStatus): string => `as${SEP}${status}${SEP}`,
  lot: (gtin: string, lot: string): string => `al${SEP}${gtin}${SEP}${lot}${SEP}`,
  /** `ac ‖ height ‖ id`: the alert changed status (an applied change) in the block at that height. */
  changes: `ac${SEP}`,
} as const;

/** An `all` index key that sorts after every alert raised at `height` and before those raised later ('g' follows the hex of the IDs). */
export function alertIndexHeight(height: number): string {
  return `${ALERT_INDEX.all}${pad(height)}${SEP}g`;
}

/** The items of a lot: `il ‖ gtin ‖ lot ‖ item key`. */
export function lotItemsPrefix(gtin: string, lot: string): string {
  return `il${SEP}${gtin}${SEP}${lot}${SEP}`;
}

export function lotItemKey(gtin: string, lot: string, key: string): string {
  return `${lotItemsPrefix(gtin, lot)}${key}`;
}

/** The alert ID at the end of an alert index key. */
export function alertIdOfIndexKey(k: string): string {
  return k.slice(k.lastIndexOf(SEP) + 1);
}

/** The item key at the end of a lot index key (after the lot prefix). */
export function itemOfLotKey(prefix: string, k: string): string {
  return k.slice(prefix.length);
}

export function alertIndexKeys(a: AlertRecord): string[] {
  const tail = `${pad(a.raisedBy.height)}${SEP}${a.id}`;
  const keys = [`${ALERT_INDEX.all}${tail}`, `${ALERT_INDEX.owner(a.owner)}${tail}`, `${ALERT_INDEX.status(a.status)}${tail}`];
  for (const p of a.parties) keys.push(`${ALERT_INDEX.party(p)}${tail}`);
  if (a.gtin !== null && a.lot !== null) keys.push(`${ALERT_INDEX.lot(a.gtin, a.lot)}${tail}`);
  // One key per block that applied a change to it, so a subscriber to status changes reads a range, never the blocks.
  for (const h of new Set(a.history.filter((c) => c.refused === undefined).map((c) => c.height))) keys.push(`${ALERT_INDEX.changes}${pad(h)}${SEP}${a.id}`);
  return keys;
}
