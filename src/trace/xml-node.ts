/**
 * The element tree that the EPCIS XML mapping (epcis-xml.ts) walks, as both XML readers build it:
 * xml-plain.ts (the plain XML that producers write, read without a general parser) and
 * xml-saxes.ts (any XML, with saxes). Both build it with `element()` and note the prefixes values
 * start with through `notePrefix()`, so a text either reads gives one tree.
 */

/** An attribute: `uri` its namespace ('' for none), `prefix` as written. */
export interface XAttr {
  /** The name as written (`prefix:local`). */
  name: string;
  prefix: string;
  local: string;
  value: string;
  uri: string;
}

/** A parsed element with resolved namespace. */
export interface XNode {
  /** Namespace URI ('' for none). */
  ns: string;
  /** Local name. */
  local: string;
  /** The prefix it was written with ('' for none). */
  prefix: string;
  /** The name as written (`prefix:local`), for paths. */
  qname: string;
  /** Its attributes, namespace declarations left out. */
  attrs: readonly XAttr[];
  children: XNode[];
  /** Its text and CDATA, each run of text between two tags trimmed (indentation). */
  text: string;
  /** The element it is in (none for the root): its path is built from these, when reported. */
  parent: XNode | undefined;
}

/** A document's tree. */
export interface XmlTree {
  root: XNode;
  /** Prefixes that its text and attribute values start with (`example:x`, `gs1:MT-Speed`). */
  valuePrefixes: Set<string>;
}

/** Well-formedness problem, with line and column. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** Deepest element nesting read (an EPCIS document needs about 10); deeper is a syntax error. */
export const MAX_XML_DEPTH = 100;

/** The attributes of an element without any (most of them): one shared empty list. */
export const NO_ATTRIBUTES: readonly XAttr[] = Object.freeze([]);

/** A new element, added to its parent's children. */
export function element(ns: string, prefix: string, local: string, qname: string, attrs: readonly XAttr[], parent: XNode | undefined): XNode {
  const node: XNode = { ns, local, prefix, qname, attrs, children: [], text: '', parent };
  if (parent !== undefined) parent.children.push(node);
  return node;
}

/** `[A-Za-z_]`: what a value's prefix starts with (`[A-Za-z_][A-Za-z0-9_.-]*`). */
function isPrefixStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** Notes the prefix a value starts with, as `example` of `example:x` (a name, then a colon). */
export function notePrefix(into: Set<string>, value: string): void {
  if (!isPrefixStart(value.charCodeAt(0))) return;
  for (let i = 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x3a) {
      into.add(value.slice(0, i));
      return;
    }
    if (!isPrefixStart(c) && !(c >= 0x30 && c <= 0x39) && c !== 0x2e && c !== 0x2d) return;
  }
}

/** Each reported element's step in its path (`name` or `name[i]`), by parent: counted once per parent. */
const steps = new WeakMap<XNode, Map<XNode, string>>();

/** The element's step in its path: its name, and its index when its parent has more than one of that name. */
function stepOf(n: XNode, parent: XNode): string {
  let known = steps.get(parent);
  if (known === undefined) {
    const total = new Map<string, number>();
    for (const c of parent.children) total.set(c.qname, (total.get(c.qname) ?? 0) + 1);
    const seen = new Map<string, number>();
    known = new Map();
    for (const c of parent.children) {
      const i = (seen.get(c.qname) ?? 0) + 1;
      seen.set(c.qname, i);
      known.set(c, (total.get(c.qname) ?? 0) > 1 ? `${c.qname}[${i}]` : c.qname);
    }
    steps.set(parent, known);
  }
  return known.get(n) ?? n.qname;
}

/**
 * The element's path for messages, `/a/b/c[2]` (the index when its parent has more than one
 * element of its name). Built only when a problem is reported (however many: the siblings of a
 * parent are counted once).
 */
export function pathOf(n: XNode): string {
  return n.parent === undefined ? `/${n.qname}` : `${pathOf(n.parent)}/${stepOf(n, n.parent)}`;
}
