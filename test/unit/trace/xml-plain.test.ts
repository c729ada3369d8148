/**
 * The plain-XML reader (trace/xml-plain.ts) against saxes (trace/xml-saxes.ts): whatever it reads,
 * saxes reads too, to the same tree; what it does not read (not plain, or not well-formed) it
 * leaves to saxes, and it never reads a text that saxes refuses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epcisDocumentXml } from '../../../src/trace/epcis-xml-write.js';
import { XmlSyntaxError, type XmlTree, type XNode } from '../../../src/trace/xml-node.js';
import { readPlainXml } from '../../../src/trace/xml-plain.js';
import { readXmlWithSaxes } from '../../../src/trace/xml-saxes.js';
import { objectEvent } from './helpers.js';

const VECTORS = fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));

interface Shape {
  name: string;
  ns: string;
  prefix: string;
  local: string;
  attrs: { name: string; prefix: string; local: string; uri: string; value: string }[];
  text: string;
  children: Shape[];
}

/** The tree without its parent links (each checked on the way), to compare two trees. */
function shape(n: XNode, parent?: XNode): Shape {
  expect(n.parent).toBe(parent);
  return {
    name: n.qname,
    ns: n.ns,
    prefix: n.prefix,
    local: n.local,
    attrs: n.attrs.map((a) => ({ name: a.name, prefix: a.prefix, local: a.local, uri: a.uri, value: a.value })),
    text: n.text,
    children: n.children.map((c) => shape(c, n)),
  };
}

function treeShape(t: XmlTree): { root: Shape; valuePrefixes: string[] } {
  return { root: shape(t.root), valuePrefixes: [...t.valuePrefixes].sort() };
}

/** saxes' tree, or 'refused' (an XmlSyntaxError). */
function bySaxes(text: string): XmlTree | 'refused' {
  try {
    return readXmlWithSaxes(text);
  } catch (err) {
    if (err instanceof XmlSyntaxError) return 'refused';
    throw err;
  }
}

/** The contract: undefined, or the tree saxes reads (and then saxes does not refuse the text). */
function agrees(text: string): 'plain' | 'left to saxes' {
  const plain = readPlainXml(text);
  if (plain === undefined) return 'left to saxes';
  const strict = bySaxes(text);
  expect(strict, `the plain reader read a text saxes refuses: ${JSON.stringify(text)}`).not.toBe('refused');
  expect(treeShape(plain)).toEqual(treeShape(strict as XmlTree));
  return 'plain';
}

const vectorFiles = ['epcis-event-hash', 'gs1-epcis-examples-xml'].flatMap((d) =>
  readdirSync(join(VECTORS, d))
    .filter((f) => f.endsWith('.xml'))
    .map((f) => join(VECTORS, d, f)),
);

