/**
 * GS1 identifiers: EPC URNs (GS1 EPC Tag Data Standard 2.x; read in epc-urn.ts) ⇄ GS1 Digital
 * Link URIs (GS1 Digital Link standard 1.x), check digits (gs1-syntax.ts), company prefixes, and
 * ONE canonical item key.
 *
 * Canonical form everywhere = the constrained canonical GS1 Digital Link on `https://id.gs1.org`:
 * GTINs padded to 14 digits, only the finest identification level (a serial drops the lot, the
 * CPV is dropped), no query string, key values percent-encoded as GS1 Digital Link requires.
 * The CBV 2.0 event hash uses the same form, so an EPC written as a URN or as a Digital Link on
 * any resolver host names one item.
 */
import { TraceError } from './errors.js';
import { CSET39, CSET82, encodeDigitalLinkValue, encodeUrnValue, hasValidCheckDigit, pctDecode } from './gs1-syntax.js';
import { parseEpcUrn } from './epc-urn.js';

// The identifier API in one place: the key syntax and the EPC URN reader live in their own files.
export { encodeDigitalLinkValue, gs1CheckDigit, hasValidCheckDigit } from './gs1-syntax.js';
export { parseEpcUrn, type EpcScheme, type ParsedEpc } from './epc-urn.js';

// ---------------------------------------------------------------------------------------------
// GS1 Digital Link

/** Primary-key path segments (AI or short name) → AI. */
const PRIMARY_KEYS: Readonly<Record<string, string>> = {
  '01': '01', gtin: '01', '8006': '8006', itip: '8006', '8010': '8010', cpid: '8010', '414': '414', gln: '414',
  '417': '417', party: '417', '8017': '8017', gsrnp: '8017', '8018': '8018', gsrn: '8018', '255': '255', gcn: '255',
  '00': '00', sscc: '00', '253': '253', gdti: '253', '401': '401', ginc: '401', '402': '402', gsin: '402',
  '8003': '8003', grai: '8003', '8004': '8004', giai: '8004',
};
const QUALIFIER_NAMES: Readonly<Record<string, string>> = { cpv: '22', lot: '10', ser: '21' };

export interface ParsedDigitalLink {
  /** Primary key AI (`01`, `00`, `414`, …) and its value (GTINs padded to 14 digits). */
  ai: string;
  value: string;
  /** Qualifier AI → decoded value, after canonical reduction (CPV dropped, lot dropped beside a serial). */
  qualifiers: Record<string, string>;
  /** Canonical form on https://id.gs1.org. */
  canonical: string;
}

/** Cheap pre-test: a primary key segment followed by digits somewhere in the path. */
const DL_KEY_HINT = /\/(?:01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)\/\d{4}/;

const DL_RE = /^https?:\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/;

function validKeyValue(ai: string, v: string): boolean {
  switch (ai) {
    case '01':
      return /^\d{14}$/.test(v);
    case '00':
      return /^\d{18}$/.test(v);
    case '414':
    case '417':
      return /^\d{13}$/.test(v);
    case '8017':
    case '8018':
    case '8006':
      return /^\d{18}$/.test(v);
    case '402':
      return /^\d{17}$/.test(v);
    case '253':
      return /^\d{13}/.test(v) && v.length <= 30 && CSET82.test(v);
    case '255':
      return /^\d{13,25}$/.test(v);
    case '8003':
      return /^\d{14}/.test(v) && v.length <= 30 && CSET82.test(v);
    case '8004':
    case '401':
      return v.length <= 30 && /^\d{4}/.test(v) && CSET82.test(v);
    case '8010':
      return v.length <= 30 && /^\d{4}/.test(v) && CSET39.test(v);
    default:
      return false;
  }
}

/** Numeric key part whose last digit is a check digit, for check-digit validation. */
export function checkedKeyDigits(ai: string, value: string): string | undefined {
  switch (ai) {
    case '01':
    case '00':
    case '414':
    case '417':
    case '8017':
    case '8018':
    case '402':
      return value;
    case '8006':
      return value.slice(0, 14);
    case '253':
    case '255':
      return value.slice(0, 13);
    case '8003':
      return value.slice(0, 14);
    default:
      return undefined;
  }
}

