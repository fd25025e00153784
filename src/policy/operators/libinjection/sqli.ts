/**
 * libinjection SQLi detection, ported to TypeScript over byte strings (one char per byte).
 *
 * libinjection (BSD-3-Clause, Copyright (c) 2012-2016 Nick Galbreath) tokenizes the input as SQL in up to
 * five contexts (as-is, as if inside '…', as if inside "…", ANSI and MySQL comment rules), folds the
 * tokens into a fingerprint of at most five token types ("s&sos", "1UE1" …), and reports SQLi when the
 * fingerprint is in its list of known injections and survives a few false-positive checks. This port
 * follows the C library's structure (and the Go port's fixes, e.g. "1.e" numbers); the data table is
 * in sqli-keywords.ts. It is checked against the libinjection bundled in libddwaf by the tests (test/policy/operators/ddwaf-reference.ts).
 */
import { SQLI_KEYWORD_GROUPS } from './sqli-keywords.js';

const FLAG_QUOTE_NONE = 1;
const FLAG_QUOTE_SINGLE = 2;
const FLAG_QUOTE_DOUBLE = 4;
const FLAG_SQL_ANSI = 8;
const FLAG_SQL_MYSQL = 16;

const MAX_TOKENS = 5;
const TOKEN_SIZE = 32;

// Token types (the fingerprint alphabet).
const T_NONE = '';
const T_KEYWORD = 'k';
const T_UNION = 'U';
const T_GROUP = 'B';
const T_EXPRESSION = 'E';
const T_SQLTYPE = 't';
const T_FUNCTION = 'f';
const T_BAREWORD = 'n';
const T_NUMBER = '1';
const T_VARIABLE = 'v';
const T_STRING = 's';
const T_OPERATOR = 'o';
const T_LOGIC_OPERATOR = '&';
const T_COMMENT = 'c';
const T_COLLATE = 'A';
const T_LEFTPARENS = '(';
const T_RIGHTPARENS = ')';
const T_LEFTBRACE = '{';
const T_RIGHTBRACE = '}';
const T_DOT = '.';
const T_COMMA = ',';
const T_COLON = ':';
const T_SEMICOLON = ';';
const T_TSQL = 'T';
const T_UNKNOWN = '?';
const T_EVIL = 'X';
const T_FINGERPRINT = 'F';
const T_BACKSLASH = '\\';

const KEYWORDS: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const [type, words] of Object.entries(SQLI_KEYWORD_GROUPS)) for (const w of words.split('\n')) m.set(w, type);
  return m;
})();

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Upper-cases ASCII letters only. String#toUpperCase is exact for ASCII input; for anything else (where it
 * would map ß to SS, ÿ to Ÿ …) the ASCII letters are mapped one by one.
 */
/** First words of the multi-word keywords ("NOT IN", "UNION ALL", "AT TIME ZONE" …). */
const MERGE_FIRST_WORDS: ReadonlySet<string> = (() => {
  const s = new Set<string>();
  for (const w of KEYWORDS.keys()) {
    // A merged token may itself be merged again ("AT TIME" + "ZONE"), so every proper prefix counts.
    const parts = w.split(' ');
    for (let i = 1; i < parts.length; i++) s.add(parts.slice(0, i).join(' '));
  }
  return s;
})();

function asciiUpper(s: string): string {
  if (isAscii(s)) return s.toUpperCase();
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x61 && c <= 0x7a ? String.fromCharCode(c - 32) : s[i];
  }
  return out;
}

/** Every keyword is ASCII, so a word with other bytes is never one. */
function keywordType(word: string): string {
  if (!isAscii(word)) return T_NONE;
  return KEYWORDS.get(word.toUpperCase()) ?? T_NONE;
}

function upperEquals(expectedUpper: string, s: string): boolean {
  if (s.length !== expectedUpper.length) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) c -= 32;
    if (c !== expectedUpper.charCodeAt(i)) return false;
  }
  return true;
}

function isWhite(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d || c === 0xa0 || c === 0x00;
}

function acceptTable(chars: string): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}
const WORD_STOP = acceptTable(' []{}<>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r"\xa0\x00');
const VAR_STOP = acceptTable(' <>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r\'`"');

/** Length of the prefix of s[pos…] made of bytes in `accept`. */
function spanOf(s: string, pos: number, accept: string): number {
  let i = pos;
  while (i < s.length && accept.includes(s[i]!)) i++;
  return i - pos;
}

/** Length of the prefix of s[pos…] with no byte from the stop table. */
function spanUntil(s: string, pos: number, stop: Uint8Array): number {
  let i = pos;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 256 && stop[c] === 1) break;
    i++;
  }
  return i - pos;
}

