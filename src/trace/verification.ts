/**
 * Verification requests (US DSCSA Verification Router Service, GS1 Lightweight Messaging
 * Standard for Verification of Product Identifiers): does a product identifier (GTIN, serial,
 * lot, expiry) match what its manufacturer commissioned on the chain, and what else must the
 * requester know (recalled, suspect, expired)? Pure: the caller reads the item and gives the
 * verification time.
 *
 * `verified` says whether the identifier matches the commissioning data; a recall, a recorded
 * conflict or a past expiry does not change it but is named in `additionalInfo`, so a returned
 * pack that verifies but is recalled is still refused for resale by the requester.
 */
import type { ItemRecord } from './status.js';

export type VerificationFailureReason = 'No_match_GTIN_Serial' | 'No_match_GTIN_Serial_Lot' | 'No_match_GTIN_Serial_Expiry' | 'No_match_GTIN_Serial_Lot_Expiry';
export type VerificationInfo = 'Recalled' | 'Suspect' | 'Expired';

export interface VerificationData {
  verified: boolean;
  verificationFailureReason?: VerificationFailureReason;
  /** Comma-separated when several apply (Recalled,Suspect,Expired), in that order. */
  additionalInfo?: string;
}

export class VerificationRequestError extends Error {}

/**
 * A GS1 date (application identifier 17, YYMMDD) as YYYY-MM-DD. The century is the one that puts
 * the year within 49 years before and 50 after `nowMs`'s year (GS1 General Specifications,
 * 7.12); day 00 is the month's last day.
 */
export function gs1Date(yymmdd: string, nowMs: number): string {
  const m = /^([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(yymmdd);
  if (m === null) throw new VerificationRequestError(`exp: give the expiry as YYMMDD (6 digits), got ${JSON.stringify(yymmdd.slice(0, 20))}`);
  const yy = Number(m[1]);
  const month = Number(m[2]);
  let day = Number(m[3]);
  if (month < 1 || month > 12) throw new VerificationRequestError(`exp: month ${m[2]} is not 01 to 12`);
  const current = new Date(nowMs).getUTCFullYear();
  const century = Math.floor(current / 100) * 100;
  const diff = yy - (current % 100);
  const year = century + yy + (diff >= 51 ? -100 : diff <= -50 ? 100 : 0);
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day === 0) day = lastDay;
  if (day > lastDay) throw new VerificationRequestError(`exp: day ${m[3]} is past the end of month ${m[2]}`);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export interface VerificationInput {
  /** The item as the chain records it; undefined (or never commissioned) when the serial is unknown. */
  item: ItemRecord | undefined;
  /** The item's lot was recalled (recalledLots index). */
  lotRecalled: boolean;
  lot: string;
  /** YYYY-MM-DD (gs1Date of the request's exp). */
  expiry: string;
  nowMs: number;
}

export function verifyProductIdentifier(input: VerificationInput): VerificationData {
  const { item } = input;
  if (item === undefined || item.manufacturer === null) return { verified: false, verificationFailureReason: 'No_match_GTIN_Serial' };
  const lotOk = item.lot === input.lot;
  const expiryOk = item.expiry === input.expiry;
  const info: VerificationInfo[] = [];
  if (input.lotRecalled || item.status === 'recalled' || item.lifecycle === 'recalled') info.push('Recalled');
  if (item.status === 'suspect') info.push('Suspect');
  const today = new Date(input.nowMs).toISOString().slice(0, 10);
  if (item.expiry !== null && item.expiry < today) info.push('Expired');
  const out: VerificationData = { verified: lotOk && expiryOk };
  if (!lotOk && !expiryOk) out.verificationFailureReason = 'No_match_GTIN_Serial_Lot_Expiry';
  else if (!lotOk) out.verificationFailureReason = 'No_match_GTIN_Serial_Lot';
  else if (!expiryOk) out.verificationFailureReason = 'No_match_GTIN_Serial_Expiry';
  if (info.length > 0) out.additionalInfo = info.join(',');
  return out;
}
