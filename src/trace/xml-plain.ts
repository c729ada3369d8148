/**
 * Plain XML → the element tree (xml-node.ts), without a general parser: the fast path of the XML
 * capture. Plain XML is what EPCIS producers (and this node's answers) write: an optional
 * `<?xml version="1.0" …?>` declaration and `<!DOCTYPE name>`, then elements, attributes, text
 * and comments, with ASCII names, the predefined entities and character references; no DOCTYPE
 * with more in it, no processing instruction or CDATA section, no tab or line break inside an
 * attribute value. Line breaks are normalised first, as XML does (CR LF and CR → LF).
 *
 * It scans the text once, following the XML 1.0 grammar (restricted as above), and checks every
 * well-formedness and namespace rule that can apply to such a text. On anything else, and on any
 * error, it gives up (undefined) and the caller reads the text with saxes (xml-saxes.ts), which
 * takes any XML or names the error with its line and column. So it never decides that a text is
 * not well-formed, and for a text it reads it builds the tree saxes builds
 * (test/unit/trace/xml-plain.test.ts checks both against saxes, on random and damaged texts).
 */
import { element, MAX_XML_DEPTH, NO_ATTRIBUTES, notePrefix, XML_NS, XMLNS_NS, type XAttr, type XmlTree, type XNode } from './xml-node.js';

/** XML's white space (`\s` would take more). */
const S = '[ \\t\\n]';
/** What plain XML never holds: a character outside XML's Char (line breaks normalised: no CR). */
const NOT_PLAIN = /[^\t\n\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const XML_DECLARATION = new RegExp(
  `<\\?xml${S}+version${S}*=${S}*(?:"1\\.0"|'1\\.0')(?:${S}+encoding${S}*=${S}*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:${S}+standalone${S}*=${S}*(?:"(?:yes|no)"|'(?:yes|no)'))?${S}*\\?>`,
  'y',
);
/** A DOCTYPE naming the root element, and nothing more (no external ID, no internal subset). */
const DOCTYPE = new RegExp(`<!DOCTYPE${S}+(?:[A-Za-z_][A-Za-z0-9._-]*:)?[A-Za-z_][A-Za-z0-9._-]*${S}*>`, 'y');
const BLANK = new RegExp(`^${S}*$`);
/** A reference: a predefined entity (group 1), a decimal (2) or hexadecimal (3) character reference. */
const REFERENCE = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/y;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** The prefixes in scope at the root: `xml` only. */
const ROOT_SCOPE: ReadonlyMap<string, string> = new Map([['xml', XML_NS]]);

/** `[A-Za-z_]`: the first character of a name. */
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** `[A-Za-z0-9._-]`: the other characters of a name (and `:` once, between two names). */
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09;
}

/** XML's Char: the code points a character reference may name. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Text or an attribute value with its references decoded; undefined when an `&` starts no
 * reference read here (an unknown entity, a malformed reference) or one names no XML character.
 */
function decode(raw: string): string | undefined {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let out = '';
  let done = 0;
  while (amp >= 0) {
    REFERENCE.lastIndex = amp;
    const m = REFERENCE.exec(raw);
    if (m === null) return undefined;
    const [, named, dec, hex] = m;
    let char: string;
    if (named !== undefined) {
      char = PREDEFINED[named] as string;
    } else {
      const cp = dec !== undefined ? Number(dec) : parseInt(hex as string, 16);
      if (!isXmlChar(cp)) return undefined;
      char = String.fromCodePoint(cp);
    }
    out += raw.slice(done, amp) + char;
    done = REFERENCE.lastIndex;
    amp = raw.indexOf('&', done);
  }
  return out + raw.slice(done);
}

function splitName(qname: string): [prefix: string, local: string] {
  const colon = qname.indexOf(':');
  return colon < 0 ? ['', qname] : [qname.slice(0, colon), qname.slice(colon + 1)];
}