class Token {
  pos = 0;
  len = 0;
  count = 0;
  type = T_NONE;
  strOpen = '';
  strClose = '';
  val = '';

  clear(): void {
    this.pos = 0; this.len = 0; this.count = 0; this.type = T_NONE; this.strOpen = ''; this.strClose = ''; this.val = '';
  }

  copyFrom(o: Token): void {
    this.pos = o.pos; this.len = o.len; this.count = o.count; this.type = o.type;
    this.strOpen = o.strOpen; this.strClose = o.strClose; this.val = o.val;
  }

  /** Values are kept to 31 bytes, like the C struct's char val[32]. */
  assign(type: string, pos: number, len: number, input: string, from: number): void {
    const last = len < TOKEN_SIZE ? len : TOKEN_SIZE - 1;
    this.type = type;
    this.pos = pos;
    this.len = last;
    this.val = input.substr(from, last);
  }

  isUnaryOp(): boolean {
    if (this.type !== T_OPERATOR) return false;
    switch (this.len) {
      case 1: return this.val === '+' || this.val === '-' || this.val === '!' || this.val === '~';
      case 2: return this.val === '!!';
      case 3: return upperEquals('NOT', this.val);
      default: return false;
    }
  }

  isArithmeticOp(): boolean {
    return this.type === T_OPERATOR && this.len === 1 && '*/+-%'.includes(this.val);
  }
}

function isBackslashEscaped(s: string, start: number, end: number): boolean {
  // Backslashes immediately before `end` (within [start, end)); odd count = escaped.
  let count = 0;
  for (let i = end - 1; i >= start && s[i] === '\\'; i--) count++;
  return count % 2 === 1;
}

/** Parses a quoted string starting at pos+offset; returns the position after it. */
function parseStringCore(t: Token, s: string, pos: number, offset: number, delim: string): number {
  const start = pos + offset;
  t.strOpen = offset > 0 ? delim : '';
  let i = start;
  for (;;) {
    const q = s.indexOf(delim, i);
    if (q < 0) {
      t.assign(T_STRING, start, s.length - start, s, start);
      t.strClose = '';
      return s.length;
    }
    if (isBackslashEscaped(s, start, q)) { i = q + 1; continue; }
    if (q + 1 < s.length && s[q + 1] === delim) { i = q + 2; continue; }
    t.assign(T_STRING, start, q - start, s, start);
    t.strClose = delim;
    return q + 1;
  }
}

type Parser = (st: SqliState) => number;

class SqliState {
  input = '';
  flags = 0;
  pos = 0;
  readonly tokens: Token[] = Array.from({ length: 8 }, () => new Token());
  current: Token = this.tokens[0]!;
  fingerprint = '';
  statsCommentDDX = 0;
  statsCommentHash = 0;
  statsFolds = 0;
  statsTokens = 0;
  private readonly lastComment = new Token();

  init(input: string, flags: number): void {
    this.input = input;
    this.flags = flags === 0 ? FLAG_QUOTE_NONE | FLAG_SQL_ANSI : flags;
    this.pos = 0;
    for (const t of this.tokens) t.clear();
    this.current = this.tokens[0]!;
    this.fingerprint = '';
    this.statsCommentDDX = 0;
    this.statsCommentHash = 0;
    this.statsFolds = 0;
    this.statsTokens = 0;
  }

