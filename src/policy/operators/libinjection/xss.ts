/**
 * libinjection XSS detection, ported to TypeScript over byte strings (one char per byte).
 *
 * libinjection (BSD-3-Clause, Copyright (c) 2012-2016 Nick Galbreath) runs an HTML5 tokenizer over the
 * input in five starting states (data, and inside an unquoted / '…' / "…" / `…` attribute value) and
 * flags dangerous tags, event-handler and URL attributes, javascript:/data: URLs, IE conditional comments,
 * doctype and entity declarations. This port follows the C library as ModSecurity v2 links it (v3.9.x):
 * any attribute named on* (5+ bytes) is dangerous, NUL counts as HTML whitespace in attribute states,
 * and a 0xFF byte where whitespace skipping stops reads as end of input (a signed-char quirk).
 */

const EOF = -1;

const DATA_TEXT = 0;
const TAG_NAME_OPEN = 1;
const TAG_NAME_CLOSE = 2;
const TAG_NAME_SELFCLOSE = 3;
const TAG_CLOSE = 5;
const ATTR_NAME = 6;
const ATTR_VALUE = 7;
const TAG_COMMENT = 8;
const DOCTYPE = 9;

const enum Flags { DataState, ValueNoQuote, ValueSingleQuote, ValueDoubleQuote, ValueBackQuote }

const enum Attr { None, Black, Url, Style, Indirect }

/** h5_is_white: strchr(" \t\n\v\f\r", ch) — which also finds the terminating NUL. */
function isH5White(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d || c === 0x00;
}

type State = () => boolean;

class Html5Tokenizer {
  s = '';
  len = 0;
  pos = 0;
  isClose = false;
  state: State = () => false;
  tokenStart = 0;
  tokenLen = 0;
  tokenType = DATA_TEXT;

  init(s: string, flags: Flags): void {
    this.s = s;
    this.len = s.length;
    this.pos = 0;
    this.isClose = false;
    this.tokenStart = 0;
    this.tokenLen = 0;
    this.tokenType = DATA_TEXT;
    switch (flags) {
      case Flags.DataState: this.state = this.data; break;
      case Flags.ValueNoQuote: this.state = this.beforeAttributeName; break;
      case Flags.ValueSingleQuote: this.state = this.valueSingleQuote; break;
      case Flags.ValueDoubleQuote: this.state = this.valueDoubleQuote; break;
      case Flags.ValueBackQuote: this.state = this.valueBackQuote; break;
    }
  }

  next(): boolean { return this.state(); }

  token(type: number, start: number, len: number): void {
    this.tokenType = type;
    this.tokenStart = start;
    this.tokenLen = len;
  }

