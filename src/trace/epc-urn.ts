/**
 * EPC URNs (GS1 EPC Tag Data Standard 2.x, pure identity, class and pattern forms) to the
 * canonical GS1 Digital Link on id.gs1.org. One table per URN form, one entry per scheme: each
 * entry reads what follows `<company prefix>.` and says the key's parts and Digital Link, or
 * undefined when the URN is not a valid one of its scheme.
 */
import { CSET39, encodeDigitalLinkValue, gs1CheckDigit, pctDecode, urnComponent } from './gs1-syntax.js';

export type EpcScheme =
  | 'sgtin'
  | 'sscc'
  | 'sgln'
  | 'grai'
  | 'giai'
  | 'gsrn'
  | 'gsrnp'
  | 'gdti'
  | 'cpi'
  | 'sgcn'
  | 'ginc'
  | 'gsin'
  | 'itip'
  | 'upui'
  | 'pgln'
  | 'lgtin';

export interface ParsedEpc {
  /** `id` = one instance, `class` = an LGTIN (GTIN + lot), `idpat` = an EPC pattern (class of GTIN etc.). */
  form: 'id' | 'class' | 'idpat';
  scheme: EpcScheme;
  companyPrefix: string;
  /** Canonical GS1 Digital Link (id.gs1.org). */
  digitalLink: string;
  gtin?: string;
  serial?: string;
  lot?: string;
  sscc?: string;
  gln?: string;
  extension?: string;
}

/** What a scheme's entry finds after the company prefix (the rest of ParsedEpc is the same for all). */
type EpcParts = Omit<ParsedEpc, 'form' | 'scheme' | 'companyPrefix'>;
/** An `id` or `class` entry: the company prefix, and what follows its dot. */
type SchemeReader = (cp: string, after: string) => EpcParts | undefined;
/** An `idpat` entry: the company prefix, and the dot-separated fields after it (the last is `*`). */
type PatternReader = (cp: string, parts: readonly string[]) => EpcParts | undefined;

const BASE = 'https://id.gs1.org/';
const URN_RE = /^urn:epc:(id|class|idpat):([a-z]+):(.+)$/;

const validPrefix = (cp: string): boolean => /^\d{6,12}$/.test(cp);
/** All digits, and with the company prefix exactly `total` digits long. */
const fixed = (cp: string, total: number, ref: string): boolean => /^\d*$/.test(ref) && cp.length + ref.length === total;
const twoDigits = (s: string | undefined): boolean => s !== undefined && /^\d{2}$/.test(s);

function split2(after: string): [string, string] | undefined {
  const i = after.indexOf('.');
  return i < 0 ? undefined : [after.slice(0, i), after.slice(i + 1)];
}

function withCheck(body: string): string {
  return body + String(gs1CheckDigit(body));
}

function gtinFrom(cp: string, ir: string): string {
  return withCheck(ir.slice(0, 1) + cp + ir.slice(1));
}

/** A scheme whose URN is `<cp>.<reference>.<serial-like component>` (`refDigits` + cp = `total`). */
function refAndComponent(total: number, maxLen: number, build: (cp: string, ref: string, value: string) => EpcParts, nonEmptyRef = false): SchemeReader {
  return (cp, after) => {
    const p = split2(after);
    if (!p || !fixed(cp, total, p[0]) || (nonEmptyRef && p[0].length === 0)) return undefined;
    const value = urnComponent(p[1], maxLen);
    return value === undefined ? undefined : build(cp, p[0], value);
  };
}