  tokenize(): boolean {
    const s = this.input;
    if (s.length === 0) return false;
    this.current.clear();
    if (this.pos === 0 && (this.flags & (FLAG_QUOTE_SINGLE | FLAG_QUOTE_DOUBLE)) !== 0) {
      const delim = (this.flags & FLAG_QUOTE_SINGLE) !== 0 ? "'" : '"';
      this.pos = parseStringCore(this.current, s, 0, 0, delim);
      this.statsTokens++;
      return true;
    }
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      this.pos = (c < 256 ? BYTE_PARSERS[c]! : parseWord)(this);
      if (this.current.type !== T_NONE) {
        this.statsTokens++;
        return true;
      }
    }
    return false;
  }

  merge(a: Token, b: Token): boolean {
    const okA = a.type === T_KEYWORD || a.type === T_BAREWORD || a.type === T_OPERATOR || a.type === T_UNION ||
      a.type === T_FUNCTION || a.type === T_EXPRESSION || a.type === T_TSQL || a.type === T_SQLTYPE;
    if (!okA) return false;
    const okB = b.type === T_KEYWORD || b.type === T_BAREWORD || b.type === T_OPERATOR || b.type === T_UNION ||
      b.type === T_FUNCTION || b.type === T_EXPRESSION || b.type === T_TSQL || b.type === T_SQLTYPE || b.type === T_LOGIC_OPERATOR;
    if (!okB) return false;
    if (a.len + b.len + 1 > TOKEN_SIZE) return false;
    // Only words that begin a multi-word keyword ("UNION" of "UNION ALL") can merge; skip the rest cheaply.
    if (!isAscii(a.val) || !MERGE_FIRST_WORDS.has(a.val.toUpperCase())) return false;
    const merged = a.val + ' ' + b.val;
    const ch = keywordType(merged);
    if (ch === T_NONE) return false;
    a.assign(ch, a.pos, merged.length, merged, 0);
    return true;
  }

  fold(): number {
    const v = this.tokens;
    let pos = 0, left = 0, more = true;
    const lastComment = this.lastComment;
    lastComment.clear();
    this.current = v[0]!;
    while (more) {
      more = this.tokenize();
      const c = this.current;
      if (!(c.type === T_COMMENT || c.type === T_LEFTPARENS || c.type === T_SQLTYPE || c.isUnaryOp())) break;
    }
    if (!more) return 0;
    pos++;

    for (;;) {
      if (pos >= MAX_TOKENS) {
        const t0 = v[0]!.type, t1 = v[1]!.type, t2 = v[2]!.type, t3 = v[3]!.type, t4 = v[4]!.type;
        if ((t0 === T_NUMBER && (t1 === T_OPERATOR || t1 === T_COMMA) && t2 === T_LEFTPARENS && t3 === T_NUMBER && t4 === T_RIGHTPARENS) ||
          (t0 === T_BAREWORD && t1 === T_OPERATOR && t2 === T_LEFTPARENS && (t3 === T_BAREWORD || t3 === T_NUMBER) && t4 === T_RIGHTPARENS) ||
          (t0 === T_NUMBER && t1 === T_RIGHTPARENS && t2 === T_COMMA && t3 === T_LEFTPARENS && t4 === T_NUMBER) ||
          (t0 === T_BAREWORD && t1 === T_RIGHTPARENS && t2 === T_OPERATOR && t3 === T_LEFTPARENS && t4 === T_BAREWORD)) {
          if (pos > MAX_TOKENS) {
            v[1]!.copyFrom(v[MAX_TOKENS]!);
            left = 1;
            pos = 2;
          } else {
            pos = 1;
            left = 0;
          }
        }
      }
      if (!more || left >= MAX_TOKENS) { left = pos; break; }

      while (more && pos <= MAX_TOKENS && pos - left < 2) {
        this.current = v[pos]!;
        more = this.tokenize();
        if (more) {
          if (this.current.type === T_COMMENT) lastComment.copyFrom(this.current);
          else { lastComment.type = T_NONE; pos++; }
        }
      }
      if (pos - left < 2) { left = pos; continue; }

      const a = v[left]!, b = v[left + 1]!;
      if (a.type === T_STRING && b.type === T_STRING) { pos--; this.statsFolds++; continue; }
      if (a.type === T_SEMICOLON && b.type === T_SEMICOLON) { pos--; this.statsFolds++; continue; }
      if ((a.type === T_OPERATOR || a.type === T_LOGIC_OPERATOR) && (b.isUnaryOp() || b.type === T_SQLTYPE)) {
        pos--; this.statsFolds++; left = 0; continue;
      }
      if (a.type === T_LEFTPARENS && b.isUnaryOp()) {
        pos--; this.statsFolds++; if (left > 0) left--; continue;
      }
      if (this.merge(a, b)) {
        pos--; this.statsFolds++; if (left > 0) left--; continue;
      }
      if (a.type === T_SEMICOLON && b.type === T_FUNCTION && (b.val[0] === 'I' || b.val[0] === 'i') && (b.val[1] === 'F' || b.val[1] === 'f')) {
        b.type = T_TSQL;
        continue;
      }
      if ((a.type === T_BAREWORD || a.type === T_VARIABLE) && b.type === T_LEFTPARENS && FUNCTION_LIKE_WORDS.has(asciiUpper(a.val))) {
        a.type = T_FUNCTION;
        continue;
      }
      if (a.type === T_KEYWORD && (upperEquals('IN', a.val) || upperEquals('NOT IN', a.val))) {
        a.type = b.type === T_LEFTPARENS ? T_OPERATOR : T_BAREWORD;
        continue;
      }
      // Cases that only retype a token fall through to the three-token rules (as in the C code).
      if (a.type === T_OPERATOR && (upperEquals('LIKE', a.val) || upperEquals('NOT LIKE', a.val))) {
        if (b.type === T_LEFTPARENS) a.type = T_FUNCTION;
      } else if (a.type === T_SQLTYPE && (b.type === T_BAREWORD || b.type === T_NUMBER || b.type === T_SQLTYPE || b.type === T_LEFTPARENS ||
        b.type === T_FUNCTION || b.type === T_VARIABLE || b.type === T_STRING)) {
        a.copyFrom(b); pos--; this.statsFolds++; left = 0; continue;
      } else if (a.type === T_COLLATE && b.type === T_BAREWORD) {
        if (b.val.includes('_')) { b.type = T_SQLTYPE; left = 0; }
      } else if (a.type === T_BACKSLASH) {
        if (b.isArithmeticOp()) a.type = T_NUMBER;
        else { a.copyFrom(b); pos--; this.statsFolds++; }
        left = 0;
        continue;
      } else if (a.type === T_LEFTPARENS && b.type === T_LEFTPARENS) {
        pos--; left = 0; this.statsFolds++; continue;
      } else if (a.type === T_RIGHTPARENS && b.type === T_RIGHTPARENS) {
        pos--; left = 0; this.statsFolds++; continue;
      } else if (a.type === T_LEFTBRACE && b.type === T_BAREWORD) {
        if (b.len === 0) { b.type = T_EVIL; return left + 2; }
        left = 0; pos -= 2; this.statsFolds += 2; continue;
      } else if (b.type === T_RIGHTBRACE) {
        pos--; left = 0; this.statsFolds++; continue;
      }

      while (more && pos <= MAX_TOKENS && pos - left < 3) {
        this.current = v[pos]!;
        more = this.tokenize();
        if (more) {
          if (this.current.type === T_COMMENT) lastComment.copyFrom(this.current);
          else { lastComment.type = T_NONE; pos++; }
        }
      }
      if (pos - left < 3) { left = pos; continue; }

      const x = v[left]!, y = v[left + 1]!, z = v[left + 2]!;
      if (x.type === T_NUMBER && y.type === T_OPERATOR && z.type === T_NUMBER) { pos -= 2; left = 0; continue; }
      if (x.type === T_OPERATOR && y.type !== T_LEFTPARENS && z.type === T_OPERATOR) { pos -= 2; left = 0; continue; }
      if (x.type === T_LOGIC_OPERATOR && z.type === T_LOGIC_OPERATOR) { pos -= 2; left = 0; continue; }
      if (x.type === T_VARIABLE && y.type === T_OPERATOR && (z.type === T_VARIABLE || z.type === T_NUMBER || z.type === T_BAREWORD)) {
        pos -= 2; left = 0; continue;
      }
      if ((x.type === T_BAREWORD || x.type === T_NUMBER) && y.type === T_OPERATOR && (z.type === T_NUMBER || z.type === T_BAREWORD)) {
        pos -= 2; left = 0; continue;
      }
      if ((x.type === T_BAREWORD || x.type === T_NUMBER || x.type === T_VARIABLE || x.type === T_STRING) && y.type === T_OPERATOR &&
        y.val === '::' && z.type === T_SQLTYPE) {
        pos -= 2; left = 0; this.statsFolds += 2; continue;
      }
      if ((x.type === T_BAREWORD || x.type === T_NUMBER || x.type === T_STRING || x.type === T_VARIABLE) && y.type === T_COMMA &&
        (z.type === T_NUMBER || z.type === T_BAREWORD || z.type === T_STRING || z.type === T_VARIABLE)) {
        pos -= 2; left = 0; continue;
      }
      if ((x.type === T_EXPRESSION || x.type === T_GROUP || x.type === T_COMMA) && y.isUnaryOp() && z.type === T_LEFTPARENS) {
        y.copyFrom(z); pos--; left = 0; continue;
      }
      if ((x.type === T_KEYWORD || x.type === T_EXPRESSION || x.type === T_GROUP) && y.isUnaryOp() &&
        (z.type === T_NUMBER || z.type === T_BAREWORD || z.type === T_VARIABLE || z.type === T_STRING || z.type === T_FUNCTION)) {
        y.copyFrom(z); pos--; left = 0; continue;
      }
      if (x.type === T_COMMA && y.isUnaryOp() && (z.type === T_NUMBER || z.type === T_BAREWORD || z.type === T_VARIABLE || z.type === T_STRING)) {
        y.copyFrom(z); left = 0; pos -= 3; continue;
      }
      if (x.type === T_COMMA && y.isUnaryOp() && z.type === T_FUNCTION) { y.copyFrom(z); pos--; left = 0; continue; }
      if (x.type === T_BAREWORD && y.type === T_DOT && z.type === T_BAREWORD) { pos -= 2; left = 0; continue; }
      if (x.type === T_EXPRESSION && y.type === T_DOT && z.type === T_BAREWORD) { y.copyFrom(z); pos--; left = 0; continue; }
      if (x.type === T_FUNCTION && y.type === T_LEFTPARENS && z.type !== T_RIGHTPARENS) {
        if (upperEquals('USER', x.val)) x.type = T_BAREWORD;
      }
      left++;
    }

    if (left < MAX_TOKENS && lastComment.type === T_COMMENT) {
      v[left]!.copyFrom(lastComment);
      left++;
    }
    if (left > MAX_TOKENS) left = MAX_TOKENS;
    return left;
  }

  makeFingerprint(flags: number): string {
    this.init(this.input, flags);
    const n = this.fold();
    const v = this.tokens;
    if (n > 2 && v[n - 1]!.type === T_BAREWORD && v[n - 1]!.strOpen === '`' && v[n - 1]!.len === 0 && v[n - 1]!.strClose === '') {
      v[n - 1]!.type = T_COMMENT;
    }
    let fp = '';
    for (let i = 0; i < n; i++) {
      const c = v[i]!.type;
      if (c === T_EVIL) {
        v[0]!.type = T_EVIL;
        v[0]!.val = T_EVIL;
        this.fingerprint = T_EVIL;
        return T_EVIL;
      }
      fp += c;
    }
    this.fingerprint = fp;
    return fp;
  }

  blacklisted(): boolean {
    if (this.fingerprint.length < 1) return false;
    return KEYWORDS.get('0' + asciiUpper(this.fingerprint)) === T_FINGERPRINT;
  }

  notWhitelisted(): boolean {
    const fp = this.fingerprint;
    const v = this.tokens;
    const s = this.input;
    if (fp.length > 1 && fp[fp.length - 1] === T_COMMENT) {
      if (s.includes('sp_password')) return true;
    }
    switch (fp.length) {
      case 2: {
        if (fp[1] === T_UNION) return this.statsTokens !== 2;
        if (v[1]!.val[0] === '#') return false;
        if (v[0]!.type === T_BAREWORD && v[1]!.type === T_COMMENT && v[1]!.val[0] !== '/') return false;
        if (v[0]!.type === T_NUMBER && v[1]!.type === T_COMMENT && v[1]!.val[0] !== '/') return true;
        if (v[0]!.type === T_NUMBER && v[1]!.type === T_COMMENT) {
          if (this.statsTokens > 2) return true;
          // C reads the terminating NUL when the number is the whole input.
          const ch = v[0]!.len < s.length ? s.charCodeAt(v[0]!.len) : 0;
          if (ch <= 32) return true;
          if (ch === 0x2f && s[v[0]!.len + 1] === '*') return true;
          if (ch === 0x2d && s[v[0]!.len + 1] === '-') return true;
          return false;
        }
        if (v[1]!.len > 2 && v[1]!.val[0] === '-') return false;
        break;
      }
      case 3: {
        if (fp === 'sos' || fp === 's&s') {
          if (v[0]!.strOpen === '' && v[2]!.strClose === '' && v[0]!.strClose === v[2]!.strOpen) return true;
          return false;
        }
        if (fp === 's&n' || fp === 'n&1' || fp === '1&1' || fp === '1&v' || fp === '1&s') {
          if (this.statsTokens === 3) return false;
        }
        if (v[1]!.type === T_KEYWORD && (v[1]!.len < 5 || !upperEquals('INTO', v[1]!.val.slice(0, 4)))) return false;
        break;
      }
      default: break;
    }
    return true;
  }

  fingerprintIsSqli(): boolean {
    return this.blacklisted() && this.notWhitelisted();
  }

  reparseAsMysql(): boolean {
    return this.statsCommentDDX !== 0 || this.statsCommentHash !== 0;
  }

  check(): boolean {
    if (this.input.length === 0) return false;
    this.makeFingerprint(FLAG_QUOTE_NONE | FLAG_SQL_ANSI);
    if (this.fingerprintIsSqli()) return true;
    if (this.reparseAsMysql()) {
      this.makeFingerprint(FLAG_QUOTE_NONE | FLAG_SQL_MYSQL);
      if (this.fingerprintIsSqli()) return true;
    }
    if (this.input.includes("'")) {
      this.makeFingerprint(FLAG_QUOTE_SINGLE | FLAG_SQL_ANSI);
      if (this.fingerprintIsSqli()) return true;
      if (this.reparseAsMysql()) {
        this.makeFingerprint(FLAG_QUOTE_SINGLE | FLAG_SQL_MYSQL);
        if (this.fingerprintIsSqli()) return true;
      }
    }
    if (this.input.includes('"')) {
      this.makeFingerprint(FLAG_QUOTE_DOUBLE | FLAG_SQL_MYSQL);
      if (this.fingerprintIsSqli()) return true;
    }
    return false;
  }
}

