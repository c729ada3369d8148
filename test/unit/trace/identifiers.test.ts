import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalItemKey,
  companyPrefixOf,
  digitalLinkToEpcUrn,
  encodeDigitalLinkValue,
  gs1CheckDigit,
  hasValidCheckDigit,
  itemKeyInfo,
  normaliseGs1Uri,
  parseDigitalLink,
  parseEpcUrn,
  TraceError,
} from '../../../src/trace/index.js';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof TraceError) return e.code;
    throw e;
  }
  return undefined;
}

describe('check digits', () => {
  it('computes GS1 mod-10 check digits (GTIN, SSCC, GLN)', () => {
    expect(gs1CheckDigit('1061414107346')).toBe(4);
    expect(gs1CheckDigit('10614141234567890')).toBe(8);
    expect(gs1CheckDigit('061414107346')).toBe(7);
    expect(gs1CheckDigit('950600013435')).toBe(2);
    expect(hasValidCheckDigit('09506000134352')).toBe(true);
    expect(hasValidCheckDigit('09506000134353')).toBe(false);
  });
});

describe('EPC URN → Digital Link', () => {
  it('converts SGTIN, SSCC, SGLN, PGLN, LGTIN, GRAI, GIAI and patterns', () => {
    expect(parseEpcUrn('urn:epc:id:sgtin:0614141.107346.2017')?.digitalLink).toBe('https://id.gs1.org/01/10614141073464/21/2017');
    expect(parseEpcUrn('urn:epc:id:sscc:0614141.1234567890')?.digitalLink).toBe('https://id.gs1.org/00/106141412345678908');
    expect(parseEpcUrn('urn:epc:id:sgln:0614141.07346.1234')?.digitalLink).toBe('https://id.gs1.org/414/0614141073467/254/1234');
    expect(parseEpcUrn('urn:epc:id:sgln:0614141.07346.0')?.digitalLink).toBe('https://id.gs1.org/414/0614141073467');
    expect(parseEpcUrn('urn:epc:id:pgln:4000001.98765')?.digitalLink).toBe('https://id.gs1.org/417/4000001987658');
    expect(parseEpcUrn('urn:epc:class:lgtin:4054739.099914.20160711')?.digitalLink).toBe('https://id.gs1.org/01/04054739999148/10/20160711');
    expect(parseEpcUrn('urn:epc:idpat:sgtin:4012345.066666.*')?.digitalLink).toBe('https://id.gs1.org/01/04012345666663');
    expect(parseEpcUrn('urn:epc:id:grai:4012345.66666.87')?.digitalLink).toBe('https://id.gs1.org/8003/0401234566666387');
    expect(parseEpcUrn('urn:epc:id:giai:4012345.AAbb')?.digitalLink).toBe('https://id.gs1.org/8004/4012345AAbb');
  });

  it('keeps the URN escapes and percent-encodes what Digital Link requires', () => {
    expect(parseEpcUrn('urn:epc:id:sgtin:0614141.107346.A%2FB')?.digitalLink).toBe('https://id.gs1.org/01/10614141073464/21/A%2FB');
    expect(parseEpcUrn("urn:epc:id:sgtin:0614141.107346.a!b(c)*+,:';=_-.")?.digitalLink).toBe(
      "https://id.gs1.org/01/10614141073464/21/a%21b%28c%29%2A%2B%2C%3A';=_-.",
    );
    expect(parseEpcUrn('urn:epc:id:sgtin:0614141.107346.A%2FB')?.serial).toBe('A/B');
  });

  it('rejects malformed URNs', () => {
    for (const bad of [
      'urn:epc:id:sgtin:0614141.10734.2017', // 12 digits instead of 13
      'urn:epc:id:sgtin:0614141.107346.', // empty serial
      'urn:epc:id:sgtin:0614141.107346.123456789012345678901', // serial longer than 20
      'urn:epc:id:sgtin:0614141.107346.a/b', // unescaped '/'
      'urn:epc:id:sscc:0614141.123456789', // 16 digits
      'urn:epc:id:sgtin:06141.1073461.1', // company prefix shorter than 6
    ]) {
      expect(parseEpcUrn(bad), bad).toBeUndefined();
      expect(code(() => canonicalItemKey(bad)), bad).toBe('BAD_EPC');
    }
  });
});

describe('Digital Link', () => {
  it('canonicalises host, short names, padding, query, CPV and lot-beside-serial', () => {
    expect(parseDigitalLink('https://example.com/gtin/9506000134352/lot/L1/ser/7?17=270101')?.canonical).toBe('https://id.gs1.org/01/09506000134352/21/7');
    expect(parseDigitalLink('http://brand.example.org/some/path/01/09506000134352/22/A1/10/L%2F1')?.canonical).toBe('https://id.gs1.org/01/09506000134352/10/L%2F1');
    expect(parseDigitalLink('https://id.gs1.de/00/106141412345678908/')?.canonical).toBe('https://id.gs1.org/00/106141412345678908');
    expect(parseDigitalLink('https://example.com/foo/bar')).toBeUndefined();
    expect(parseDigitalLink('https://id.gs1.org/01/09506000134352/21/x#frag')).toBeUndefined();
  });

  it('normaliseGs1Uri leaves other values alone', () => {
    expect(normaliseGs1Uri('http://transaction.acme.com/po/12345678')).toBeNull();
    expect(normaliseGs1Uri('urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8')).toBeNull();
    expect(normaliseGs1Uri('urn:epc:id:sgtin:0614141.107346.2017')).toBe('https://id.gs1.org/01/10614141073464/21/2017');
  });
});

