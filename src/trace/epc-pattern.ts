/**
 * EPC patterns wider than one class (GS1 Tag Data Standard §8, `urn:epc:idpat:`): every instance
 * of a company prefix (`urn:epc:idpat:sgtin:0614141.*.*`, `urn:epc:idpat:sscc:0614141.*`) or of
 * a whole scheme (`urn:epc:idpat:sgtin:*.*.*`). A `*` stands for a whole field, and every field
 * right of a `*` is one too. Patterns of one class (`…:0614141.107346.*`) are epc-urn.ts's.
 *
 * An EPC written as a URN matches when its scheme and company prefix are the pattern's. A Digital
 * Link does not say how long its company prefix is, so it matches when its key is of the
 * pattern's scheme and its digits (after the indicator or extension digit, as in the URN) begin
 * with the prefix: a key of a longer prefix that begins with the same digits matches too. Pure.
 */
import { parseEpcUrn, type EpcScheme } from './epc-urn.js';
import { parseDigitalLink, prefixOffset } from './identifiers.js';

export interface WideEpcPattern {
  scheme: EpcScheme;
  /** Absent: every instance of the scheme. */
  companyPrefix?: string;
}

/** Fields of each scheme's pure-identity URN (company prefix first). */
const FIELDS: Readonly<Partial<Record<EpcScheme, number>>> = {
  sgtin: 3, sscc: 2, sgln: 3, grai: 3, giai: 2, gsrn: 2, gsrnp: 2, gdti: 3, cpi: 3, sgcn: 3, ginc: 2, gsin: 2, itip: 5, upui: 3, pgln: 2,
};

const PATTERN_RE = /^urn:epc:idpat:([a-z]+):(.+)$/;

/**
 * A pattern of a company prefix or a scheme; undefined when `uri` is not one (a pattern of one
 * class, or not a pattern at all).
 */
export function parseWidePattern(uri: string): WideEpcPattern | undefined {
  const m = PATTERN_RE.exec(uri);
  if (m === null) return undefined;
  const scheme = m[1] as EpcScheme;
  const count = FIELDS[scheme];
  const fields = (m[2] as string).split('.');
  if (count === undefined || fields.length !== count) return undefined;
  const first = fields[0] as string;
  if (fields.slice(1).some((f) => f !== '*')) return undefined;
  if (first === '*') return { scheme };
  return /^\d{6,12}$/.test(first) ? { scheme, companyPrefix: first } : undefined;
}

/** The Digital Link primary key (and the qualifier an instance has) of each scheme. */
const DL_SCHEMES: readonly (readonly [EpcScheme, string, string | undefined])[] = [
  ['sgtin', '01', '21'],
  ['upui', '01', '235'],
  ['sscc', '00', undefined],
  ['sgln', '414', undefined],
  ['pgln', '417', undefined],
  ['grai', '8003', undefined],
  ['giai', '8004', undefined],
  ['gsrn', '8018', undefined],
  ['gsrnp', '8017', undefined],
  ['gdti', '253', undefined],
  ['sgcn', '255', undefined],
  ['cpi', '8010', '8011'],
  ['ginc', '401', undefined],
  ['gsin', '402', undefined],
  ['itip', '8006', '21'],
];

/** Whether an EPC (URN or Digital Link) is an instance the pattern names. */
export function matchesWidePattern(p: WideEpcPattern, epc: string): boolean {
  if (epc.startsWith('urn:epc:')) {
    const u = parseEpcUrn(epc);
    return u !== undefined && u.form === 'id' && u.scheme === p.scheme && (p.companyPrefix === undefined || u.companyPrefix === p.companyPrefix);
  }
  const dl = parseDigitalLink(epc);
  if (dl === undefined) return false;
  const scheme = DL_SCHEMES.find(([, ai, qualifier]) => ai === dl.ai && (qualifier === undefined || dl.qualifiers[qualifier] !== undefined));
  if (scheme === undefined || scheme[0] !== p.scheme) return false;
  return p.companyPrefix === undefined || dl.value.startsWith(p.companyPrefix, prefixOffset(dl.ai));
}

/**
 * Whether an EPC class (an LGTIN `urn:epc:class:lgtin:…`, a GTIN's pattern `urn:epc:idpat:sgtin:CP.IR.*`,
 * or their Digital Links `…/01/<gtin>[/10/<lot>]`) is a class of instances the pattern names: a
 * class of trade items for an `sgtin` pattern, with the pattern's company prefix.
 */
export function classMatchesWidePattern(p: WideEpcPattern, epcClass: string): boolean {
  if (epcClass.startsWith('urn:epc:')) {
    const u = parseEpcUrn(epcClass);
    if (u === undefined || u.form === 'id') return false;
    const scheme = u.scheme === 'lgtin' ? 'sgtin' : u.scheme;
    return scheme === p.scheme && (p.companyPrefix === undefined || u.companyPrefix === p.companyPrefix);
  }
  const dl = parseDigitalLink(epcClass);
  if (dl === undefined || dl.ai !== '01' || dl.qualifiers['21'] !== undefined || p.scheme !== 'sgtin') return false;
  return p.companyPrefix === undefined || dl.value.startsWith(p.companyPrefix, prefixOffset(dl.ai));
}