const FUNCTION_LIKE_WORDS = new Set(['USER_ID', 'USER_NAME', 'DATABASE', 'PASSWORD', 'USER', 'CURRENT_USER', 'CURRENT_DATE',
  'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'LOCALTIME', 'LOCALTIMESTAMP']);

// ---- byte parsers -------------------------------------------------------------------------------

function parseWhite(st: SqliState): number { return st.pos + 1; }

function parseOther(st: SqliState): number {
  st.current.assign(T_UNKNOWN, st.pos, 1, st.input, st.pos);
  return st.pos + 1;
}

function parseOperator1(st: SqliState): number {
  st.current.assign(T_OPERATOR, st.pos, 1, st.input, st.pos);
  return st.pos + 1;
}

function parseByte(st: SqliState): number {
  st.current.assign(st.input[st.pos]!, st.pos, 1, st.input, st.pos);
  return st.pos + 1;
}

function parseEolComment(st: SqliState): number {
  const s = st.input;
  const nl = s.indexOf('\n', st.pos);
  if (nl < 0) {
    st.current.assign(T_COMMENT, st.pos, s.length - st.pos, s, st.pos);
    return s.length;
  }
  st.current.assign(T_COMMENT, st.pos, nl - st.pos, s, st.pos);
  return nl + 1;
}

function parseHash(st: SqliState): number {
  st.statsCommentHash++;
  if ((st.flags & FLAG_SQL_MYSQL) !== 0) {
    st.statsCommentHash++;
    return parseEolComment(st);
  }
  st.current.assign(T_OPERATOR, st.pos, 1, '#', 0);
  return st.pos + 1;
}

function parseDash(st: SqliState): number {
  const s = st.input, p = st.pos, n = s.length;
  if (p + 2 < n && s[p + 1] === '-' && isWhite(s.charCodeAt(p + 2))) return parseEolComment(st);
  if (p + 2 === n && s[p + 1] === '-') return parseEolComment(st);
  if (p + 1 < n && s[p + 1] === '-' && (st.flags & FLAG_SQL_ANSI) !== 0) {
    st.statsCommentDDX++;
    return parseEolComment(st);
  }
  st.current.assign(T_OPERATOR, p, 1, '-', 0);
  return p + 1;
}

function parseSlash(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 1 === s.length || s[p + 1] !== '*') return parseOperator1(st);
  const end = s.indexOf('*/', p + 2);
  const length = end < 0 ? s.length - p : end - p + 2;
  let type = T_COMMENT;
  // A nested "/*" inside the comment (PostgreSQL nests them) or a MySQL "/*!" comment is evil.
  if (end >= 0 && s.slice(p + 2, end + 1).includes('/*')) type = T_EVIL;
  else if (p + 2 < s.length && s[p + 2] === '!') type = T_EVIL;
  st.current.assign(type, p, length, s, p);
  return p + length;
}

function parseBackslash(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 1 < s.length && s[p + 1] === 'N') {
    st.current.assign(T_NUMBER, p, 2, s, p);
    return p + 2;
  }
  st.current.assign(T_BACKSLASH, p, 1, s, p);
  return p + 1;
}