  /** Skips HTML whitespace (incl. NUL); returns the next byte, or EOF. */
  skipWhite(): number {
    while (this.pos < this.len) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x00 || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d) { this.pos++; continue; }
      // C returns the byte as a signed char: 0xFF is -1, which is CHAR_EOF.
      return c === 0xff ? EOF : c;
    }
    return EOF;
  }

  readonly eof: State = () => false;

  readonly data: State = () => {
    const idx = this.s.indexOf('<', this.pos);
    if (idx < 0) {
      this.token(DATA_TEXT, this.pos, this.len - this.pos);
      this.state = this.eof;
      return this.tokenLen !== 0;
    }
    this.token(DATA_TEXT, this.pos, idx - this.pos);
    this.pos = idx + 1;
    this.state = this.tagOpen;
    if (this.tokenLen === 0) return this.tagOpen();
    return true;
  };

  readonly tagOpen: State = () => {
    if (this.pos >= this.len) return false;
    const ch = this.s[this.pos]!;
    if (ch === '!') { this.pos++; return this.markupDeclarationOpen(); }
    if (ch === '/') { this.pos++; this.isClose = true; return this.endTagOpen(); }
    if (ch === '?') { this.pos++; return this.bogusComment(); }
    if (ch === '%') { this.pos++; return this.bogusComment2(); }
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '\0') return this.tagName();
    if (this.pos === 0) return this.data();
    this.token(DATA_TEXT, this.pos - 1, 1);
    this.state = this.data;
    return true;
  };

  readonly endTagOpen: State = () => {
    if (this.pos >= this.len) return false;
    const ch = this.s[this.pos]!;
    if (ch === '>') return this.data();
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) return this.tagName();
    this.isClose = false;
    return this.bogusComment();
  };

  readonly tagNameClose: State = () => {
    this.isClose = false;
    this.token(TAG_NAME_CLOSE, this.pos, 1);
    this.pos++;
    this.state = this.pos < this.len ? this.data : this.eof;
    return true;
  };

  readonly tagName: State = () => {
    let pos = this.pos;
    while (pos < this.len) {
      const c = this.s.charCodeAt(pos);
      if (c === 0) { pos++; continue; } // old browsers ignore NULs in tag names
      if (isH5White(c)) {
        this.token(TAG_NAME_OPEN, this.pos, pos - this.pos);
        this.pos = pos + 1;
        this.state = this.beforeAttributeName;
        return true;
      }
      if (c === 0x2f) {
        this.token(TAG_NAME_OPEN, this.pos, pos - this.pos);
        this.pos = pos + 1;
        this.state = this.selfClosingStartTag;
        return true;
      }
      if (c === 0x3e) {
        this.tokenStart = this.pos;
        this.tokenLen = pos - this.pos;
        if (this.isClose) {
          this.pos = pos + 1;
          this.isClose = false;
          this.tokenType = TAG_CLOSE;
          this.state = this.data;
        } else {
          this.pos = pos;
          this.tokenType = TAG_NAME_OPEN;
          this.state = this.tagNameClose;
        }
        return true;
      }
      pos++;
    }
    this.token(TAG_NAME_OPEN, this.pos, this.len - this.pos);
    this.state = this.eof;
    return true;
  };

  readonly selfClosingStartTag: State = () => {
    if (this.pos >= this.len) return false;
    if (this.s[this.pos] === '>') {
      this.token(TAG_NAME_SELFCLOSE, this.pos - 1, 2);
      this.state = this.data;
      this.pos++;
      return true;
    }
    return this.beforeAttributeName();
  };

  /** Iterative where C recurses through self_closing_start_tag, so "/////…" cannot exhaust the stack. */
  readonly beforeAttributeName: State = () => {
    for (;;) {
      const c = this.skipWhite();
      if (c === EOF) return false;
      if (c === 0x2f) {
        this.pos++;
        if (this.pos < this.len && this.s[this.pos] !== '>') continue;
        return this.selfClosingStartTag();
      }
      if (c === 0x3e) {
        this.state = this.data;
        this.token(TAG_NAME_CLOSE, this.pos, 1);
        this.pos++;
        return true;
      }
      return this.attributeName();
    }
  };

  readonly attributeName: State = () => {
    let pos = this.pos + 1;
    while (pos < this.len) {
      const c = this.s.charCodeAt(pos);
      if (isH5White(c)) {
        this.token(ATTR_NAME, this.pos, pos - this.pos);
        this.state = this.afterAttributeName;
        this.pos = pos + 1;
        return true;
      }
      if (c === 0x2f) {
        this.token(ATTR_NAME, this.pos, pos - this.pos);
        this.state = this.selfClosingStartTag;
        this.pos = pos + 1;
        return true;
      }
      if (c === 0x3d) {
        this.token(ATTR_NAME, this.pos, pos - this.pos);
        this.state = this.beforeAttributeValue;
        this.pos = pos + 1;
        return true;
      }
      if (c === 0x3e) {
        this.token(ATTR_NAME, this.pos, pos - this.pos);
        this.state = this.tagNameClose;
        this.pos = pos;
        return true;
      }
      pos++;
    }
    this.token(ATTR_NAME, this.pos, this.len - this.pos);
    this.state = this.eof;
    this.pos = this.len;
    return true;
  };

  readonly afterAttributeName: State = () => {
    const c = this.skipWhite();
    if (c === EOF) return false;
    if (c === 0x2f) { this.pos++; return this.selfClosingStartTag(); }
    if (c === 0x3d) { this.pos++; return this.beforeAttributeValue(); }
    if (c === 0x3e) return this.tagNameClose();
    return this.attributeName();
  };

  readonly beforeAttributeValue: State = () => {
    const c = this.skipWhite();
    if (c === EOF) { this.state = this.eof; return false; }
    if (c === 0x22) return this.valueDoubleQuote();
    if (c === 0x27) return this.valueSingleQuote();
    if (c === 0x60) return this.valueBackQuote();
    return this.valueNoQuote();
  };

  readonly valueNoQuote: State = () => {
    let pos = this.pos;
    while (pos < this.len) {
      const c = this.s.charCodeAt(pos);
      if (isH5White(c)) {
        this.token(ATTR_VALUE, this.pos, pos - this.pos);
        this.pos = pos + 1;
        this.state = this.beforeAttributeName;
        return true;
      }
      if (c === 0x3e) {
        this.token(ATTR_VALUE, this.pos, pos - this.pos);
        this.pos = pos;
        this.state = this.tagNameClose;
        return true;
      }
      pos++;
    }
    this.state = this.eof;
    this.token(ATTR_VALUE, this.pos, this.len - this.pos);
    return true;
  };

  valueQuote(q: string): boolean {
    // Skip the opening quote, except when starting inside a value (pos 0): "'><foo" gives a 0-length value.
    if (this.pos > 0) this.pos++;
    const idx = this.s.indexOf(q, this.pos);
    if (idx < 0) {
      this.token(ATTR_VALUE, this.pos, this.len - this.pos);
      this.state = this.eof;
    } else {
      this.token(ATTR_VALUE, this.pos, idx - this.pos);
      this.state = this.afterAttributeValueQuoted;
      this.pos += this.tokenLen + 1;
    }
    return true;
  }

  readonly valueSingleQuote: State = () => this.valueQuote("'");
  readonly valueDoubleQuote: State = () => this.valueQuote('"');
  readonly valueBackQuote: State = () => this.valueQuote('`');

  readonly afterAttributeValueQuoted: State = () => {
    if (this.pos >= this.len) return false;
    const c = this.s.charCodeAt(this.pos);
    if (isH5White(c)) { this.pos++; return this.beforeAttributeName(); }
    if (c === 0x2f) { this.pos++; return this.selfClosingStartTag(); }
    if (c === 0x3e) {
      this.token(TAG_NAME_CLOSE, this.pos, 1);
      this.pos++;
      this.state = this.data;
      return true;
    }
    return this.beforeAttributeName();
  };

  readonly markupDeclarationOpen: State = () => {
    const remaining = this.len - this.pos;
    if (remaining >= 7 && this.s.substr(this.pos, 7).toUpperCase() === 'DOCTYPE' && /^[\x00-\x7f]{7}$/.test(this.s.substr(this.pos, 7))) {
      return this.doctype();
    }
    if (remaining >= 7 && this.s.substr(this.pos, 7) === '[CDATA[') {
      this.pos += 7;
      return this.cdata();
    }
    if (remaining >= 2 && this.s[this.pos] === '-' && this.s[this.pos + 1] === '-') {
      this.pos += 2;
      return this.comment();
    }
    return this.bogusComment();
  };

  readonly bogusComment: State = () => {
    const idx = this.s.indexOf('>', this.pos);
    if (idx < 0) {
      this.token(TAG_COMMENT, this.pos, this.len - this.pos);
      this.pos = this.len;
      this.state = this.eof;
    } else {
      this.token(TAG_COMMENT, this.pos, idx - this.pos);
      this.pos = idx + 1;
      this.state = this.data;
    }
    return true;
  };

  /** "<% … %>" comments (IE ≤ 9, old Safari). */
  readonly bogusComment2: State = () => {
    let pos = this.pos;
    for (;;) {
      const idx = this.s.indexOf('%', pos);
      if (idx < 0 || idx + 1 >= this.len) {
        this.token(TAG_COMMENT, this.pos, this.len - this.pos);
        this.pos = this.len;
        this.state = this.eof;
        return true;
      }
      if (this.s[idx + 1] !== '>') { pos = idx + 1; continue; }
      this.token(TAG_COMMENT, this.pos, idx - this.pos);
      this.pos = idx + 2;
      this.state = this.data;
      return true;
    }
  };

  /** Comments end at EOF, "-->" or "-!>" (NULs between the dashes ignored). */
  readonly comment: State = () => {
    let pos = this.pos;
    const end = this.len;
    const eofComment = () => {
      this.state = this.eof;
      this.token(TAG_COMMENT, this.pos, this.len - this.pos);
      return true;
    };
    for (;;) {
      const idx = this.s.indexOf('-', pos);
      if (idx < 0 || idx > end - 3) return eofComment();
      let offset = 1;
      while (idx + offset < end && this.s.charCodeAt(idx + offset) === 0) offset++;
      if (idx + offset === end) return eofComment();
      let ch = this.s[idx + offset];
      if (ch !== '-' && ch !== '!') { pos = idx + 1; continue; }
      offset++;
      if (idx + offset === end) return eofComment();
      ch = this.s[idx + offset];
      if (ch !== '>') { pos = idx + 1; continue; }
      offset++;
      this.token(TAG_COMMENT, this.pos, idx - this.pos);
      this.pos = idx + offset;
      this.state = this.data;
      return true;
    }
  };

  readonly cdata: State = () => {
    let pos = this.pos;
    for (;;) {
      const idx = this.s.indexOf(']', pos);
      if (idx < 0 || idx > this.len - 3) {
        this.state = this.eof;
        this.token(DATA_TEXT, this.pos, this.len - this.pos);
        return true;
      }
      if (this.s[idx + 1] === ']' && this.s[idx + 2] === '>') {
        this.state = this.data;
        this.token(DATA_TEXT, this.pos, idx - this.pos);
        this.pos = idx + 3;
        return true;
      }
      pos = idx + 1;
    }
  };

  readonly doctype: State = () => {
    this.tokenStart = this.pos;
    this.tokenType = DOCTYPE;
    const idx = this.s.indexOf('>', this.pos);
    if (idx < 0) {
      this.state = this.eof;
      this.tokenLen = this.len - this.pos;
    } else {
      this.state = this.data;
      this.tokenLen = idx - this.pos;
      this.pos = idx + 1;
    }
    return true;
  };
}

