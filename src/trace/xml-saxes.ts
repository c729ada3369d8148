/**
 * Any XML text → the element tree (xml-node.ts), with saxes: a strict (XML 1.0 and Namespaces
 * well-formedness) streaming parser, in one pass. What is not well-formed, a DOCTYPE internal
 * subset (no entity declarations are processed: only the predefined entities and character
 * references exist), an undeclared prefix and nesting deeper than MAX_XML_DEPTH are refused as an
 * XmlSyntaxError with line and column.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { element, MAX_XML_DEPTH, NO_ATTRIBUTES, notePrefix, pathOf, XMLNS_NS, XmlSyntaxError, type XAttr, type XmlTree, type XNode } from './xml-node.js';

/** The tree of an XML text, read by saxes; an XmlSyntaxError where it is not well-formed. */
export function readXmlWithSaxes(text: string): XmlTree {
  return new TreeReader(text).read();
}

/** The line and column (both from 1) of a character of the text. */
function lineColumn(text: string, offset: number): [number, number] {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return [line, offset - start + 1];
}

/**
 * Reads the element tree from saxes' events, in the one pass over the text. Every
 * well-formedness error (saxes') and every refusal of its own (a DOCTYPE internal subset, an
 * undeclared prefix, nesting deeper than MAX_XML_DEPTH) is thrown as an XmlSyntaxError with
 * the line and column it was found at.
 */
class TreeReader {
  private readonly stack: XNode[] = [];
  private root: XNode | undefined;
  /** The element saxes closed last (on a mismatched end tag: the one that was open). */
  private lastClosed: XNode | undefined;
  private readonly valuePrefixes = new Set<string>();
  private readonly parser: SaxesParser<{ xmlns: true; position: false; resolvePrefix: (prefix: string) => undefined }>;

  constructor(private readonly text: string) {
    // position: false leaves the position out of saxes' messages; syntaxError adds it.
    this.parser = new SaxesParser({ xmlns: true, position: false, resolvePrefix: (prefix) => this.undeclared(prefix) });
    // At most six handlers: saxes stores each under a computed key, and V8 turns the parser into a
    // dictionary-mode object at the seventh, which makes the whole parse ~9 times slower.
    this.parser.on('error', (err) => {
      throw this.saxesError(err.message);
    });
    this.parser.on('doctype', (doctype) => {
      if (doctype.includes('[')) throw this.syntaxError('a DOCTYPE with an internal subset (entity declarations) is refused');
    });
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('text', (t) => {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) return; // whitespace around the root (saxes refuses anything else there)
      const s = t.trim();
      if (s !== '') top.text += s;
    });
    this.parser.on('cdata', (t) => {
      const top = this.stack[this.stack.length - 1];
      if (top !== undefined) top.text += t;
    });
    this.parser.on('closetag', () => {
      const n = this.stack.pop();
      this.lastClosed = n;
      if (n !== undefined) notePrefix(this.valuePrefixes, n.text);
    });
  }

  /** The tree of the whole text. */
  read(): XmlTree {
    this.parser.write(this.text).close();
    if (this.root === undefined) throw this.syntaxError('the document has no root element');
    return { root: this.root, valuePrefixes: this.valuePrefixes };
  }

  private open(tag: SaxesTagNS): void {
    const parent = this.stack[this.stack.length - 1];
    if (this.stack.length >= MAX_XML_DEPTH) throw this.syntaxError(`elements nested deeper than ${MAX_XML_DEPTH} levels`);
    let attrs: XAttr[] | undefined;
    for (const name in tag.attributes) {
      const a = tag.attributes[name];
      if (a === undefined || a.uri === XMLNS_NS) continue;
      (attrs ??= []).push(a);
      notePrefix(this.valuePrefixes, a.value);
    }
    const node = element(tag.uri, tag.prefix, tag.local, tag.name, attrs ?? NO_ATTRIBUTES, parent);
    if (parent === undefined) this.root = node;
    this.stack.push(node);
  }

  /**
   * saxes found no binding for a prefix of the start tag it has just read (an element's or an
   * attribute's); the empty prefix is no namespace, not an error. The tag is the last `<` before
   * the parser's position (saxes has checked that no attribute value holds one).
   */
  private undeclared(prefix: string): undefined {
    if (prefix === '') return undefined;
    const parent = this.stack[this.stack.length - 1];
    const lt = this.text.lastIndexOf('<', this.parser.position - 1);
    const name = /^[^\s/>]+/.exec(this.text.slice(lt + 1, lt + 200))?.[0] ?? '';
    throw this.syntaxError(`${parent === undefined ? '' : pathOf(parent)}/${name}: prefix "${prefix}" is not declared`);
  }

  /**
   * One of saxes' well-formedness errors, named better where its message says too little: the
   * end tag and the element it should have closed, the entity reference, the character; and an
   * `&` that starts no reference (saxes reads a reference up to the next `;`, so it finds out only
   * at the end of the text).
   */
  private saxesError(message: string): XmlSyntaxError {
    const at = this.parser.position - 1; // the character it has just read
    if (message === 'unexpected close tag.' && this.lastClosed !== undefined) {
      const lt = this.text.lastIndexOf('</', at);
      const found = /^[^\s>]*/.exec(this.text.slice(lt + 2, lt + 202))?.[0] ?? '';
      return this.syntaxError(`mismatched tags: </${found}> where </${this.lastClosed.qname}> was expected`);
    }
    if (/entity/.test(message)) {
      const amp = this.text.lastIndexOf('&', at); // at is the reference's `;`
      const name = amp < 0 ? '' : this.text.slice(amp + 1, Math.min(at, amp + 33));
      return this.syntaxError(`unknown entity &${name}; (${message} No DTD: only &lt; &gt; &amp; &quot; &apos; and character references)`);
    }
    if (message.startsWith('disallowed character')) {
      const c = this.text.codePointAt(at) ?? 0;
      return this.syntaxError(`${message.replace(/\.$/, '')}: ${JSON.stringify(String.fromCodePoint(c))} (U+${c.toString(16).toUpperCase().padStart(4, '0')})`);
    }
    const amp = this.text.lastIndexOf('&');
    if (at >= this.text.length - 1 && amp >= 0 && !this.text.includes(';', amp)) {
      const [line, column] = lineColumn(this.text, amp);
      return this.syntaxError(`${message.replace(/\.$/, '')}; is the "&" at line ${line}, column ${column} meant as &amp;? (it starts no entity reference)`);
    }
    return this.syntaxError(message);
  }

  /** The error, with where the parser stood: the line, and the column of the character it had just read. */
  private syntaxError(message: string): XmlSyntaxError {
    return new XmlSyntaxError(`${message} (line ${this.parser.line}, column ${this.parser.column})`);
  }
}