function parseOperator2(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 1 >= s.length) return parseOperator1(st);
  if (p + 2 < s.length && s[p] === '<' && s[p + 1] === '=' && s[p + 2] === '>') {
    st.current.assign(T_OPERATOR, p, 3, s, p);
    return p + 3;
  }
  const ch = keywordType(s.substr(p, 2));
  if (ch !== T_NONE) {
    st.current.assign(ch, p, 2, s, p);
    return p + 2;
  }
  if (s[p] === ':') {
    st.current.assign(T_COLON, p, 1, s, p);
    return p + 1;
  }
  return parseOperator1(st);
}

function parseString(st: SqliState): number {
  return parseStringCore(st.current, st.input, st.pos, 1, st.input[st.pos]!);
}

function parseWord(st: SqliState): number {
  const s = st.input, p = st.pos;
  const length = spanUntil(s, p, WORD_STOP);
  st.current.assign(T_BAREWORD, p, length, s, p);
  const val = st.current.val;
  for (let i = 0; i < st.current.len; i++) {
    const d = val[i];
    if (d === '.' || d === '`') {
      const ch = keywordType(val.slice(0, i));
      if (ch !== T_NONE && ch !== T_BAREWORD) {
        st.current.clear();
        st.current.assign(ch, p, i, s, p);
        return p + i;
      }
    }
  }
  if (length < TOKEN_SIZE) {
    const ch = keywordType(val.slice(0, length));
    st.current.type = ch === T_NONE ? T_BAREWORD : ch;
  }
  return p + length;
}

