import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epcisXmlToJson, XmlSyntaxError } from '../../../src/trace/epcis-xml.js';
import { queryDocumentXml, eventToXml } from '../../../src/trace/epcis-xml-write.js';
import { prepareDocument } from '../../../src/trace/document.js';
import type { JsonObject } from '../../../src/trace/index.js';
import { doc, errorOf, objectEvent } from './helpers.js';

const NS2 = 'urn:epcglobal:epcis:xsd:2';

function xmlDoc(events: string, ns = NS2, extraNs = ''): string {
  return `<?xml version="1.0"?><epcis:EPCISDocument xmlns:epcis="${ns}"${extraNs} schemaVersion="2.0" creationDate="2024-01-01T00:00:00Z"><EPCISBody><EventList>${events}</EventList></EPCISBody></epcis:EPCISDocument>`;
}

const OBJECT_EVENT =
  '<ObjectEvent><eventTime>2024-03-01T10:00:00.000+01:00</eventTime><eventTimeZoneOffset>+01:00</eventTimeZoneOffset>' +
  '<epcList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></epcList><action>OBSERVE</action>' +
  '<bizStep>urn:epcglobal:cbv:bizstep:inspecting</bizStep><readPoint><id>urn:epc:id:sgln:0614141.07346.0</id></readPoint></ObjectEvent>';

function syntaxError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof XmlSyntaxError) return e.message;
    throw e;
  }
  throw new Error('expected an XmlSyntaxError');
}