const ID_SCHEMES = new Map<string, SchemeReader>([
  [
    'sgtin',
    refAndComponent(13, 20, (cp, ir, serial) => {
      const gtin = gtinFrom(cp, ir);
      return { gtin, serial, digitalLink: `${BASE}01/${gtin}/21/${encodeDigitalLinkValue(serial)}` };
    }, true),
  ],
  [
    'sscc',
    (cp, after) => {
      if (!fixed(cp, 17, after) || after.length === 0) return undefined;
      const sscc = withCheck(after.slice(0, 1) + cp + after.slice(1));
      return { sscc, digitalLink: `${BASE}00/${sscc}` };
    },
  ],
  [
    'sgln',
    refAndComponent(12, 20, (cp, ref, ext) => {
      const gln = withCheck(cp + ref);
      return { gln, extension: ext, digitalLink: ext === '0' ? `${BASE}414/${gln}` : `${BASE}414/${gln}/254/${encodeDigitalLinkValue(ext)}` };
    }),
  ],
  [
    'pgln',
    (cp, after) => {
      if (!fixed(cp, 12, after)) return undefined;
      const gln = withCheck(cp + after);
      return { gln, digitalLink: `${BASE}417/${gln}` };
    },
  ],
  ['grai', refAndComponent(12, 16, (cp, ref, serial) => ({ serial, digitalLink: `${BASE}8003/${withCheck('0' + cp + ref)}${encodeDigitalLinkValue(serial)}` }))],
  [
    'giai',
    (cp, after) => {
      const ref = urnComponent(after, 30 - cp.length);
      return ref === undefined ? undefined : { serial: ref, digitalLink: `${BASE}8004/${cp}${encodeDigitalLinkValue(ref)}` };
    },
  ],
  ['gsrn', (cp, after) => (fixed(cp, 17, after) ? { digitalLink: `${BASE}8018/${withCheck(cp + after)}` } : undefined)],
  ['gsrnp', (cp, after) => (fixed(cp, 17, after) ? { digitalLink: `${BASE}8017/${withCheck(cp + after)}` } : undefined)],
  ['gdti', refAndComponent(12, 17, (cp, ref, serial) => ({ serial, digitalLink: `${BASE}253/${withCheck(cp + ref)}${encodeDigitalLinkValue(serial)}` }))],
  [
    'sgcn',
    (cp, after) => {
      const p = split2(after);
      if (!p || !fixed(cp, 12, p[0]) || !/^\d{1,12}$/.test(p[1])) return undefined;
      return { serial: p[1], digitalLink: `${BASE}255/${withCheck(cp + p[0])}${p[1]}` };
    },
  ],
  [
    'cpi',
    (cp, after) => {
      const last = after.lastIndexOf('.');
      if (last < 0) return undefined;
      const ref = pctDecode(after.slice(0, last));
      const serial = after.slice(last + 1);
      if (ref === undefined || ref.length === 0 || !CSET39.test(ref) || cp.length + ref.length > 30 || !/^\d{1,12}$/.test(serial)) return undefined;
      return { serial, digitalLink: `${BASE}8010/${encodeDigitalLinkValue(cp + ref)}/8011/${serial}` };
    },
  ],
  [
    'ginc',
    (cp, after) => {
      const ref = urnComponent(after, 30 - cp.length);
      return ref === undefined ? undefined : { digitalLink: `${BASE}401/${cp}${encodeDigitalLinkValue(ref)}` };
    },
  ],
  ['gsin', (cp, after) => (fixed(cp, 16, after) ? { digitalLink: `${BASE}402/${withCheck(cp + after)}` } : undefined)],
  [
    'itip',
    (cp, after) => {
      const parts = after.split('.');
      if (parts.length < 4) return undefined;
      const [ir, pp, tt] = parts as [string, string, string];
      if (!fixed(cp, 13, ir) || ir.length === 0 || !twoDigits(pp) || !twoDigits(tt)) return undefined;
      const serial = urnComponent(parts.slice(3).join('.'), 20);
      if (serial === undefined) return undefined;
      const gtin = gtinFrom(cp, ir);
      return { gtin, serial, digitalLink: `${BASE}8006/${gtin}${pp}${tt}/21/${encodeDigitalLinkValue(serial)}` };
    },
  ],
  [
    'upui',
    refAndComponent(13, 28, (cp, ir, tpx) => {
      const gtin = gtinFrom(cp, ir);
      return { gtin, digitalLink: `${BASE}01/${gtin}/235/${encodeDigitalLinkValue(tpx)}` };
    }, true),
  ],
]);