function parseTick(st: SqliState): number {
  const pos = parseStringCore(st.current, st.input, st.pos, 1, '`');
  const ch = keywordType(st.current.val);
  st.current.type = ch === T_FUNCTION ? T_FUNCTION : T_BAREWORD;
  return pos;
}

function parseVar(st: SqliState): number {
  const s = st.input;
  let pos = st.pos + 1;
  if (pos < s.length && s[pos] === '@') { pos++; st.current.count = 2; } else st.current.count = 1;
  if (pos < s.length) {
    if (s[pos] === '`') {
      st.pos = pos;
      pos = parseTick(st);
      st.current.type = T_VARIABLE;
      return pos;
    }
    if (s[pos] === "'" || s[pos] === '"') {
      st.pos = pos;
      pos = parseString(st);
      st.current.type = T_VARIABLE;
      return pos;
    }
  }
  const length = spanUntil(s, pos, VAR_STOP);
  st.current.assign(T_VARIABLE, pos, length, s, pos);
  return pos + length;
}

function parseMoney(st: SqliState): number {
  const s = st.input, p = st.pos, n = s.length;
  if (p + 1 === n) {
    st.current.assign(T_BAREWORD, p, 1, '$', 0);
    return n;
  }
  const length = spanOf(s, p + 1, '0123456789.,');
  if (length === 0) {
    if (s[p + 1] === '$') {
      const end = s.indexOf('$$', p + 2);
      if (end < 0) {
        st.current.assign(T_STRING, p + 2, n - (p + 2), s, p + 2);
        st.current.strOpen = '$';
        st.current.strClose = '';
        return n;
      }
      st.current.assign(T_STRING, p + 2, end - (p + 2), s, p + 2);
      st.current.strOpen = '$';
      st.current.strClose = '$';
      return end + 2;
    }
    const xlen = spanOf(s, p + 1, 'abcdefghjiklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
    if (xlen === 0 || p + xlen + 1 === n || s[p + xlen + 1] !== '$') {
      st.current.assign(T_BAREWORD, p, 1, '$', 0);
      return p + 1;
    }
    const tag = s.substr(p, xlen + 2);
    const end = s.indexOf(tag, p + xlen + 2);
    if (end < 0) {
      st.current.assign(T_STRING, p + xlen + 2, n - p - xlen - 2, s, p + xlen + 2);
      st.current.strOpen = '$';
      st.current.strClose = '';
      return n;
    }
    st.current.assign(T_STRING, p + xlen + 2, end - (p + xlen + 2), s, p + xlen + 2);
    st.current.strOpen = '$';
    st.current.strClose = '$';
    return end + xlen + 2;
  }
  if (length === 1 && s[p + 1] === '.') return parseWord(st);
  st.current.assign(T_NUMBER, p, length + 1, s, p);
  return p + length + 1;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

function parseNumber(st: SqliState): number {
  const s = st.input, n = s.length;
  const p = st.pos;
  if (s[p] === '0' && p + 1 < n) {
    const x = s[p + 1];
    const digits = x === 'X' || x === 'x' ? '0123456789ABCDEFabcdef' : x === 'B' || x === 'b' ? '01' : '';
    if (digits !== '') {
      const length = spanOf(s, p + 2, digits);
      if (length === 0) {
        st.current.assign(T_BAREWORD, p, 2, s, p);
        return p + 2;
      }
      st.current.assign(T_NUMBER, p, 2 + length, s, p);
      return p + 2 + length;
    }
  }
  const start = p;
  let pos = p;
  let haveE = false, haveExp = false;
  while (pos < n && isDigit(s, pos)) pos++;
  if (pos < n && s[pos] === '.') {
    pos++;
    while (pos < n && isDigit(s, pos)) pos++;
    if (pos - start === 1) {
      st.current.assign(T_DOT, start, 1, '.', 0);
      return pos;
    }
  }
  if (pos < n && (s[pos] === 'E' || s[pos] === 'e')) {
    haveE = true;
    pos++;
    if (pos < n && (s[pos] === '+' || s[pos] === '-')) pos++;
    while (pos < n && isDigit(s, pos)) { haveExp = true; pos++; }
  }
  if (pos < n && (s[pos] === 'd' || s[pos] === 'D' || s[pos] === 'f' || s[pos] === 'F')) {
    if (pos + 1 === n) pos++;
    else if (isWhite(s.charCodeAt(pos + 1)) || s[pos + 1] === ';') pos++;
    else if (s[pos + 1] === 'u' || s[pos + 1] === 'U') pos++;
  }
  // "1.e" / "1e+" without exponent digits: MySQL ignores it, and so does libinjection (no token).
  if (!(haveE && !haveExp)) st.current.assign(T_NUMBER, start, pos - start, s, start);
  return pos;
}

function parseUString(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 2 < s.length && s[p + 1] === '&' && s[p + 2] === "'") {
    st.pos += 2;
    const pos = parseString(st);
    st.current.strOpen = 'u';
    if (st.current.strClose === "'") st.current.strClose = 'u';
    return pos;
  }
  return parseWord(st);
}

function parseQStringCore(st: SqliState, offset: number): number {
  const s = st.input, n = s.length;
  const pos = st.pos + offset;
  if (pos >= n || (s[pos] !== 'q' && s[pos] !== 'Q') || pos + 2 >= n || s[pos + 1] !== "'") return parseWord(st);
  let ch = s[pos + 2]!;
  if (ch.charCodeAt(0) < 33) return parseWord(st);
  ch = ch === '(' ? ')' : ch === '[' ? ']' : ch === '{' ? '}' : ch === '<' ? '>' : ch;
  const end = s.indexOf(ch + "'", pos + 3);
  if (end < 0) {
    st.current.assign(T_STRING, pos + 3, n - pos - 3, s, pos + 3);
    st.current.strOpen = 'q';
    st.current.strClose = '';
    return n;
  }
  st.current.assign(T_STRING, pos + 3, end - (pos + 3), s, pos + 3);
  st.current.strOpen = 'q';
  st.current.strClose = 'q';
  return end + 2;
}

function parseQString(st: SqliState): number { return parseQStringCore(st, 0); }

function parseEString(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 2 >= s.length || s[p + 1] !== "'") return parseWord(st);
  return parseStringCore(st.current, s, p, 2, "'");
}

