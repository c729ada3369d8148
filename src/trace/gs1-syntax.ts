/**
 * GS1 key syntax shared by the EPC URN and Digital Link readers (epc-urn.ts, identifiers.ts):
 * the mod-10 check digit, the AI character sets, and the percent-encodings each form uses.
 */

/** GS1 mod-10 check digit of `digits` (the key without its check digit): weights 3,1,3,… from the right. */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  let w = 3;
  for (let i = digits.length - 1; i >= 0; i--) {
    sum += (digits.charCodeAt(i) - 48) * w;
    w = 4 - w;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when the last digit of a numeric GS1 key (GTIN, SSCC, GLN, …) is its check digit. */
export function hasValidCheckDigit(key: string): boolean {
  if (!/^\d{2,}$/.test(key)) return false;
  return gs1CheckDigit(key.slice(0, -1)) === key.charCodeAt(key.length - 1) - 48;
}

/** GS1 AI encodable character set 82 (GS1 General Specifications §7.11, figure 7.11-1). */
export const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$/;
/** GS1 AI encodable character set 39 (CPID). */
export const CSET39 = /^[#\-/0-9A-Z]*$/;

/**
 * Characters a canonical Digital Link key value carries percent-encoded: those GS1 Digital Link
 * requires (`! # % & ( ) * + , / :` and space) plus those an EPC URN must escape (`" < > ?`), so the
 * URN → Digital Link conversion keeps the URN's escapes, as the reference event-hash generator does.
 */
const DL_ENCODE = /[!"#%&()*+,/:<>? ]/g;
/** Characters an EPC URN component carries percent-encoded (TDS §6: `" % & / < > ?` and `#`). */
const URN_ENCODE = /[#"%&/<>?]/g;

function pctEncode(ch: string): string {
  return '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
}

export function encodeDigitalLinkValue(value: string): string {
  return value.replace(DL_ENCODE, pctEncode);
}

export function encodeUrnValue(value: string): string {
  return value.replace(URN_ENCODE, pctEncode);
}

/** Percent-decodes `%XX` escapes; undefined for a malformed escape. */
export function pctDecode(value: string): string | undefined {
  if (!value.includes('%')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = value.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    out += String.fromCharCode(parseInt(hex, 16));
    i += 2;
  }
  return out;
}

/** Raw characters allowed in an EPC URN component (TDS GS3A3), escapes aside. */
const URN_COMPONENT = /^(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})+$/;

export function urnComponent(value: string, maxLen: number): string | undefined {
  if (!URN_COMPONENT.test(value)) return undefined;
  const decoded = pctDecode(value);
  if (decoded === undefined || decoded.length === 0 || decoded.length > maxLen || !CSET82.test(decoded)) return undefined;
  return decoded;
}
