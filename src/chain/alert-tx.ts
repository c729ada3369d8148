/**
 * Shape checks of the two action tx kinds (docs/alerts.md): an `alert` tx carries one
 * lifecycle change of an alert, a `pack` tx one pack action (undo of a dispense, a scratch-off
 * code check, a report of wrong codes). Stateless: tx.ts calls them from the decoder; the rules
 * against the chain's state are chain/alert-state.ts's. Throws TxError MALFORMED.
 */
import { TxError } from '../common/errors.js';
import { isHex } from '../common/bytes.js';
import type { AlertAction, PackAction, SignedTx } from './types.js';

export const MAX_REASON_CHARS = 1_000;
export const MAX_ITEM_KEY_CHARS = 500;
export const MAX_LOCATION_CHARS = 300;
/** More wrong codes than any rate limit lets through between two reports. */
export const MAX_REPORTED_FAILURES = 1_000_000;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keysOnly(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new TxError('MALFORMED', `unexpected field "${k}" in ${what}`);
}

function text(v: unknown, max: number, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || v.includes('\u0000')) throw new TxError('MALFORMED', `${what} must be 1 to ${max} characters`);
  return v;
}

export function checkAlertAction(v: unknown): AlertAction {
  if (!isObj(v)) throw new TxError('MALFORMED', 'alert must be an object');
  keysOnly(v, ['op', 'alert', 'status', 'resolution', 'reason'], 'alert');
  if (v.op !== 'status') throw new TxError('MALFORMED', 'alert.op must be "status"');
  if (!isHex(v.alert, 32)) throw new TxError('MALFORMED', 'alert.alert must be an alert ID (32 bytes of lowercase hex)');
  if (v.status !== 'investigating' && v.status !== 'closed') throw new TxError('MALFORMED', 'alert.status must be "investigating" or "closed"');
  if (v.status === 'closed') {
    if (v.resolution !== 'genuine' && v.resolution !== 'counterfeit' && v.resolution !== 'process_error') {
      throw new TxError('MALFORMED', 'closing an alert needs alert.resolution: "genuine", "counterfeit" or "process_error"');
    }
  } else if (v.resolution !== undefined) throw new TxError('MALFORMED', 'alert.resolution comes only with status "closed"');
  text(v.reason, MAX_REASON_CHARS, 'alert.reason');
  return v as unknown as AlertAction;
}

export function checkPackAction(v: unknown): PackAction {
  if (!isObj(v)) throw new TxError('MALFORMED', 'pack must be an object');
  text(v.item, MAX_ITEM_KEY_CHARS, 'pack.item');
  if (v.location !== null) text(v.location, MAX_LOCATION_CHARS, 'pack.location (or null)');
  switch (v.op) {
    case 'reactivate':
      keysOnly(v, ['op', 'item', 'location'], 'pack');
      break;
    case 'code-check':
      keysOnly(v, ['op', 'item', 'proof', 'location'], 'pack');
      if (!isHex(v.proof, 32)) throw new TxError('MALFORMED', 'pack.proof must be 32 bytes of lowercase hex');
      break;
    case 'code-guess':
      keysOnly(v, ['op', 'item', 'failures', 'location'], 'pack');
      if (typeof v.failures !== 'number' || !Number.isSafeInteger(v.failures) || v.failures < 1 || v.failures > MAX_REPORTED_FAILURES) {
        throw new TxError('MALFORMED', `pack.failures must be an integer from 1 to ${MAX_REPORTED_FAILURES}`);
      }
      break;
    default:
      throw new TxError('MALFORMED', 'pack.op must be "reactivate", "code-check" or "code-guess"');
  }
  return v as unknown as PackAction;
}

/** The rest of an `alert` or `pack` tx's shape (tx.ts has checked the common fields): no events, its one action. */
export function checkActionTx(o: Record<string, unknown>): SignedTx {
  if (!Array.isArray(o.events) || !Array.isArray(o.eventIds) || o.events.length !== 0 || o.eventIds.length !== 0) throw new TxError('MALFORMED', `a ${String(o.kind)} tx carries no events`);
  if (o.kind === 'alert') {
    if (o.pack !== undefined) throw new TxError('MALFORMED', 'an alert tx carries only "alert"');
    checkAlertAction(o.alert);
  } else {
    if (o.alert !== undefined) throw new TxError('MALFORMED', 'a pack tx carries only "pack"');
    checkPackAction(o.pack);
  }
  return o as unknown as SignedTx;
}