function parseNqString(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 2 < s.length && s[p + 1] === "'") return parseEString(st);
  return parseQStringCore(st, 1);
}

function parseXString(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 2 >= s.length || s[p + 1] !== "'") return parseWord(st);
  const length = spanOf(s, p + 2, '0123456789abcdefABCDEF');
  if (p + 2 + length >= s.length || s[p + 2 + length] !== "'") return parseWord(st);
  st.current.assign(T_NUMBER, p, length + 3, s, p);
  return p + 2 + length + 1;
}

function parseBString(st: SqliState): number {
  const s = st.input, p = st.pos;
  if (p + 2 >= s.length || s[p + 1] !== "'") return parseWord(st);
  const length = spanOf(s, p + 2, '01');
  if (p + 2 + length >= s.length || s[p + 2 + length] !== "'") return parseWord(st);
  st.current.assign(T_NUMBER, p, length + 3, s, p);
  return p + 2 + length + 1;
}

function parseBWord(st: SqliState): number {
  const s = st.input, p = st.pos;
  const end = s.indexOf(']', p);
  if (end < 0) {
    st.current.assign(T_BAREWORD, p, s.length - p, s, p);
    return s.length;
  }
  st.current.assign(T_BAREWORD, p, end - p + 1, s, p);
  return end + 1;
}