/** cstrcasecmp_with_null(upper, s): s without NULs, ASCII upper-cased, equals `upper`. */
function equalsIgnoringNulls(upper: string, s: string, start: number, len: number): boolean {
  let a = 0;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(start + i);
    if (c === 0) continue;
    if (c >= 0x61 && c <= 0x7a) c -= 32;
    if (a >= upper.length || upper.charCodeAt(a) !== c) return false;
    a++;
  }
  return a === upper.length;
}

const BLACK_TAGS = ['APPLET', 'BASE', 'COMMENT', 'EMBED', 'FRAME', 'FRAMESET', 'HANDLER', 'IFRAME', 'IMPORT', 'ISINDEX', 'LINK',
  'LISTENER', 'META', 'NOSCRIPT', 'OBJECT', 'SCRIPT', 'STYLE', 'VMLFRAME', 'XML', 'XSS'];

const BLACK_ATTRS: ReadonlyArray<[string, Attr]> = [
  ['ACTION', Attr.Url], ['ATTRIBUTENAME', Attr.Indirect], ['BY', Attr.Url], ['BACKGROUND', Attr.Url],
  ['DATAFORMATAS', Attr.Black], ['DATASRC', Attr.Black], ['DYNSRC', Attr.Url], ['FILTER', Attr.Style],
  ['FORMACTION', Attr.Url], ['FOLDER', Attr.Url], ['FROM', Attr.Url], ['HANDLER', Attr.Url], ['HREF', Attr.Url],
  ['LOWSRC', Attr.Url], ['POSTER', Attr.Url], ['SRC', Attr.Url], ['STYLE', Attr.Style], ['TO', Attr.Url],
  ['VALUES', Attr.Url], ['XLINK:HREF', Attr.Url],
];