/** One pass over a plain XML text (line breaks normalised), building its tree. */
class PlainReader {
  private pos = 0;
  private readonly valuePrefixes = new Set<string>();
  /** The elements open, innermost last. */
  private readonly open: XNode[] = [];
  /** The prefixes in scope outside each open element (restored at its end tag). */
  private readonly outerScopes: ReadonlyMap<string, string>[] = [];
  private scope = ROOT_SCOPE;
  private root: XNode | undefined;
  private doctype = false;

  constructor(private readonly text: string) {}

  /** The tree; undefined at the first thing that is not plain or not well-formed. */
  read(): XmlTree | undefined {
    const { text } = this;
    if (text.startsWith('<?xml')) {
      XML_DECLARATION.lastIndex = 0;
      if (!XML_DECLARATION.test(text)) return undefined;
      this.pos = XML_DECLARATION.lastIndex;
    }
    while (this.pos < text.length) {
      const lt = text.indexOf('<', this.pos);
      const end = lt < 0 ? text.length : lt;
      if (end > this.pos && !this.textRun(text.slice(this.pos, end))) return undefined;
      if (lt < 0) break;
      const next = text.charCodeAt(lt + 1);
      const read = next === 0x2f /* / */ ? this.endTag(lt) : next === 0x21 /* ! */ ? this.commentOrDoctype(lt) : this.startTag(lt);
      if (!read) return undefined;
    }
    if (this.root === undefined || this.open.length > 0) return undefined;
    return { root: this.root, valuePrefixes: this.valuePrefixes };
  }

  /** Text up to the next `<`: inside the root, its references decoded and trimmed; around it, only white space. */
  private textRun(raw: string): boolean {
    const top = this.open[this.open.length - 1];
    if (top === undefined) return BLANK.test(raw);
    if (raw.includes(']]>')) return false;
    const decoded = decode(raw);
    if (decoded === undefined) return false;
    const trimmed = decoded.trim();
    if (trimmed !== '') top.text += trimmed;
    return true;
  }

  /** The name at the position (ASCII, at most one colon, between two names); '' when none starts there. */
  private name(): string {
    const { text } = this;
    const start = this.pos;
    if (!isNameStart(text.charCodeAt(start))) return '';
    let i = start + 1;
    let colon = false;
    for (;;) {
      const c = text.charCodeAt(i);
      if (isNameChar(c)) {
        i++;
      } else if (c === 0x3a && !colon && isNameStart(text.charCodeAt(i + 1))) {
        colon = true;
        i += 2;
      } else {
        break;
      }
    }
    this.pos = i;
    return text.slice(start, i);
  }