const BYTE_PARSERS: readonly Parser[] = (() => {
  const t: Parser[] = new Array<Parser>(256).fill(parseWord);
  for (let i = 0; i <= 32; i++) t[i] = parseWhite;
  t[127] = parseWhite;
  t[160] = parseWhite;
  const set = (chars: string, f: Parser) => { for (const c of chars) t[c.charCodeAt(0)] = f; };
  set('!&*:<=>|', parseOperator2);
  set('"\'', parseString);
  set('#', parseHash);
  set('$', parseMoney);
  set('%+^~', parseOperator1);
  set('(),;{}', parseByte);
  set('-', parseDash);
  set('.0123456789', parseNumber);
  set('/', parseSlash);
  set('?]', parseOther);
  set('@', parseVar);
  set('Bb', parseBString);
  set('Ee', parseEString);
  set('Nn', parseNqString);
  set('Qq', parseQString);
  set('Uu', parseUString);
  set('Xx', parseXString);
  set('[', parseBWord);
  set('\\', parseBackslash);
  set('`', parseTick);
  return t;
})();

const state = new SqliState();

/** libinjection_sqli(): the fingerprint when `input` is SQL injection, else null. */
export function detectSqli(input: string): string | null {
  state.init(input, 0);
  const found = state.check();
  const fp = found ? state.fingerprint : null;
  state.input = '';
  return fp;
}