describe('canonicalItemKey and companyPrefixOf', () => {
  const urn = 'urn:epc:id:sgtin:9506000.013435.SER%2F1';
  it('names one item whether given as URN or as Digital Link on any host', () => {
    const k = canonicalItemKey(urn);
    expect(k).toBe('https://id.gs1.org/01/09506000134352/21/SER%2F1');
    expect(canonicalItemKey('https://resolver.example.net/01/09506000134352/21/SER%2F1')).toBe(k);
    expect(canonicalItemKey('https://id.gs1.org/gtin/09506000134352/ser/SER%2F1?exp=1')).toBe(k);
    expect(canonicalItemKey('/01/09506000134352/21/SER%2F1')).toBe(k);
  });
  it('validates check digits of Digital Links', () => {
    expect(code(() => canonicalItemKey('https://id.gs1.org/01/09506000134353/21/1'))).toBe('BAD_CHECK_DIGIT');
    expect(code(() => canonicalItemKey('https://id.gs1.org/00/106141412345678909'))).toBe('BAD_CHECK_DIGIT');
    expect(code(() => canonicalItemKey('not an epc'))).toBe('BAD_EPC');
  });
  it('finds the company prefix: explicit in a URN, matched against known prefixes for a Digital Link', () => {
    expect(companyPrefixOf(urn)).toBe('9506000');
    expect(companyPrefixOf('https://id.gs1.org/01/09506000134352/21/1', ['950', '9506000', '4012345'])).toBe('9506000');
    expect(companyPrefixOf('https://id.gs1.org/01/09506000134352/21/1')).toBeUndefined();
    expect(companyPrefixOf('https://id.gs1.org/00/106141412345678908', ['0614141'])).toBe('0614141');
    expect(companyPrefixOf('https://id.gs1.org/414/0614141073467', ['0614141'])).toBe('0614141');
    expect(itemKeyInfo('urn:epc:class:lgtin:4054739.099914.20160711')).toMatchObject({ gtin: '04054739999148', lot: '20160711', companyPrefix: '4054739' });
  });
});

// Random valid keys: company prefix of 6–12 digits, serials over GS1 character set 82.
const digits = (n: number): fc.Arbitrary<string> => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((a) => a.join(''));
const CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".split('');
const serial = fc.array(fc.constantFrom(...CSET82), { minLength: 1, maxLength: 20 }).map((a) => a.join(''));
const urnEscape = (s: string): string => s.replace(/[#"%&/<>?]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

describe('URN ⇄ Digital Link round trip (property)', () => {
  it('SGTIN: URN → DL → URN is the identity, and both forms have one canonical key', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 12 }).chain((n) => fc.tuple(digits(n), digits(13 - n), serial)),
        ([cp, ir, ser]) => {
          const urn = `urn:epc:id:sgtin:${cp}.${ir}.${urnEscape(ser)}`;
          const p = parseEpcUrn(urn);
          expect(p?.serial).toBe(ser);
          const dl = p?.digitalLink as string;
          expect(dl).toBe(`https://id.gs1.org/01/${p?.gtin}/21/${encodeDigitalLinkValue(ser)}`);
          expect(digitalLinkToEpcUrn(dl, { companyPrefixLength: cp.length })).toBe(urn);
          expect(digitalLinkToEpcUrn(dl.replace('https://id.gs1.org', 'https://brand.example.com/x'), { knownPrefixes: [cp] })).toBe(urn);
          expect(canonicalItemKey(dl)).toBe(canonicalItemKey(urn));
          expect(companyPrefixOf(dl, [cp])).toBe(cp);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('SSCC: URN → DL → URN is the identity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 12 }).chain((n) => fc.tuple(digits(n), digits(17 - n))),
        ([cp, ref]) => {
          const urn = `urn:epc:id:sscc:${cp}.${ref}`;
          const dl = parseEpcUrn(urn)?.digitalLink as string;
          expect(dl).toMatch(/^https:\/\/id\.gs1\.org\/00\/\d{18}$/);
          expect(hasValidCheckDigit(dl.slice(-18))).toBe(true);
          expect(digitalLinkToEpcUrn(dl, { companyPrefixLength: cp.length })).toBe(urn);
          expect(canonicalItemKey(dl)).toBe(canonicalItemKey(urn));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('LGTIN and SGLN round trip', () => {
    expect(digitalLinkToEpcUrn('https://id.gs1.org/01/04054739999148/10/20160711', { companyPrefixLength: 7 })).toBe('urn:epc:class:lgtin:4054739.099914.20160711');
    expect(digitalLinkToEpcUrn('https://id.gs1.org/414/0614141073467/254/1234', { companyPrefixLength: 7 })).toBe('urn:epc:id:sgln:0614141.07346.1234');
    expect(digitalLinkToEpcUrn('https://id.gs1.org/414/0614141073467', { companyPrefixLength: 7 })).toBe('urn:epc:id:sgln:0614141.07346.0');
  });

  it('itemKeyInfo answers repeated calls from its memo with equal, independent results; failures are not remembered', () => {
    const urn = 'urn:epc:id:sgtin:0614141.107346.2017';
    const first = itemKeyInfo(urn);
    const second = itemKeyInfo(urn);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    second.key = 'mutated';
    expect(itemKeyInfo(urn).key).toBe(first.key);
    // With known prefixes the answer may differ (company prefix matched): not memoised.
    const dl = first.key;
    expect(itemKeyInfo(dl, ['0614141']).companyPrefix).toBe('0614141');
    expect(itemKeyInfo(dl).companyPrefix).toBeUndefined();
    for (let i = 0; i < 2; i++) expect(() => itemKeyInfo('urn:epc:id:sgtin:bogus')).toThrow();
  });
});