/**
 * Parses a GS1 Digital Link URI on any host (a path prefix before the key is allowed, short
 * names such as `gtin`/`ser` are accepted) into its constrained canonical form. Undefined when it
 * is not one (or carries a fragment). Check digits are NOT verified here (see canonicalItemKey).
 */
export function parseDigitalLink(uri: string): ParsedDigitalLink | undefined {
  const m = DL_RE.exec(uri);
  if (!m || m[4] !== undefined) return undefined;
  const segs = (m[2] ?? '').split('/').slice(1);
  if (segs.length > 0 && segs[segs.length - 1] === '') segs.pop();
  let i = 0;
  for (; i < segs.length - 1; i++) {
    if (PRIMARY_KEYS[segs[i] as string] !== undefined && /^\d{4}./.test(segs[i + 1] as string)) break;
  }
  if (i >= segs.length - 1) return undefined;
  const ai = PRIMARY_KEYS[segs[i] as string] as string;
  let value = pctDecode(segs[i + 1] as string);
  if (value === undefined) return undefined;
  if (ai === '01') {
    if (/^\d{13}$/.test(value)) value = '0' + value;
    else if (/^\d{12}$/.test(value)) value = '00' + value;
    else if (/^\d{8}$/.test(value)) value = '000000' + value;
  }
  if (!validKeyValue(ai, value)) return undefined;
  const rest = segs.slice(i + 2);
  if (rest.length % 2 !== 0) return undefined;
  const q: Record<string, string> = {};
  for (let j = 0; j < rest.length; j += 2) {
    const name = rest[j] as string;
    const qai = QUALIFIER_NAMES[name] ?? name;
    const qv = pctDecode(rest[j + 1] as string);
    if (qv === undefined || q[qai] !== undefined) return undefined;
    q[qai] = qv;
  }
  const qualifiers: Record<string, string> = {};
  let path = `${ai}/${encodeDigitalLinkValue(value)}`;
  const keys = Object.keys(q);
  const ok = (allowed: string[]): boolean => keys.every((k) => allowed.includes(k));
  const text = (v: string, max: number): boolean => v.length <= max && CSET82.test(v);
  if (ai === '01' || ai === '8006') {
    if (!ok(ai === '01' ? ['22', '10', '21', '235'] : ['22', '10', '21'])) return undefined;
    const ser = q['21'];
    const lot = q['10'];
    const tpx = q['235'];
    if (tpx !== undefined) {
      if (ser !== undefined || lot !== undefined || !text(tpx, 28)) return undefined;
      qualifiers['235'] = tpx;
      path += `/235/${encodeDigitalLinkValue(tpx)}`;
    } else if (ser !== undefined) {
      if (!text(ser, 20) || (lot !== undefined && !text(lot, 20))) return undefined;
      qualifiers['21'] = ser;
      path += `/21/${encodeDigitalLinkValue(ser)}`;
    } else if (lot !== undefined) {
      if (!text(lot, 20)) return undefined;
      qualifiers['10'] = lot;
      path += `/10/${encodeDigitalLinkValue(lot)}`;
    }
  } else if (ai === '414') {
    if (!ok(['254'])) return undefined;
    const ext = q['254'];
    if (ext !== undefined) {
      if (!text(ext, 20)) return undefined;
      qualifiers['254'] = ext;
      path += `/254/${encodeDigitalLinkValue(ext)}`;
    }
  } else if (ai === '8010') {
    if (!ok(['8011'])) return undefined;
    const ser = q['8011'];
    if (ser !== undefined) {
      if (!/^\d{0,12}$/.test(ser)) return undefined;
      qualifiers['8011'] = ser;
      path += `/8011/${ser}`;
    }
  } else if (keys.length > 0) return undefined;
  return { ai, value, qualifiers, canonical: `https://id.gs1.org/${path}` };
}

/**
 * Normalises any URI carrying a GS1 key (EPC URN, EPC class/pattern URN, GS1 Digital Link on
 * any host) to the constrained canonical Digital Link, as the CBV 2.0 event hash requires.
 * Null when the value is not such a URI (it is then hashed as it is). No check-digit test.
 */
