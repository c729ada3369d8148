/**
 * EPC URN reader (src/trace/epc-urn.ts): one table entry per scheme and form. The expected parts
 * are what the reader gave before it became a table (a switch over schemes), kept as vectors.
 */
import { describe, expect, it } from 'vitest';
import { parseEpcUrn } from '../../../src/trace/epc-urn.js';

const VECTORS: [string, Record<string, string>][] = [
  ["urn:epc:id:sgtin:0614141.812345.6789", {"form": "id", "scheme": "sgtin", "companyPrefix": "0614141", "gtin": "80614141123458", "serial": "6789", "digitalLink": "https://id.gs1.org/01/80614141123458/21/6789"}],
  ["urn:epc:id:sscc:0614141.1234567890", {"form": "id", "scheme": "sscc", "companyPrefix": "0614141", "sscc": "106141412345678908", "digitalLink": "https://id.gs1.org/00/106141412345678908"}],
  ["urn:epc:id:sgln:0614141.12345.400", {"form": "id", "scheme": "sgln", "companyPrefix": "0614141", "gln": "0614141123452", "extension": "400", "digitalLink": "https://id.gs1.org/414/0614141123452/254/400"}],
  ["urn:epc:id:sgln:0614141.12345.0", {"form": "id", "scheme": "sgln", "companyPrefix": "0614141", "gln": "0614141123452", "extension": "0", "digitalLink": "https://id.gs1.org/414/0614141123452"}],
  ["urn:epc:id:pgln:0614141.12345", {"form": "id", "scheme": "pgln", "companyPrefix": "0614141", "gln": "0614141123452", "digitalLink": "https://id.gs1.org/417/0614141123452"}],
  ["urn:epc:id:grai:0614141.12345.400", {"form": "id", "scheme": "grai", "companyPrefix": "0614141", "serial": "400", "digitalLink": "https://id.gs1.org/8003/00614141123452400"}],
  ["urn:epc:id:giai:0614141.12345400", {"form": "id", "scheme": "giai", "companyPrefix": "0614141", "serial": "12345400", "digitalLink": "https://id.gs1.org/8004/061414112345400"}],
  ["urn:epc:id:gsrn:0614141.1234567890", {"form": "id", "scheme": "gsrn", "companyPrefix": "0614141", "digitalLink": "https://id.gs1.org/8018/061414112345678902"}],
  ["urn:epc:id:gsrnp:0614141.1234567890", {"form": "id", "scheme": "gsrnp", "companyPrefix": "0614141", "digitalLink": "https://id.gs1.org/8017/061414112345678902"}],
  ["urn:epc:id:gdti:0614141.12345.400", {"form": "id", "scheme": "gdti", "companyPrefix": "0614141", "serial": "400", "digitalLink": "https://id.gs1.org/253/0614141123452400"}],
  ["urn:epc:id:cpi:0614141.123ABC.123456789", {"form": "id", "scheme": "cpi", "companyPrefix": "0614141", "serial": "123456789", "digitalLink": "https://id.gs1.org/8010/0614141123ABC/8011/123456789"}],
  ["urn:epc:id:sgcn:4012345.67890.04711", {"form": "id", "scheme": "sgcn", "companyPrefix": "4012345", "serial": "04711", "digitalLink": "https://id.gs1.org/255/401234567890104711"}],
  ["urn:epc:id:ginc:0614141.xyz47%2F11", {"form": "id", "scheme": "ginc", "companyPrefix": "0614141", "digitalLink": "https://id.gs1.org/401/0614141xyz47%2F11"}],
  ["urn:epc:id:gsin:0614141.123456789", {"form": "id", "scheme": "gsin", "companyPrefix": "0614141", "digitalLink": "https://id.gs1.org/402/06141411234567890"}],
  ["urn:epc:id:itip:4012345.012345.01.02.987", {"form": "id", "scheme": "itip", "companyPrefix": "4012345", "gtin": "04012345123456", "serial": "987", "digitalLink": "https://id.gs1.org/8006/040123451234560102/21/987"}],
  ["urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB", {"form": "id", "scheme": "upui", "companyPrefix": "1234567", "gtin": "01234567894560", "digitalLink": "https://id.gs1.org/01/01234567894560/235/51qIgY%29%3C%26Jp3%2Aj7'SDB"}],
  ["urn:epc:class:lgtin:4012345.012345.998877", {"form": "class", "scheme": "lgtin", "companyPrefix": "4012345", "gtin": "04012345123456", "lot": "998877", "digitalLink": "https://id.gs1.org/01/04012345123456/10/998877"}],
  ["urn:epc:idpat:sgtin:4012345.012345.*", {"form": "idpat", "scheme": "sgtin", "companyPrefix": "4012345", "gtin": "04012345123456", "digitalLink": "https://id.gs1.org/01/04012345123456"}],
  ["urn:epc:idpat:upui:1234567.089456.*", {"form": "idpat", "scheme": "upui", "companyPrefix": "1234567", "gtin": "01234567894560", "digitalLink": "https://id.gs1.org/01/01234567894560"}],
  ["urn:epc:idpat:grai:4012345.98765.*", {"form": "idpat", "scheme": "grai", "companyPrefix": "4012345", "digitalLink": "https://id.gs1.org/8003/04012345987652"}],
  ["urn:epc:idpat:gdti:0614141.12345.*", {"form": "idpat", "scheme": "gdti", "companyPrefix": "0614141", "digitalLink": "https://id.gs1.org/253/0614141123452"}],
  ["urn:epc:idpat:sgcn:4012345.67890.*", {"form": "idpat", "scheme": "sgcn", "companyPrefix": "4012345", "digitalLink": "https://id.gs1.org/255/4012345678901"}],
  ["urn:epc:idpat:cpi:0614141.123ABC.*", {"form": "idpat", "scheme": "cpi", "companyPrefix": "0614141", "digitalLink": "https://id.gs1.org/8010/0614141123ABC"}],
  ["urn:epc:idpat:itip:4012345.012345.01.02.*", {"form": "idpat", "scheme": "itip", "companyPrefix": "4012345", "gtin": "04012345123456", "digitalLink": "https://id.gs1.org/8006/040123451234560102"}],
];

describe('parseEpcUrn (per-scheme table)', () => {
  it('covers every scheme of every form', () => {
    const kinds = new Set(VECTORS.map(([, p]) => `${p.form as string}:${p.scheme as string}`));
    expect(kinds.size).toBe(23);
  });

  it.each(VECTORS)('%s', (urn, expected) => {
    const parsed = parseEpcUrn(urn);
    expect(parsed).toEqual(expected);
    // Same members in the same order as before (the parsed form is serialised in places).
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(expected));
  });

  it('a scheme in the wrong form, an unknown scheme, or a name of an object property is no EPC', () => {
    for (const urn of [
      'urn:epc:class:sgtin:0614141.812345.6789',
      'urn:epc:idpat:sscc:0614141.*',
      'urn:epc:id:lgtin:4012345.012345.998877',
      'urn:epc:id:bogus:0614141.1',
      'urn:epc:id:constructor:0614141.1',
      'urn:epc:idpat:tostring:0614141.1.*',
      'urn:epc:id:hasownproperty:0614141.1',
      'urn:epc:idpat:sgtin:4012345.012345.1',
    ]) {
      expect(parseEpcUrn(urn), urn).toBeUndefined();
    }
  });
});
