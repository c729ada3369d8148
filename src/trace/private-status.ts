/**
 * One item's status when private events named it (docs/confidentiality.md): the status machine
 * keeps what public events did under the item's clear key and what private events did under its
 * tag key (private-event.ts). A reader of an item (`/verify`, the resolver) knows the clear key,
 * so it can compute the tag and read both; this is how the two records make one answer.
 *
 * - One record only: that record.
 * - Both (an item commissioned in public mode, then traded in private mode, or the other way):
 *   the record whose lifecycle is known leads (a tag record on an item commissioned in public
 *   has lifecycle `unknown`); the holder is the tag record's when it names one (private events
 *   are the later trade); a conflict in either makes the item suspect; alerts of both, oldest
 *   first as each record keeps them, at most MAX_ALERTS.
 *
 * Conflict detection (a second dispense, a ship by a non-holder) works within one mode: an item
 * whose events are all private (or all public) gets every alert; the docs say so.
 */
import { MAX_ALERTS, type ItemRecord } from './status.js';

export function mergeItemRecords(clear: ItemRecord | undefined, tagged: ItemRecord | undefined): ItemRecord | undefined {
  if (tagged === undefined) return clear;
  if (clear === undefined) return tagged;
  const lead = tagged.lifecycle !== 'unknown' ? tagged : clear;
  const other = lead === tagged ? clear : tagged;
  const suspect = clear.status === 'suspect' || tagged.status === 'suspect';
  return {
    ...lead,
    key: clear.key,
    status: suspect ? 'suspect' : lead.status,
    custodian: tagged.custodian ?? clear.custodian,
    manufacturer: lead.manufacturer ?? other.manufacturer,
    gtin: lead.gtin ?? other.gtin,
    lot: lead.lot ?? other.lot,
    expiry: lead.expiry ?? other.expiry,
    alerts: [...clear.alerts, ...tagged.alerts].slice(-MAX_ALERTS),
  };
}