function lowerIs(s: string, i: number, lower: string): boolean {
  const c = s[i];
  return c === lower || c === lower.toUpperCase();
}

function isBlackTag(s: string, start: number, len: number): boolean {
  if (len < 3) return false;
  for (const t of BLACK_TAGS) if (equalsIgnoringNulls(t, s, start, len)) return true;
  if (lowerIs(s, start, 's') && lowerIs(s, start + 1, 'v') && lowerIs(s, start + 2, 'g')) return true;
  if (lowerIs(s, start, 'x') && lowerIs(s, start + 1, 's') && lowerIs(s, start + 2, 'l')) return true;
  return false;
}

function hasNul(s: string, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (s.charCodeAt(i) === 0) return true;
  return false;
}

function blackAttr(s: string, start: number, len: number): Attr {
  if (len < 2) return Attr.None;
  if (len >= 5) {
    if (lowerIs(s, start, 'o') && lowerIs(s, start + 1, 'n')) return Attr.Black; // JavaScript on* handlers
    if (equalsIgnoringNulls('XMLNS', s, start, len) || equalsIgnoringNulls('XLINK', s, start, len)) return Attr.Black;
  }
  if (len > 13 && !hasNul(s, start, len)) return Attr.None; // longer than every listed name, no NULs to drop
  for (const [name, type] of BLACK_ATTRS) if (equalsIgnoringNulls(name, s, start, len)) return type;
  return Attr.None;
}

const HEX = (() => {
  const t = new Int16Array(256).fill(256);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) { t[0x41 + i] = 10 + i; t[0x61 + i] = 10 + i; }
  return t;
})();