describe('epcisXmlToJson', () => {
  it('maps an XML event to the JSON binding form (bare CBV words), with the same ID as the JSON event', () => {
    const { doc: d } = epcisXmlToJson(xmlDoc(OBJECT_EVENT));
    const events = (d['epcisBody'] as { eventList: JsonObject[] }).eventList;
    expect(events[0]).toEqual(objectEvent());
    expect(prepareDocument(d).eventIds).toEqual(prepareDocument(doc([objectEvent()])).eventIds);
  });

  it('reads EPCIS 1.2: extension and baseExtension wrappers, a TransformationEvent under EventList/extension', () => {
    const v12 =
      '<ObjectEvent><eventTime>2024-03-01T10:00:00.000+01:00</eventTime><eventTimeZoneOffset>+01:00</eventTimeZoneOffset>' +
      '<baseExtension><eventID>urn:uuid:6f1d2b6e-0000-4000-8000-000000000001</eventID></baseExtension>' +
      '<epcList/><action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>' +
      '<extension><quantityList><quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.LOT1</epcClass><quantity>10</quantity><uom>KGM</uom></quantityElement></quantityList></extension></ObjectEvent>' +
      '<extension><TransformationEvent><eventTime>2024-03-01T11:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>' +
      '<inputEPCList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></inputEPCList><outputEPCList><epc>urn:epc:id:sgtin:0614141.107346.2018</epc></outputEPCList></TransformationEvent></extension>';
    const { doc: d, schemaVersion } = epcisXmlToJson(xmlDoc(v12, 'urn:epcglobal:epcis:xsd:1'));
    expect(schemaVersion).toBe('1.x');
    const events = (d['epcisBody'] as { eventList: JsonObject[] }).eventList;
    expect(events.map((e) => e['type'])).toEqual(['ObjectEvent', 'TransformationEvent']);
    expect(events[0]?.['eventID']).toBe('urn:uuid:6f1d2b6e-0000-4000-8000-000000000001');
    expect(events[0]?.['quantityList']).toEqual([{ epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT1', quantity: 10, uom: 'KGM' }]);
  });

  it('maps user extensions to prefixed members declared in @context; a prefix that values use is renamed', () => {
    const ev = OBJECT_EVENT.replace(
      '</ObjectEvent>',
      '<ex:note xmlns:ex="https://ns.example.com/epcis/">ex:not-a-curie</ex:note><ex:obj xmlns:ex="https://ns.example.com/epcis/" ex:unit="KGM"><ex:a>1</ex:a><ex:a>2</ex:a></ex:obj></ObjectEvent>',
    );
    const { doc: d } = epcisXmlToJson(xmlDoc(ev));
    const ctx = (d['@context'] as unknown[])[1] as Record<string, string>;
    expect(Object.values(ctx)).toEqual(['https://ns.example.com/epcis/']);
    const p = Object.keys(ctx)[0] as string;
    expect(p).not.toBe('ex');
    const e = (d['epcisBody'] as { eventList: JsonObject[] }).eventList[0] as JsonObject;
    expect(e[`${p}:note`]).toBe('ex:not-a-curie');
    expect(e[`${p}:obj`]).toEqual({ [`${p}:unit`]: 'KGM', [`${p}:a`]: ['1', '2'] });
  });

  it('decodes the predefined entities, character references and CDATA; refuses other entities', () => {
    const ev = OBJECT_EVENT.replace(
      '</ObjectEvent>',
      '<ex:a xmlns:ex="https://ns.example.com/epcis/" ex:q="&quot;x&quot; &#x41;">1 &lt; 2 &amp;&amp; &#233;</ex:a><ex:b xmlns:ex="https://ns.example.com/epcis/"><![CDATA[a &amp; <b>]]></ex:b></ObjectEvent>',
    );
    const e = (epcisXmlToJson(xmlDoc(ev)).doc['epcisBody'] as { eventList: JsonObject[] }).eventList[0] as JsonObject;
    expect(e['ex:a']).toEqual({ 'ex:q': '"x" A', '#text': '1 < 2 && é' });
    expect(e['ex:b']).toBe('a &amp; <b>');
    expect(syntaxError(() => epcisXmlToJson(xmlDoc(OBJECT_EVENT.replace('OBSERVE', '&nbsp;OBSERVE'))))).toMatch(/unknown entity &nbsp;/);
  });

  it('refuses XML that is not well-formed, with line and column', () => {
    expect(syntaxError(() => epcisXmlToJson(xmlDoc(OBJECT_EVENT).replace('</action>', '</actionx>')))).toMatch(/line 1, column \d+/);
  });

  it('refuses nesting deeper than the parser allows as a syntax error, not a failure of the node', () => {
    const deep = OBJECT_EVENT.replace('</ObjectEvent>', `<ex:a xmlns:ex="https://ns.example.com/epcis/">${'<ex:a>'.repeat(200)}x${'</ex:a>'.repeat(200)}</ex:a></ObjectEvent>`);
    expect(syntaxError(() => epcisXmlToJson(xmlDoc(deep)))).toMatch(/nest/i);
  });

  it('refuses a DOCTYPE with an internal subset (no entity expansion)', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + xmlDoc(OBJECT_EVENT).slice('<?xml version="1.0"?>'.length);
    expect(syntaxError(() => epcisXmlToJson(bomb))).toMatch(/DOCTYPE/);
  });

  it('refuses an undeclared namespace prefix', () => {
    expect(syntaxError(() => epcisXmlToJson(xmlDoc(OBJECT_EVENT.replace('</ObjectEvent>', '<ex:x>1</ex:x></ObjectEvent>'))))).toMatch(/prefix "ex" is not declared/);
  });

  it('refuses another root element (BAD_DOCUMENT)', () => {
    const e = errorOf(() => epcisXmlToJson('<epcis:EPCISMasterDataDocument xmlns:epcis="urn:epcglobal:epcis-masterdata:xsd:2"/>'));
    expect(e.code).toBe('BAD_DOCUMENT');
  });

  it('lists every unexpected element, bad quantity and bad sensor value at once (BAD_DOCUMENT)', () => {
    const ev = OBJECT_EVENT.replace(
      '</ObjectEvent>',
      '<colour>red</colour><quantityList><quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.L</epcClass><quantity>many</quantity></quantityElement></quantityList>' +
        '<sensorElementList><sensorElement><sensorReport type="gs1:Temperature" value="hot" booleanValue="yes"/></sensorElement></sensorElementList></ObjectEvent>',
    );
    const e = errorOf(() => epcisXmlToJson(xmlDoc(ev)));
    expect(e.code).toBe('BAD_DOCUMENT');
    expect(e.problems.map((p) => p.message)).toEqual([
      'colour is not a field of ObjectEvent',
      'quantity must be a decimal number, got "many"',
      'must be a number, got "hot"',
      'must be true or false, got "yes"',
    ]);
  });

  it('refuses a QuantityEvent (EPCIS 1.x) naming what to send instead', () => {
    const e = errorOf(() => epcisXmlToJson(xmlDoc('<QuantityEvent><eventTime>2024-01-01T00:00:00Z</eventTime></QuantityEvent>')));
    expect(e.problems[0]?.message).toMatch(/ObjectEvent with a quantityList/);
  });

  it('a given field twice is a problem, not a silent overwrite', () => {
    const e = errorOf(() => epcisXmlToJson(xmlDoc(OBJECT_EVENT.replace('<action>OBSERVE</action>', '<action>OBSERVE</action><action>ADD</action>'))));
    expect(e.problems[0]?.message).toBe('action given twice');
  });
});

// Not well-formed XML, each refused in the one pass (saxes' checks, and the reader's own) as an
// XmlSyntaxError (400 BAD_XML) that says what is wrong, with line and column.
describe('epcisXmlToJson: well-formedness', () => {
  const good = xmlDoc(OBJECT_EVENT);
  const refused: [string, string, RegExp][] = [
    ['a mismatched end tag', good.replace('</action>', '</actionx>'), /^mismatched tags: <\/actionx> where <\/action> was expected \(line 1, column \d+\)$/],
    ['an element left open inside another', good.replace('</EPCISBody>', ''), /^mismatched tags: <\/epcis:EPCISDocument> where <\/EPCISBody> was expected/],
    ['an unclosed root', good.replace('</epcis:EPCISDocument>', ''), /^unclosed tag: epcis:EPCISDocument/],
    ['text after the root', `${good}\njunk`, /^text data outside of root node\. \(line 2, column \d+\)$/],
    ['a second root element', `${good}<x/>`, /^documents may contain only one root/],
    ['no root element', '<?xml version="1.0"?>', /^document must contain a root element/],
    ['a duplicate attribute', good.replace('schemaVersion="2.0"', 'schemaVersion="2.0" schemaVersion="2.0"'), /^duplicate attribute: schemaVersion\./],
    ['one attribute twice under two prefixes of its namespace', good.replace('<action>', '<action xmlns:a="urn:x" xmlns:b="urn:x" a:q="1" b:q="2">'), /^duplicate attribute: \{urn:x\}q\./],
    ['an unquoted attribute value', good.replace('schemaVersion="2.0"', 'schemaVersion=2.0'), /^unquoted attribute value\./],
    ['an attribute without a value', good.replace('schemaVersion="2.0"', 'schemaVersion'), /^attribute without value\./],
    ['attributes without whitespace between them', good.replace('schemaVersion="2.0" ', 'schemaVersion="2.0"'), /^no whitespace between attributes\./],
    ['"<" in an attribute value', good.replace('schemaVersion="2.0"', 'schemaVersion="<2"'), /^disallowed character: "<" \(U\+003C\)/],
    ['a bare "&"', xmlDoc(OBJECT_EVENT.replace('OBSERVE', 'A & B')), /is the "&" at line 1, column \d+ meant as &amp;\?/],
    ['a character reference to no XML character', xmlDoc(OBJECT_EVENT.replace('OBSERVE', '&#0;OBSERVE')), /^unknown entity &#0;/],
    ['a control character', xmlDoc(OBJECT_EVENT.replace('OBSERVE', 'OB\u0001SERVE')), /^disallowed character: "\\u0001" \(U\+0001\)/],
    ['"]]>" in text', xmlDoc(OBJECT_EVENT.replace('OBSERVE', 'OB]]>SERVE')), /"\]\]>" is disallowed in char data/],
    ['a name with two colons', xmlDoc(OBJECT_EVENT.replace('<action>OBSERVE</action>', '<a:b:c xmlns:a="urn:x"/>')), /^malformed name: a:b:c\./],
    ['a DOCTYPE internal subset after a quoted ">"', `<?xml version="1.0"?><!DOCTYPE d SYSTEM "a>b" [<!ENTITY e "x">]>${good.slice('<?xml version="1.0"?>'.length)}`, /DOCTYPE with an internal subset/],
  ];
  for (const [what, text, message] of refused) {
    it(`refuses ${what}`, () => {
      const m = syntaxError(() => epcisXmlToJson(text));
      expect(m).toMatch(message);
      expect(m).toMatch(/\(line \d+, column \d+\)$/);
    });
  }

  it('gives the line and column where the error is', () => {
    const text = good.replace('<EPCISBody>', '\n<EPCISBody>\n').replace('</action>', '\n   </actionx>');
    expect(syntaxError(() => epcisXmlToJson(text))).toMatch(/\(line 4, column 13\)$/);
  });

  it('takes what is well-formed around the root: comments, processing instructions, whitespace, a DOCTYPE without a subset, CDATA', () => {
    const text = `<?xml version="1.0"?>\r\n<!-- a & b --><!DOCTYPE epcis:EPCISDocument>${good.slice('<?xml version="1.0"?>'.length).replace('OBSERVE', '<![CDATA[OBSERVE]]>')}\n<!-- end --><?done?>\n`;
    const e = (epcisXmlToJson(text).doc['epcisBody'] as { eventList: JsonObject[] }).eventList[0] as JsonObject;
    expect(e['action']).toBe('OBSERVE');
  });

  it('a problem names its element by path, with its index among siblings of its name', () => {
    const e = errorOf(() => epcisXmlToJson(xmlDoc(OBJECT_EVENT + OBJECT_EVENT.replace('</ObjectEvent>', '<colour>red</colour></ObjectEvent>'))));
    expect(e.problems.map((p) => p.path)).toEqual(['/epcis:EPCISDocument/EPCISBody/EventList/ObjectEvent[2]/colour']);
  });
});

// Large documents: work in proportion to their size (a quadratic step would time the test out).
describe('epcisXmlToJson: large documents', () => {
  it('lists each of 50,000 unexpected elements, with the index of each in its path', () => {
    const e = errorOf(() => epcisXmlToJson(xmlDoc('<x/>'.repeat(50_000))));
    expect(e.problems).toHaveLength(50_000);
    expect(e.problems[49_999]?.path).toBe('/epcis:EPCISDocument/EPCISBody/EventList/x[50000]');
  });

  it('reads a start tag with 50,000 attributes, and refuses one of them given twice', () => {
    const attrs = Array.from({ length: 50_000 }, (_, i) => ` a${i}="x"`).join('');
    expect(epcisXmlToJson(xmlDoc(OBJECT_EVENT, NS2, attrs)).doc['type']).toBe('EPCISDocument');
    expect(syntaxError(() => epcisXmlToJson(xmlDoc(OBJECT_EVENT, NS2, `${attrs} a7="y"`)))).toMatch(/duplicate attribute: a7/);
  });

  it('flattens a 1.2 extension wrapper holding 200,000 events (more than a call takes as arguments)', () => {
    const { doc: d } = epcisXmlToJson(xmlDoc(`<extension>${'<ObjectEvent/>'.repeat(200_000)}</extension>`, 'urn:epcglobal:epcis:xsd:1'));
    expect((d['epcisBody'] as { eventList: JsonObject[] }).eventList).toHaveLength(200_000);
  });
});

// Random events, captured as JSON, answered as XML, read back: the same stored events and IDs.
const sgtin = fc.tuple(fc.integer({ min: 1, max: 999_999 }), fc.stringMatching(/^[A-Za-z0-9]{1,8}$/)).map(([s, ser]) => `urn:epc:id:sgtin:0614141.${String(s).padStart(6, '0')}.${ser}`);
const eventArb: fc.Arbitrary<JsonObject> = fc
  .record({
    type: fc.constantFrom('ObjectEvent', 'AggregationEvent', 'TransformationEvent'),
    epcs: fc.array(sgtin, { minLength: 1, maxLength: 4 }),
    bizStep: fc.constantFrom('shipping', 'receiving', 'inspecting', 'urn:example:step:custom'),
    disposition: fc.option(fc.constantFrom('in_transit', 'in_progress', 'active'), { nil: undefined }),
    quantity: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }).map((x) => Math.round(x * 100) / 100), { nil: undefined }),
    btt: fc.option(fc.constantFrom('po', 'desadv', 'inv'), { nil: undefined }),
    temp: fc.option(fc.integer({ min: -40, max: 60 }), { nil: undefined }),
    flag: fc.option(fc.boolean(), { nil: undefined }),
    // XML text is trimmed (indentation), as the hash trims it: no leading or trailing space here.
    ext: fc.option(fc.stringMatching(/^[A-Za-z0-9<>&"'](?:[A-Za-z0-9 <>&"']{0,10}[A-Za-z0-9<>&"'])?$/), { nil: undefined }),
    millis: fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }),
  })
  .map((r) => {
    const e: JsonObject = { type: r.type, eventTime: new Date(r.millis).toISOString(), eventTimeZoneOffset: '+00:00' };
    const qty = r.quantity === undefined ? undefined : [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.LOT1', quantity: r.quantity, uom: 'KGM' }];
    if (r.type === 'ObjectEvent') {
      e['epcList'] = r.epcs;
      e['action'] = 'OBSERVE';
      if (qty) e['quantityList'] = qty;
    } else if (r.type === 'AggregationEvent') {
      e['parentID'] = 'urn:epc:id:sscc:0614141.1234567890';
      e['childEPCs'] = r.epcs;
      e['action'] = 'ADD';
      if (qty) e['childQuantityList'] = qty;
    } else {
      e['inputEPCList'] = r.epcs;
      e['outputEPCList'] = ['urn:epc:id:sgtin:0614141.107346.OUT'];
      if (qty) e['outputQuantityList'] = qty;
    }
    e['bizStep'] = r.bizStep;
    if (r.disposition !== undefined) e['disposition'] = r.disposition;
    e['readPoint'] = { id: 'urn:epc:id:sgln:0614141.07346.0' };
    if (r.btt !== undefined) e['bizTransactionList'] = [{ type: r.btt, bizTransaction: 'urn:epcglobal:cbv:bt:0614141073467:1152' }];
    if (r.temp !== undefined || r.flag !== undefined) {
      const report: JsonObject = { type: 'Temperature' };
      if (r.temp !== undefined) Object.assign(report, { value: r.temp, uom: 'CEL' });
      if (r.flag !== undefined) report['booleanValue'] = r.flag;
      e['sensorElementList'] = [{ sensorReport: [report] }];
    }
    if (r.ext !== undefined) e['example:note'] = r.ext;
    return e;
  });

describe('XML answers read back', () => {
  it('a JSON capture answered as XML and read back gives the same stored events and IDs (property)', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 4 }), (events) => {
        let prepared: ReturnType<typeof prepareDocument>;
        try {
          prepared = prepareDocument(doc(events, { example: 'https://ns.example.com/epcis/' }));
        } catch {
          return; // the same event twice: not a capture
        }
        const xml = queryDocumentXml(prepared.events, '2024-01-01T00:00:00Z');
        const back = prepareDocument(epcisXmlToJson(xml).doc, { allowQueryDocument: true });
        expect(back.eventIds).toEqual(prepared.eventIds);
        expect(back.events).toEqual(prepared.events);
      }),
      { numRuns: 150 },
    );
  });

  it('writes the base fields before the type fields and extensions last (XSD order)', () => {
    const xml = eventToXml({ ...objectEvent({ 'example:note': 'x' }), '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }], eventID: 'urn:uuid:1' });
    expect(xml.indexOf('<eventID>')).toBeLessThan(xml.indexOf('<epcList>'));
    expect(xml.indexOf('<action>')).toBeLessThan(xml.indexOf('<bizStep>'));
    expect(xml.indexOf('<example:note>')).toBeGreaterThan(xml.indexOf('<readPoint>'));
    expect(xml).toContain('<bizStep>https://ref.gs1.org/cbv/BizStep-inspecting</bizStep>');
    expect(xml).toContain('xmlns:example="https://ns.example.com/epcis/"');
  });
});