  /** Skips white space; whether there was any. */
  private space(): boolean {
    const start = this.pos;
    while (isSpace(this.text.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  /** `</name S?>` closing the innermost open element. */
  private endTag(lt: number): boolean {
    const closed = this.open.pop();
    if (closed === undefined || !this.text.startsWith(closed.qname, lt + 2)) return false;
    this.pos = lt + 2 + closed.qname.length;
    this.space(); // then `>`: a longer name is not the same name
    if (this.text.charCodeAt(this.pos) !== 0x3e /* > */) return false;
    this.pos++;
    notePrefix(this.valuePrefixes, closed.text);
    this.scope = this.outerScopes.pop() ?? ROOT_SCOPE;
    return true;
  }

  /** A comment (XML's: no `--` inside, not ending in `-`), or `<!DOCTYPE name>` once before the root. */
  private commentOrDoctype(lt: number): boolean {
    const { text } = this;
    if (text.startsWith('<!--', lt)) {
      const dashes = text.indexOf('--', lt + 4);
      if (dashes < 0 || text.charCodeAt(dashes + 2) !== 0x3e /* > */) return false;
      this.pos = dashes + 3;
      return true;
    }
    DOCTYPE.lastIndex = lt;
    if (this.doctype || this.root !== undefined || !DOCTYPE.test(text)) return false;
    this.doctype = true;
    this.pos = DOCTYPE.lastIndex;
    return true;
  }

  /**
   * A start tag (a processing instruction, or anything else after `<`, is not plain): one root,
   * nested no deeper than saxes reads; its namespace declarations applied, its name and its
   * attributes' prefixes resolved. False on an undeclared prefix, an attribute given twice (by
   * name, or by namespace and local name), a declaration XML forbids or saxes would refuse.
   */
  private startTag(lt: number): boolean {
    const { text, open } = this;
    if ((this.root !== undefined && open.length === 0) || open.length >= MAX_XML_DEPTH) return false;
    this.pos = lt + 1;
    const qname = this.name();
    if (qname === '') return false;
    /** The attributes as written: name, value, name, value, … */
    const written: string[] = [];
    /** Their names, and their namespaces and local names (`{uri}local`), each once (a Set: a tag may hold many). */
    let names: Set<string> | undefined;
    let scope = this.scope;
    let empty = false;
    for (;;) {
      const spaced = this.space();
      const c = text.charCodeAt(this.pos);
      if (c === 0x3e /* > */) {
        this.pos++;
        break;
      }
      if (c === 0x2f /* / */ && text.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2;
        empty = true;
        break;
      }
      // An attribute, after white space: name S? = S? and a quoted value.
      const attrName = spaced ? this.name() : '';
      if (attrName === '') return false;
      this.space();
      if (text.charCodeAt(this.pos) !== 0x3d /* = */) return false;
      this.pos++;
      this.space();
      const quote = text.charCodeAt(this.pos);
      if (quote !== 0x22 && quote !== 0x27) return false;
      const close = text.indexOf(quote === 0x22 ? '"' : "'", this.pos + 1);
      if (close < 0) return false;
      const raw = text.slice(this.pos + 1, close);
      this.pos = close + 1;
      // No `<` in a value; XML turns a tab or line feed in one into a space: left to saxes.
      if (raw.includes('<') || raw.includes('\t') || raw.includes('\n')) return false;
      const value = decode(raw);
      if (value === undefined) return false;
      names ??= new Set();
      if (names.has(attrName)) return false;
      names.add(attrName);
      written.push(attrName, value);
      if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) {
        const prefix = attrName === 'xmlns' ? '' : attrName.slice(6);
        // Undeclaring, binding `xml` or `xmlns`, or binding to their namespaces: left to saxes.
        if (value === '' || prefix === 'xml' || prefix === 'xmlns' || value === XML_NS || value === XMLNS_NS) return false;
        if (scope === this.scope) scope = new Map(scope);
        (scope as Map<string, string>).set(prefix, value);
      }
    }
    // (`xmlns:` and `xml` are never declared here: an element `xmlns:x` has an undeclared prefix.)
    const [prefix, local] = splitName(qname);
    const ns = scope.get(prefix) ?? (prefix === '' ? '' : undefined);
    if (ns === undefined) return false;
    let attrs: XAttr[] | undefined;
    for (let i = 0; i < written.length; i += 2) {
      const attrName = written[i] as string;
      const value = written[i + 1] as string;
      if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) continue;
      const [ap, al] = splitName(attrName);
      const uri = ap === '' ? '' : scope.get(ap);
      if (uri === undefined) return false;
      if (ap !== '' && names !== undefined) {
        const expanded = `{${uri}}${al}`;
        if (names.has(expanded)) return false;
        names.add(expanded);
      }
      (attrs ??= []).push({ name: attrName, prefix: ap, local: al, value, uri });
      notePrefix(this.valuePrefixes, value);
    }
    const node = element(ns, prefix, local, qname, attrs ?? NO_ATTRIBUTES, open[open.length - 1]);
    this.root ??= node;
    if (!empty) {
      open.push(node);
      this.outerScopes.push(this.scope);
      this.scope = scope;
    }
    return true;
  }
}

/** The tree of a plain XML text; undefined when the text is not plain XML or not well-formed. */
export function readPlainXml(written: string): XmlTree | undefined {
  // XML reads CR LF and a lone CR as LF (§2.11), before anything else.
  const text = written.includes('\r') ? written.replace(/\r\n?/g, '\n') : written;
  if (NOT_PLAIN.test(text)) return undefined;
  return new PlainReader(text).read();
}