export function normaliseGs1Uri(value: string): string | null {
  if (value.length < 8 || !value.includes('.')) return null;
  const c0 = value.charCodeAt(0);
  if (c0 === 117 /* u */) {
    if (!value.startsWith('urn:epc:')) return null;
    return parseEpcUrn(value)?.digitalLink ?? null;
  }
  if (c0 === 104 /* h */ && (value.startsWith('https://') || value.startsWith('http://'))) {
    if (!DL_KEY_HINT.test(value)) return null;
    return parseDigitalLink(value)?.canonical ?? null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Item keys and company prefixes

export interface ItemKeyInfo {
  /** Canonical Digital Link of the item (or class). */
  key: string;
  ai: string;
  gtin?: string;
  serial?: string;
  lot?: string;
  sscc?: string;
  /** Company prefix when the input says it (EPC URN) or a known prefix matched. */
  companyPrefix?: string;
}

/**
 * Memo of itemKeyInfo for calls without known prefixes (the chain's item keys): connecting a
 * block asks for the same EPC several times (history index, status rules, a fresh record), and
 * the parse is pure. Bounded, oldest entry out first; only short inputs that parsed are kept.
 */
const KEY_INFO_MEMO_MAX = 16_384;
const KEY_INFO_MEMO_INPUT_MAX = 512;
const keyInfoMemo = new Map<string, ItemKeyInfo>();

/** Parses and validates (syntax and check digit) an EPC URN or Digital Link; throws TraceError. */
export function itemKeyInfo(input: string, knownPrefixes?: readonly string[]): ItemKeyInfo {
  if (knownPrefixes !== undefined || input.length > KEY_INFO_MEMO_INPUT_MAX) return parseItemKeyInfo(input, knownPrefixes);
  const hit = keyInfoMemo.get(input);
  if (hit !== undefined) return { ...hit };
  const parsed = parseItemKeyInfo(input, undefined);
  if (keyInfoMemo.size >= KEY_INFO_MEMO_MAX) keyInfoMemo.delete(keyInfoMemo.keys().next().value as string);
  keyInfoMemo.set(input, parsed);
  return { ...parsed };
}

function parseItemKeyInfo(input: string, knownPrefixes: readonly string[] | undefined): ItemKeyInfo {
  let s = input.trim();
  if (s.startsWith('/')) s = 'https://id.gs1.org' + s;
  if (s.startsWith('urn:epc:')) {
    const p = parseEpcUrn(s);
    if (!p) throw new TraceError('BAD_EPC', `not a valid EPC URN: ${input}`);
    const dl = parseDigitalLink(p.digitalLink);
    if (!dl) throw new TraceError('BAD_EPC', `EPC URN has no Digital Link equivalent: ${input}`);
    return info(dl, p.companyPrefix);
  }
  if (/^https?:\/\//.test(s)) {
    const withoutFragment = s.replace(/#.*$/, '');
    const dl = parseDigitalLink(withoutFragment);
    if (!dl) throw new TraceError('BAD_EPC', `not a valid GS1 Digital Link: ${input}`);
    const checked = checkedKeyDigits(dl.ai, dl.value);
    if (checked !== undefined && !hasValidCheckDigit(checked)) {
      throw new TraceError('BAD_CHECK_DIGIT', `wrong check digit in GS1 key ${checked} of ${input}`);
    }
    return info(dl, knownPrefixes ? matchPrefix(dl.ai, dl.value, knownPrefixes) : undefined);
  }
  throw new TraceError('BAD_EPC', `not an EPC URN or GS1 Digital Link: ${input}`);
}

function info(dl: ParsedDigitalLink, companyPrefix: string | undefined): ItemKeyInfo {
  const out: ItemKeyInfo = { key: dl.canonical, ai: dl.ai };
  if (dl.ai === '01') out.gtin = dl.value;
  if (dl.ai === '00') out.sscc = dl.value;
  const ser = dl.qualifiers['21'];
  if (ser !== undefined) out.serial = ser;
  const lot = dl.qualifiers['10'];
  if (lot !== undefined) out.lot = lot;
  if (companyPrefix !== undefined) out.companyPrefix = companyPrefix;
  return out;
}

/** Offset of the company prefix inside a primary key value. */
export function prefixOffset(ai: string): number {
  return ai === '01' || ai === '00' || ai === '8006' || ai === '8003' ? 1 : 0;
}

function matchPrefix(ai: string, value: string, prefixes: readonly string[]): string | undefined {
  const off = prefixOffset(ai);
  let best: string | undefined;
  for (const p of prefixes) {
    if (value.startsWith(p, off) && (best === undefined || p.length > best.length)) best = p;
  }
  return best;
}

/**
 * ONE canonical name for an item: the id.gs1.org Digital Link. Accepts an EPC URN (id or class)
 * or a Digital Link on any host; validates syntax and check digits (throws TraceError).
 */
export function canonicalItemKey(input: string): string {
  return itemKeyInfo(input).key;
}

/**
 * The canonical item key of an identifier, or undefined when it names no GS1 key (any URI may
 * name an object in EPCIS; such objects have no item record). Other errors propagate.
 */
export function itemKeyOrUndefined(id: string): string | undefined {
  try {
    return itemKeyInfo(id).key;
  } catch (err) {
    if (err instanceof TraceError) return undefined;
    throw err;
  }
}

/**
 * The GS1 company prefix of an EPC: explicit in a URN; for a Digital Link (which does not encode
 * its length) the longest of `knownPrefixes` the key starts with, else undefined.
 */
export function companyPrefixOf(epc: string, knownPrefixes: readonly string[] = []): string | undefined {
  if (epc.startsWith('urn:epc:')) return parseEpcUrn(epc)?.companyPrefix;
  const dl = parseDigitalLink(epc.replace(/#.*$/, ''));
  if (!dl) return undefined;
  return matchPrefix(dl.ai, dl.value, knownPrefixes);
}

/**
 * Digital Link → EPC URN, given the company prefix length or known prefixes (Digital Link does
 * not encode it). Supports SGTIN, SSCC, SGLN, PGLN, LGTIN (class) and GRAI/GIAI.
 */
export function digitalLinkToEpcUrn(dlUri: string, prefix: { companyPrefixLength?: number; knownPrefixes?: readonly string[] }): string {
  const dl = parseDigitalLink(dlUri);
  if (!dl) throw new TraceError('BAD_EPC', `not a valid GS1 Digital Link: ${dlUri}`);
  const off = prefixOffset(dl.ai);
  let len = prefix.companyPrefixLength;
  if (len === undefined && prefix.knownPrefixes) len = matchPrefix(dl.ai, dl.value, prefix.knownPrefixes)?.length;
  if (len === undefined || len < 6 || len > 12) throw new TraceError('BAD_EPC', `company prefix length unknown for ${dlUri}`);
  const v = dl.value;
  const cp = v.slice(off, off + len);
  switch (dl.ai) {
    case '01': {
      const ir = v.slice(0, 1) + v.slice(1 + len, 13);
      const ser = dl.qualifiers['21'];
      const lot = dl.qualifiers['10'];
      if (ser !== undefined) return `urn:epc:id:sgtin:${cp}.${ir}.${encodeUrnValue(ser)}`;
      if (lot !== undefined) return `urn:epc:class:lgtin:${cp}.${ir}.${encodeUrnValue(lot)}`;
      return `urn:epc:idpat:sgtin:${cp}.${ir}.*`;
    }
    case '00':
      return `urn:epc:id:sscc:${cp}.${v.slice(0, 1)}${v.slice(1 + len, 17)}`;
    case '414':
      return `urn:epc:id:sgln:${cp}.${v.slice(len, 12)}.${encodeUrnValue(dl.qualifiers['254'] ?? '0')}`;
    case '417':
      return `urn:epc:id:pgln:${cp}.${v.slice(len, 12)}`;
    case '8003':
      if (v.length === 14) return `urn:epc:idpat:grai:${cp}.${v.slice(1 + len, 13)}.*`;
      return `urn:epc:id:grai:${cp}.${v.slice(1 + len, 13)}.${encodeUrnValue(v.slice(14))}`;
    case '8004':
      return `urn:epc:id:giai:${cp}.${encodeUrnValue(v.slice(len))}`;
    default:
      throw new TraceError('BAD_EPC', `no EPC URN conversion for AI ${dl.ai}`);
  }
}
