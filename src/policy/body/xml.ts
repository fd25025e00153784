/**
 * text/xml and application/xml: a small non-validating, well-formedness-checking XML parser that
 * yields what ModSecurity v2 (libxml2) exposes to rules:
 *   - `XML:/*`   → xmlNodeGetContent(root element): all text and CDATA, in document order;
 *   - `XML://@*` → every attribute's value (namespace declarations are not attributes in libxml2).
 * A document that is not well formed sets REQBODY_ERROR with v2's message; what was parsed before
 * the error is still returned, as libxml2's push parser keeps the partial tree v2 then queries.
 *
 * Safety: no external entity, DTD or URL is ever fetched (v2's SecXmlExternalEntity Off); internal
 * entities expand with a budget so "billion laughs" fails instead of exhausting memory; parsing is
 * iterative (no recursion on element depth) and linear in the body size.
 */
import { type BodyParseResult, emptyResult } from './result.js';

class XmlError {
  constructor(readonly message: string) {}
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || c >= 0x80;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
}

/** A code point as UTF-8 bytes in a byte string. */
function utf8Bytes(cp: number): string {
  return Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Checks that the byte string is UTF-8 (libxml2's default encoding); returns the bad offset or -1. */
function invalidUtf8At(s: string): number {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const cc = i + k < n ? s.charCodeAt(i + k) : 0;
      if ((cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Brings the document to UTF-8 bytes as libxml2 would internally: UTF-16 with a BOM and
 * latin1-family declared encodings are converted; anything else must already be UTF-8.
 */
function toUtf8Document(body: string): string {
  if (body.startsWith('\xfe\xff') || body.startsWith('\xff\xfe')) {
    const le = body.charCodeAt(0) === 0xff;
    const text = new TextDecoder(le ? 'utf-16le' : 'utf-16be').decode(Buffer.from(body.slice(2), 'latin1'));
    return Buffer.from(text, 'utf8').toString('latin1');
  }
  const doc = body.startsWith('\xef\xbb\xbf') ? body.slice(3) : body;
  const decl = /^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(doc.slice(0, 200));
  const encoding = decl?.[1]?.toLowerCase();
  if (encoding !== undefined && /^(iso-8859-1|iso8859-1|latin1|latin-1|us-ascii|ascii|windows-1252|cp1252)$/.test(encoding)) {
    // Each byte is one latin1 character; libxml2 hands rules its UTF-8 form.
    return Buffer.from(doc, 'utf8').toString('latin1');
  }
  const bad = invalidUtf8At(doc);
  if (bad !== -1) throw new XmlError('XML: Failed parsing document.');
  return doc;
}

interface Entity {
  /** Replacement text (already decoded of character references), or null for an external entity. */
  value: string | null;
}

class XmlParser {
  private pos = 0;
  private readonly stack: string[] = [];
  rootSeen = false;
  private rootClosed = false;
  private hasExternalSubset = false;
  private readonly entities = new Map<string, Entity>();
  private expansionBudget: number;
  /** Text of the root element, in pieces. */
  readonly text: string[] = [];
  readonly attributes: string[] = [];

  constructor(private readonly s: string) {
    // libxml2 refuses large entity amplification; allow generous but bounded expansion.
    this.expansionBudget = Math.max(1 << 20, s.length * 10);
  }

  private fail(): never {
    throw new XmlError('XML: Failed parsing document.');
  }

  private startsWith(text: string): boolean {
    return this.s.startsWith(text, this.pos);
  }

  private skipSpace(): void {
    while (this.pos < this.s.length && isXmlSpace(this.s.charCodeAt(this.pos))) this.pos++;
  }

  private name(): string {
    const start = this.pos;
    if (!isNameStart(this.s.charCodeAt(this.pos))) this.fail();
    this.pos++;
    while (this.pos < this.s.length && isNameChar(this.s.charCodeAt(this.pos))) this.pos++;
    return this.s.slice(start, this.pos);
  }

  private indexOrFail(text: string, from: number): number {
    const at = this.s.indexOf(text, from);
    if (at === -1) this.fail();
    return at;
  }

  parse(): void {
    const s = this.s;
    if (this.startsWith('<?xml') && isXmlSpace(s.charCodeAt(5))) {
      this.pos = this.indexOrFail('?>', 5) + 2;
    }
    while (this.pos < s.length) {
      const lt = s.indexOf('<', this.pos);
      if (lt !== this.pos) {
        const end = lt === -1 ? s.length : lt;
        this.characters(end);
        this.pos = end;
        continue;
      }
      if (this.startsWith('<!--')) {
        const end = this.indexOrFail('-->', this.pos + 4);
        if (s.slice(this.pos + 4, end).includes('--')) this.fail();
        this.pos = end + 3;
      } else if (this.startsWith('<![CDATA[')) {
        if (this.stack.length === 0) this.fail();
        const end = this.indexOrFail(']]>', this.pos + 9);
        this.addText(normaliseNewlines(s.slice(this.pos + 9, end)));
        this.pos = end + 3;
      } else if (this.startsWith('<!DOCTYPE')) {
        if (this.rootSeen) this.fail();
        this.doctype();
      } else if (this.startsWith('<?')) {
        this.pos += 2;
        const target = this.name();
        if (target.toLowerCase() === 'xml') this.fail();
        this.pos = this.indexOrFail('?>', this.pos) + 2;
      } else if (this.startsWith('</')) {
        this.pos += 2;
        const name = this.name();
        this.skipSpace();
        if (s[this.pos] !== '>') this.fail();
        this.pos++;
        if (this.stack.pop() !== name) this.fail();
        if (this.stack.length === 0) this.rootClosed = true;
      } else {
        this.startTag();
      }
    }
    if (!this.rootSeen || this.stack.length !== 0) this.fail();
  }

  private startTag(): void {
    const s = this.s;
    if (this.rootClosed) this.fail(); // Extra content at the end of the document.
    this.pos++;
    const name = this.name();
    this.rootSeen = true;
    const seen = new Set<string>();
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.pos >= s.length) this.fail();
      const c = s[this.pos];
      if (c === '>') {
        this.pos++;
        this.stack.push(name);
        return;
      }
      if (c === '/' && s[this.pos + 1] === '>') {
        this.pos += 2;
        if (this.stack.length === 0) this.rootClosed = true;
        return;
      }
      if (this.pos === before) this.fail(); // Attributes must be separated by whitespace.
      const attr = this.name();
      if (seen.has(attr)) this.fail();
      seen.add(attr);
      this.skipSpace();
      if (s[this.pos] !== '=') this.fail();
      this.pos++;
      this.skipSpace();
      const quote = s[this.pos];
      if (quote !== '"' && quote !== "'") this.fail();
      const end = this.indexOrFail(quote, this.pos + 1);
      const raw = s.slice(this.pos + 1, end);
      if (raw.includes('<')) this.fail();
      const value = this.decodeReferences(raw, true);
      if (attr !== 'xmlns' && !attr.startsWith('xmlns:')) this.attributes.push(value);
      this.pos = end + 1;
    }
  }

  /** Character data between markup, up to `end`. */
  private characters(end: number): void {
    const raw = this.s.slice(this.pos, end);
    if (this.stack.length === 0) {
      // Outside the root only whitespace is allowed.
      for (let i = 0; i < raw.length; i++) if (!isXmlSpace(raw.charCodeAt(i))) this.fail();
      return;
    }
    if (raw.includes(']]>')) this.fail();
    this.addText(this.decodeReferences(normaliseNewlines(raw), false));
  }

  private addText(text: string): void {
    if (text.length > 0) this.text.push(text);
  }

  /** Resolves character and entity references; attribute values also get whitespace normalised. */
  private decodeReferences(raw: string, attribute: boolean): string {
    const text = attribute ? normaliseNewlines(raw).replace(/[\t\n]/g, ' ') : raw;
    if (text.indexOf('&') === -1) return text;
    let out = '';
    let i = 0;
    while (i < text.length) {
      const amp = text.indexOf('&', i);
      if (amp === -1) {
        out += text.slice(i);
        break;
      }
      out += text.slice(i, amp);
      const semi = text.indexOf(';', amp + 1);
      if (semi === -1) this.fail();
      const ref = text.slice(amp + 1, semi);
      out += this.resolve(ref, 0);
      i = semi + 1;
    }
    return out;
  }

  private resolve(ref: string, depth: number): string {
    if (ref.startsWith('#')) {
      const hex = ref[1] === 'x';
      const digits = ref.slice(hex ? 2 : 1);
      if (digits.length === 0 || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits) || digits.length > 8) this.fail();
      const cp = Number.parseInt(digits, hex ? 16 : 10);
      if (!isXmlChar(cp)) this.fail();
      return utf8Bytes(cp);
    }
    if (!/^[A-Za-z_:\x80-\xff][-A-Za-z0-9_:.\x80-\xff]*$/.test(ref)) this.fail();
    const predefined = PREDEFINED[ref];
    if (predefined !== undefined) return predefined;
    const entity = this.entities.get(ref);
    if (entity === undefined) {
      // Without an external subset an undeclared entity is a well-formedness error.
      if (!this.hasExternalSubset) this.fail();
      return '';
    }
    if (entity.value === null) return ''; // External entities are never loaded.
    if (depth > 40) this.fail(); // Entity loop.
    let out = '';
    let i = 0;
    const v = entity.value;
    while (i < v.length) {
      const amp = v.indexOf('&', i);
      if (amp === -1) {
        out += v.slice(i);
        break;
      }
      out += v.slice(i, amp);
      const semi = v.indexOf(';', amp + 1);
      if (semi === -1) this.fail();
      out += this.resolve(v.slice(amp + 1, semi), depth + 1);
      i = semi + 1;
    }
    this.expansionBudget -= out.length;
    if (this.expansionBudget < 0) this.fail();
    return out;
  }

  /** <!DOCTYPE name [SYSTEM|PUBLIC ...] [internal subset]> — records internal general entities. */
  private doctype(): void {
    const s = this.s;
    this.pos += 9;
    this.skipSpace();
    this.name();
    this.skipSpace();
    if (this.startsWith('SYSTEM') || this.startsWith('PUBLIC')) {
      this.hasExternalSubset = true;
      const isPublic = this.startsWith('PUBLIC');
      this.pos += 6;
      this.skipSpace();
      this.quoted();
      if (isPublic) {
        this.skipSpace();
        this.quoted();
      }
      this.skipSpace();
    }
    if (s[this.pos] === '[') {
      this.pos++;
      for (;;) {
        this.skipSpace();
        if (this.pos >= s.length) this.fail();
        if (s[this.pos] === ']') {
          this.pos++;
          break;
        }
        if (this.startsWith('<!ENTITY')) this.entityDecl();
        else if (this.startsWith('<!--')) this.pos = this.indexOrFail('-->', this.pos + 4) + 3;
        else if (this.startsWith('<?')) this.pos = this.indexOrFail('?>', this.pos + 2) + 2;
        else if (this.startsWith('<!')) this.skipDeclaration();
        else if (s[this.pos] === '%') {
          // Parameter entity reference: would pull declarations from elsewhere; never expanded.
          this.hasExternalSubset = true;
          this.pos = this.indexOrFail(';', this.pos) + 1;
        } else this.fail();
      }
      this.skipSpace();
    }
    if (s[this.pos] !== '>') this.fail();
    this.pos++;
  }

  private quoted(): string {
    const q = this.s[this.pos];
    if (q !== '"' && q !== "'") this.fail();
    const end = this.indexOrFail(q, this.pos + 1);
    const v = this.s.slice(this.pos + 1, end);
    this.pos = end + 1;
    return v;
  }

  /** Skips a markup declaration, honouring quoted strings. */
  private skipDeclaration(): void {
    const s = this.s;
    this.pos += 2;
    while (this.pos < s.length && s[this.pos] !== '>') {
      if (s[this.pos] === '"' || s[this.pos] === "'") this.quoted();
      else this.pos++;
    }
    if (this.pos >= s.length) this.fail();
    this.pos++;
  }

  private entityDecl(): void {
    const s = this.s;
    this.pos += 8;
    this.skipSpace();
    if (s[this.pos] === '%') {
      this.skipDeclarationRest();
      return;
    }
    const name = this.name();
    this.skipSpace();
    if (s[this.pos] === '"' || s[this.pos] === "'") {
      const literal = this.quoted();
      // Character references are replaced when the entity is declared; entity references later.
      const value = literal.replace(/&#(x[0-9a-fA-F]+|[0-9]+);/g, (_, d: string) => {
        const cp = d[0] === 'x' ? Number.parseInt(d.slice(1), 16) : Number.parseInt(d, 10);
        if (!isXmlChar(cp)) this.fail();
        return utf8Bytes(cp);
      });
      if (!this.entities.has(name)) this.entities.set(name, { value });
    } else {
      if (!this.entities.has(name)) this.entities.set(name, { value: null });
    }
    this.skipDeclarationRest();
  }

  private skipDeclarationRest(): void {
    const s = this.s;
    while (this.pos < s.length && s[this.pos] !== '>') {
      if (s[this.pos] === '"' || s[this.pos] === "'") this.quoted();
      else this.pos++;
    }
    if (this.pos >= s.length) this.fail();
    this.pos++;
  }
}

/** XML end-of-line handling: CRLF and lone CR become LF. */
function normaliseNewlines(text: string): string {
  return text.indexOf('\r') === -1 ? text : text.replace(/\r\n?/g, '\n');
}

export function parseXml(body: string): BodyParseResult {
  const result = emptyResult();
  let parser: XmlParser | null = null;
  try {
    parser = new XmlParser(toUtf8Document(body));
    parser.parse();
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    result.error = `XML parser error: ${err.message}`;
  }
  result.xmlText = parser !== null && parser.rootSeen ? [parser.text.join('')] : [];
  result.xmlAttributes = parser !== null ? parser.attributes : [];
  return result;
}
