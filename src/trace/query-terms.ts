/**
 * Query terms: the values of an event the EPCIS query index keeps (business step, disposition,
 * business location, read point, each EPC class of its quantity lists, and the ten minutes, the
 * hour and the UTC day of its event time), each as one term key. Block connect writes a row (term ‖ position → event ID) per
 * term in the store's history index, beside the item keys, so a query by bizStep, place, class
 * or time reads those rows instead of scanning the chain (api/query.ts). Pure.
 *
 * Values are compared in one canonical form on both sides (the query's values are put in the
 * same form): CBV words for vocabulary (`shipping` = its URN = its Web URI), GS1 keys and classes
 * as their canonical Digital Link URIs. A term key starts with `?`, which no item key does.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../common/json.js';
import { parseTime } from './epcis-time.js';
import { prefixesOfContext } from './event-hash.js';
import { normaliseGs1Uri } from './identifiers.js';
import { cbvWord, type VocabularyKind } from './vocabulary.js';

export type TermKind = 'bizStep' | 'disposition' | 'bizLocation' | 'readPoint' | 'class' | 'min10' | 'hour' | 'day';

export const TEN_MINUTES_MS = 600_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Longer values (and any value a store key cannot hold as text) are keyed by their SHA-256. */
const MAX_TEXT = 256;

/** A vocabulary value as a CBV word when it is one (the event's own prefixes expanded). */
export function vocabForm(kind: VocabularyKind, v: string, prefixes?: ReadonlyMap<string, string>): string {
  return cbvWord(kind, v, prefixes) ?? v;
}

/** A place (SGLN URN, Digital Link) or an EPC class in one canonical form. */
export function gs1Form(v: string): string {
  return normaliseGs1Uri(v) ?? v;
}

/** The ten minutes (ten-minute periods since the epoch) of a time in ms. */
export function tenMinutesOf(ms: number): number {
  return Math.floor(ms / TEN_MINUTES_MS);
}

/** The hour (hours since the epoch) of a time in ms. */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

/** The UTC day (days since the epoch) of a time in ms. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** The term key of one canonical value. */
export function termKey(kind: TermKind, value: string): string {
  if (value.length > 0 && value.length <= MAX_TEXT && wellFormed(value)) return `?${kind}=${value}`;
  return `?${kind}#${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}

function idOf(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : undefined;
}

const QUANTITY_LISTS = ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList'] as const;

/** The term keys of one stored (self-contained) event, without repeats. */
export function queryTermsOf(event: JsonObject | Record<string, unknown>): string[] {
  const out = new Set<string>();
  const e = event as Record<string, unknown>;
  const step = e['bizStep'];
  const disp = e['disposition'];
  if (typeof step === 'string' || typeof disp === 'string') {
    const prefixes = prefixesOfContext(e['@context']);
    if (typeof step === 'string') out.add(termKey('bizStep', vocabForm('bizStep', step, prefixes)));
    if (typeof disp === 'string') out.add(termKey('disposition', vocabForm('disposition', disp, prefixes)));
  }
  const loc = idOf(e['bizLocation']);
  if (loc !== undefined) out.add(termKey('bizLocation', gs1Form(loc)));
  const rp = idOf(e['readPoint']);
  if (rp !== undefined) out.add(termKey('readPoint', gs1Form(rp)));
  for (const l of QUANTITY_LISTS) {
    const list = e[l];
    if (!Array.isArray(list)) continue;
    for (const q of list) {
      const c = typeof q === 'object' && q !== null ? (q as { epcClass?: unknown }).epcClass : undefined;
      if (typeof c === 'string') out.add(termKey('class', gs1Form(c)));
    }
  }
  const t = typeof e['eventTime'] === 'string' ? parseTime(e['eventTime']) : undefined;
  if (t !== undefined) {
    out.add(termKey('min10', String(tenMinutesOf(t.ms))));
    out.add(termKey('hour', String(hourOf(t.ms))));
    out.add(termKey('day', String(dayOf(t.ms))));
  }
  return [...out];
}