const CLASS_SCHEMES = new Map<string, SchemeReader>([
  [
    'lgtin',
    refAndComponent(13, 20, (cp, ir, lot) => {
      const gtin = gtinFrom(cp, ir);
      return { gtin, lot, digitalLink: `${BASE}01/${gtin}/10/${encodeDigitalLinkValue(lot)}` };
    }, true),
  ],
]);

/** A pattern of one reference (`<cp>.<ref>.*`), `refTotal` digits with the prefix. */
function onePattern(refTotal: number, build: (cp: string, ref: string) => EpcParts, nonEmptyRef = false): PatternReader {
  return (cp, parts) => {
    const ref = parts[0] as string;
    if (parts.length !== 2 || !fixed(cp, refTotal, ref) || (nonEmptyRef && ref.length === 0)) return undefined;
    return build(cp, ref);
  };
}

const gtinPattern = onePattern(
  13,
  (cp, ref) => {
    const gtin = gtinFrom(cp, ref);
    return { gtin, digitalLink: `${BASE}01/${gtin}` };
  },
  true,
);

/** Patterns: the class of all instances of one key (a `*` in the last place only). */
const PATTERN_SCHEMES = new Map<string, PatternReader>([
  ['sgtin', gtinPattern],
  ['upui', gtinPattern],
  ['grai', onePattern(12, (cp, ref) => ({ digitalLink: `${BASE}8003/${withCheck('0' + cp + ref)}` }))],
  ['gdti', onePattern(12, (cp, ref) => ({ digitalLink: `${BASE}253/${withCheck(cp + ref)}` }))],
  ['sgcn', onePattern(12, (cp, ref) => ({ digitalLink: `${BASE}255/${withCheck(cp + ref)}` }))],
  [
    'cpi',
    (cp, parts) => {
      const r = pctDecode(parts[0] as string);
      if (parts.length !== 2 || r === undefined || r.length === 0 || !CSET39.test(r)) return undefined;
      return { digitalLink: `${BASE}8010/${encodeDigitalLinkValue(cp + r)}` };
    },
  ],
  [
    'itip',
    (cp, parts) => {
      const [ref, pp, tt] = parts as [string, string | undefined, string | undefined];
      if (parts.length !== 4 || !fixed(cp, 13, ref) || ref.length === 0 || !twoDigits(pp) || !twoDigits(tt)) return undefined;
      const gtin = gtinFrom(cp, ref);
      return { gtin, digitalLink: `${BASE}8006/${gtin}${pp as string}${tt as string}` };
    },
  ],
]);

/** Parses an EPC URN (pure identity, class or pattern). Undefined when it is not a valid one. */
export function parseEpcUrn(uri: string): ParsedEpc | undefined {
  const m = URN_RE.exec(uri);
  if (!m) return undefined;
  const form = m[1] as ParsedEpc['form'];
  const scheme = m[2] as EpcScheme;
  const rest = m[3] as string;
  const dot = rest.indexOf('.');
  if (dot < 0) return undefined;
  const cp = rest.slice(0, dot);
  if (!validPrefix(cp)) return undefined;
  const after = rest.slice(dot + 1);
  let parts: EpcParts | undefined;
  if (form === 'idpat') {
    const fields = after.split('.');
    if (fields[fields.length - 1] !== '*') return undefined;
    parts = PATTERN_SCHEMES.get(scheme)?.(cp, fields);
  } else {
    parts = (form === 'id' ? ID_SCHEMES : CLASS_SCHEMES).get(scheme)?.(cp, after);
  }
  return parts === undefined ? undefined : { form, scheme, companyPrefix: cp, ...parts };
}
