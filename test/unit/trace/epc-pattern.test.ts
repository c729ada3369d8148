import { describe, expect, it } from 'vitest';
import { classMatchesWidePattern, matchesWidePattern, parseWidePattern } from '../../../src/trace/epc-pattern.js';

describe('EPC patterns of a company prefix or a scheme', () => {
  it('reads `*` fields from the right only, with the scheme\'s field count', () => {
    expect(parseWidePattern('urn:epc:idpat:sgtin:0614141.*.*')).toEqual({ scheme: 'sgtin', companyPrefix: '0614141' });
    expect(parseWidePattern('urn:epc:idpat:sgtin:*.*.*')).toEqual({ scheme: 'sgtin' });
    expect(parseWidePattern('urn:epc:idpat:sscc:0614141.*')).toEqual({ scheme: 'sscc', companyPrefix: '0614141' });
    expect(parseWidePattern('urn:epc:idpat:itip:0614141.*.*.*.*')).toEqual({ scheme: 'itip', companyPrefix: '0614141' });
    expect(parseWidePattern('urn:epc:idpat:sgtin:0614141.107346.*')).toBeUndefined(); // one class: epc-urn.ts
    expect(parseWidePattern('urn:epc:idpat:sgtin:0614141.*.1')).toBeUndefined();
    expect(parseWidePattern('urn:epc:idpat:sgtin:*.107346.*')).toBeUndefined();
    expect(parseWidePattern('urn:epc:idpat:sgtin:0614141.*')).toBeUndefined();
    expect(parseWidePattern('urn:epc:idpat:sgtin:06141.*.*')).toBeUndefined();
    expect(parseWidePattern('urn:epc:idpat:lgtin:0614141.*.*')).toBeUndefined();
    expect(parseWidePattern('urn:epc:id:sgtin:0614141.107346.1')).toBeUndefined();
  });

  it('matches URNs by scheme and company prefix, Digital Links by scheme and leading digits', () => {
    const company = parseWidePattern('urn:epc:idpat:sgtin:0614141.*.*')!;
    expect(matchesWidePattern(company, 'urn:epc:id:sgtin:0614141.107346.2017')).toBe(true);
    expect(matchesWidePattern(company, 'urn:epc:id:sgtin:0614142.107346.2017')).toBe(false);
    // 061414 + 1 digit of item reference: another company, same leading digits: a URN says so.
    expect(matchesWidePattern(company, 'urn:epc:id:sgtin:061414.1107346.2017')).toBe(false);
    expect(matchesWidePattern(company, 'https://id.gs1.org/01/10614141073464/21/2017')).toBe(true);
    expect(matchesWidePattern(company, 'https://id.gs1.org/01/10614142073463/21/2017')).toBe(false);
    expect(matchesWidePattern(company, 'https://id.gs1.org/01/10614141073464')).toBe(false); // a class, not an instance
    expect(matchesWidePattern(company, 'urn:epc:id:sscc:0614141.1234567890')).toBe(false);
    const sscc = parseWidePattern('urn:epc:idpat:sscc:*.*')!;
    expect(matchesWidePattern(sscc, 'urn:epc:id:sscc:0614141.1234567890')).toBe(true);
    expect(matchesWidePattern(sscc, 'https://id.gs1.org/00/106141412345678908')).toBe(true);
    expect(matchesWidePattern(sscc, 'urn:example:thing')).toBe(false);
    const gln = parseWidePattern('urn:epc:idpat:sgln:0614141.*.*')!;
    expect(matchesWidePattern(gln, 'urn:epc:id:sgln:0614141.07346.1234')).toBe(true);
    expect(matchesWidePattern(gln, 'https://id.gs1.org/414/0614141073467')).toBe(true);
  });

  it('matches classes of trade items for sgtin patterns', () => {
    const company = parseWidePattern('urn:epc:idpat:sgtin:0614141.*.*')!;
    expect(classMatchesWidePattern(company, 'urn:epc:class:lgtin:0614141.107346.LOT1')).toBe(true);
    expect(classMatchesWidePattern(company, 'urn:epc:idpat:sgtin:0614141.107346.*')).toBe(true);
    expect(classMatchesWidePattern(company, 'https://id.gs1.org/01/10614141073464/10/L1')).toBe(true);
    expect(classMatchesWidePattern(company, 'https://id.gs1.org/01/10614141073464')).toBe(true);
    expect(classMatchesWidePattern(company, 'urn:epc:class:lgtin:0614142.107346.LOT1')).toBe(false);
    expect(classMatchesWidePattern(company, 'urn:epc:id:sgtin:0614141.107346.1')).toBe(false); // an instance
    expect(classMatchesWidePattern(company, 'https://id.gs1.org/01/10614141073464/21/1')).toBe(false);
    expect(classMatchesWidePattern(parseWidePattern('urn:epc:idpat:sscc:*.*')!, 'urn:epc:class:lgtin:0614141.107346.LOT1')).toBe(false);
  });
});