describe('plain XML reader', () => {
  it('reads every XML vector and GS1 example (as written, with CR LF line ends, indented) to the tree saxes reads', () => {
    expect(vectorFiles.length).toBeGreaterThanOrEqual(50);
    for (const file of vectorFiles) {
      const written = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
      for (const text of [written, written.replace(/\r?\n/g, '\r\n'), written.replace(/></g, '>\n\t<')]) expect(agrees(text), file).toBe('plain');
    }
  });

  it("reads the node's own XML (the capture benchmark's documents)", () => {
    const events = [objectEvent(), objectEvent({ 'example:note': 'a < b & "c"' }), objectEvent({ ilmd: { 'cbvmda:lotNumber': 'LOT1' }, action: 'ADD' })];
    expect(agrees(epcisDocumentXml(events, '2024-01-01T00:00:00Z'))).toBe('plain');
  });

  it('leaves to saxes what is not plain, and saxes reads it', () => {
    const doc = (inner: string, decl = ''): string => `<?xml version="1.0"?>${decl}<r xmlns:a="urn:a">${inner}</r>`;
    const notPlain = [
      doc('<![CDATA[x]]>'),
      doc('<?pi x?>'),
      doc('', '<!DOCTYPE r SYSTEM "r.dtd">'),
      doc('<x v="a\tb"/>'),
      doc('<x v="a\nb"/>'),
      doc('<é/>'),
      doc('<x xmlns=""/>'),
      doc('<x xmlns:xml="http://www.w3.org/XML/1998/namespace"/>'),
      doc('&#00000065;'),
      '<?xml version="1.1"?><r/>',
    ];
    const results = notPlain.map((t) => [agrees(t), bySaxes(t) === 'refused' ? 'refused' : 'read']);
    expect(results).toEqual([
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
      ['left to saxes', 'read'],
    ]);
  });

  it('reads no text that is not well-formed', () => {
    const good = '<?xml version="1.0"?><r xmlns:a="urn:a" v="1"><a:x a:v="2">t &amp; u</a:x><!-- c --></r>';
    expect(agrees(good)).toBe('plain');
    expect(agrees(good.replace('<r ', '<!-- c --><!DOCTYPE r>\n<r '))).toBe('plain');
    const bad = [
      good.replace('</a:x>', '</a:y>'),
      good.replace('</r>', ''),
      `${good}junk`,
      `${good}<r/>`,
      good.replace('v="1"', 'v="1" v="2"'),
      good.replace('v="1"', 'v="1" xmlns:b="urn:a" b:v="3" a:v="4"'),
      good.replace('v="1"', 'v=1'),
      good.replace('v="1"', 'v'),
      good.replace('v="1">', 'v="1"w="2">'),
      good.replace('v="1"', 'v="<"'),
      good.replace('&amp;', '&'),
      good.replace('&amp;', '&nbsp;'),
      good.replace('&amp;', '&#0;'),
      good.replace('t &amp; u', 't ]]> u'),
      good.replace('<!-- c -->', '<!-- c -- d -->'),
      good.replace('<!-- c -->', '<!-- c --->'),
      good.replace('a:x a:v', 'z:x a:v'),
      good.replace('a:x a:v', 'a:x z:v'),
      good.replace('<a:x', '<a:x:y').replace('</a:x>', '</a:x:y>'),
      good.replace('t &amp;', 't \u0001'),
      ` ${good}`,
      good.replace('<r ', '<!DOCTYPE r><!DOCTYPE r><r '),
      good.replace('<!-- c -->', '<!DOCTYPE r>'),
      `${good}<!DOCTYPE r>`,
      '',
    ];
    for (const text of bad) {
      expect(bySaxes(text), text).toBe('refused');
      expect(readPlainXml(text), text).toBeUndefined();
    }
  });

  // Random plain documents (prefixes declared on the root or redeclared inside, attributes in
  // either quote, references of every kind, comments, white space, CR LF), then the same with
  // random damage: the plain reader reads every undamaged one, and agrees with saxes on all.
  const local = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9._-]{0,5}$/);
  // Mostly declared prefixes; sometimes `xml` (always bound) or `z` (never declared: refused).
  const prefix = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('', '', 'a', 'b') }, { weight: 1, arbitrary: fc.constantFrom('xml', 'z') });
  const chars = fc.stringMatching(/^[A-Za-z0-9 <>&"':#;-]{0,10}$/);
  const space = fc.constantFrom('', ' ', '\n', '\t ', '\r\n  ');
  const escaped = (s: string, quote: string, style: number): string =>
    s.replace(/[&<>"']/g, (c) => {
      if (c === '"' || c === "'") return c === quote ? (style % 2 === 0 ? (c === '"' ? '&quot;' : '&apos;') : `&#${c.charCodeAt(0)};`) : c;
      if (style % 3 === 0) return `&#x${c.charCodeAt(0).toString(16)};`;
      return c === '&' ? '&amp;' : c === '<' ? '&lt;' : style % 2 === 0 ? '&gt;' : '>';
    });
  interface Gen {
    prefix: string;
    local: string;
    decl: [string, string] | undefined;
    attrs: [string, string, string][];
    content: (Gen | string)[];
  }
  const { element } = fc.letrec<{ element: Gen }>((tie) => ({
    element: fc.record({
      prefix,
      local,
      decl: fc.option(fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('urn:a', 'urn:b', 'urn:c')), { nil: undefined }),
      attrs: fc.array(fc.tuple(prefix, fc.oneof(local, fc.constantFrom('q', 'v')), chars), { maxLength: 3 }),
      content: fc.array(fc.oneof({ weight: 2, arbitrary: chars }, { weight: 1, arbitrary: tie('element') }), { maxLength: 4 }),
    }),
  }));
  const serialise = (g: Gen, style: number, ws: string): string => {
    const name = g.prefix === '' ? g.local : `${g.prefix}:${g.local}`;
    const quote = style % 2 === 0 ? '"' : "'";
    const decl = g.decl === undefined ? '' : ` xmlns:${g.decl[0]}=${quote}${g.decl[1]}${quote}`;
    const attrs = g.attrs.map(([p, l, v]) => ` ${p === '' ? l : `${p}:${l}`}${ws}=${quote}${escaped(v, quote, style)}${quote}`).join('');
    const content = g.content.map((c) => (typeof c === 'string' ? escaped(c, '', style) : serialise(c, style + 1, ws))).join(style % 5 === 0 ? `${ws}<!-- - -->` : ws);
    return content === '' && style % 2 === 0 ? `<${name}${decl}${attrs}${ws}/>` : `<${name}${decl}${attrs}${ws}>${content}</${name}${ws}>`;
  };
  const documents = fc.tuple(element, fc.nat(30), space, fc.boolean()).map(([root, style, ws, declaration]) => {
    const body = serialise({ ...root, decl: undefined }, style, ws).replace(/^(<[^\s/>]+)/, `$1 xmlns:a="urn:a" xmlns:b="urn:b"${style % 4 === 0 ? ' xmlns="urn:d"' : ''}`);
    return `${declaration ? `<?xml version="1.0" encoding="UTF-8"?>${ws}` : ''}${body}${ws}`;
  });
  const damage = fc.array(
    fc.tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.oneof(
        fc.constantFrom('<', '>', '&', '"', "'", '=', '/', ' ', '\t', '\n', '\r', ':', '-', ']]>', '<!--', '--', '&#0;', '&#x41;', '&lt;', '&bogus;', '<?p?>', ' xmlns:z="urn:z"', ' a:q="1"', ' q="1" q="2"', '\u0001', '\uD800', 'é', '<x>', '</x>', '<x/>', '<!DOCTYPE x>'),
        fc.constant(''),
      ),
    ),
    { minLength: 1, maxLength: 2 },
  );

  it('reads every random plain document to the tree saxes reads (property)', () => {
    fc.assert(
      fc.property(documents, (text) => {
        // Duplicate attributes (by name, or by prefixes bound to one namespace) are not well-formed:
        // saxes refuses those, and the plain reader must too.
        if (bySaxes(text) === 'refused') expect(readPlainXml(text)).toBeUndefined();
        else expect(agrees(text)).toBe('plain');
      }),
      { numRuns: 400 },
    );
  });

  it('never reads a damaged document that saxes refuses, and reads the rest as saxes does (property)', () => {
    fc.assert(
      fc.property(documents, damage, (text, cuts) => {
        let damaged = text;
        for (const [where, insert] of cuts) {
          const at = Math.floor(where * damaged.length);
          damaged = insert === '' ? damaged.slice(0, at) + damaged.slice(at + 1) : damaged.slice(0, at) + insert + damaged.slice(at);
        }
        agrees(damaged);
      }),
      { numRuns: 1500 },
    );
  });
});