/** html_decode_char_at: one byte or numeric entity at s[i…end); returns [value, consumed]. */
function decodeCharAt(s: string, i: number, end: number): [number, number] {
  const len = end - i;
  if (len <= 0) return [EOF, 0];
  if (s[i] !== '&' || len < 2) return [s.charCodeAt(i), 1];
  if (s[i + 1] !== '#' || len < 3) return [0x26, 1];
  if (s[i + 2] === 'x' || s[i + 2] === 'X') {
    if (len < 4) return [0x26, 1];
    let ch = HEX[s.charCodeAt(i + 3) & 0xff]!;
    if (ch === 256) return [0x26, 1];
    let val = ch;
    let k = 4;
    while (k < len) {
      const c = s.charCodeAt(i + k);
      if (c === 0x3b) return [val, k + 1];
      ch = HEX[c & 0xff]!;
      if (ch === 256) return [val, k];
      val = val * 16 + ch;
      if (val > 0x1000ff) return [0x26, 1];
      k++;
    }
    return [val, k];
  }
  let c = s.charCodeAt(i + 2);
  if (c < 0x30 || c > 0x39) return [0x26, 1];
  let val = c - 0x30;
  let k = 3;
  while (k < len) {
    c = s.charCodeAt(i + k);
    if (c === 0x3b) return [val, k + 1];
    if (c < 0x30 || c > 0x39) return [val, k];
    val = val * 10 + (c - 0x30);
    if (val > 0x1000ff) return [0x26, 1];
    k++;
  }
  return [val, k];
}

/** htmlencode_startswith: does the HTML-decoded s[i…end) start with `prefix` (upper case)? */
function htmlEncodedStartsWith(prefix: string, s: string, i: number, end: number): boolean {
  let a = 0;
  let first = true;
  while (i < end) {
    if (a === prefix.length) return true;
    const [cbRaw, consumed] = decodeCharAt(s, i, end);
    i += consumed;
    let cb = cbRaw;
    if (first && cb <= 32) continue; // leading whitespace and control characters
    first = false;
    if (cb === 0 || cb === 10) continue; // NUL and LF are ignored
    if (cb >= 0x61 && cb <= 0x7a) cb -= 32;
    if (prefix.charCodeAt(a) !== (cb & 0xff)) return false;
    a++;
  }
  return a === prefix.length;
}

function isBlackUrl(s: string, start: number, len: number): boolean {
  let i = start;
  const end = start + len;
  // Signed char: bytes ≥ 0x80 are negative, so "<= 32" skips them with the controls and 0x7F.
  while (i < end) { const c = s.charCodeAt(i); if (c <= 32 || c >= 127) i++; else break; }
  return htmlEncodedStartsWith('DATA', s, i, end) || htmlEncodedStartsWith('VIEW-SOURCE', s, i, end) ||
    htmlEncodedStartsWith('VBSCRIPT', s, i, end) || htmlEncodedStartsWith('JAVA', s, i, end);
}

const h5 = new Html5Tokenizer();

function isXssIn(input: string, flags: Flags): boolean {
  h5.init(input, flags);
  let attr = Attr.None;
  const s = input;
  while (h5.next()) {
    const start = h5.tokenStart, len = h5.tokenLen;
    if (h5.tokenType !== ATTR_VALUE) attr = Attr.None;
    switch (h5.tokenType) {
      case DOCTYPE: return true;
      case TAG_NAME_OPEN:
        if (isBlackTag(s, start, len)) return true;
        break;
      case ATTR_NAME:
        attr = blackAttr(s, start, len);
        break;
      case ATTR_VALUE:
        switch (attr) {
          case Attr.None: break;
          case Attr.Black: return true;
          case Attr.Url: if (isBlackUrl(s, start, len)) return true; break;
          case Attr.Style: return true;
          case Attr.Indirect: if (blackAttr(s, start, len) !== Attr.None) return true; break;
        }
        attr = Attr.None;
        break;
      case TAG_COMMENT: {
        if (s.slice(start, start + len).includes('`')) return true; // IE uses ` as a tag end
        if (len > 3) {
          if (s[start] === '[' && lowerIs(s, start + 1, 'i') && lowerIs(s, start + 2, 'f')) return true;
          if (lowerIs(s, start, 'x') && lowerIs(s, start + 1, 'm') && lowerIs(s, start + 2, 'l')) return true;
        }
        if (len > 5 && (equalsIgnoringNulls('IMPORT', s, start, 6) || equalsIgnoringNulls('ENTITY', s, start, 6))) return true;
        break;
      }
      default: break;
    }
  }
  return false;
}

/** libinjection_xss(): true if `input` is XSS in any of the five starting contexts. */
export function detectXss(input: string): boolean {
  try {
    return isXssIn(input, Flags.DataState) || isXssIn(input, Flags.ValueNoQuote) || isXssIn(input, Flags.ValueSingleQuote) ||
      isXssIn(input, Flags.ValueDoubleQuote) || isXssIn(input, Flags.ValueBackQuote);
  } finally {
    h5.s = '';
  }
}
