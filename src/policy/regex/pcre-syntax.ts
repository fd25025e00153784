/**
 * PCRE (as ModSecurity v2 compiles it) → a small regex syntax tree over BYTES.
 *
 * ModSecurity v2 calls pcre_compile(pattern, PCRE_DOTALL | PCRE_DOLLAR_ENDONLY) without PCRE_UTF8 and with
 * the default ("C" locale) character tables. Consequences this parser reproduces:
 *  - the subject is a byte string: `.` is one byte and, with DOTALL, matches "\n" too;
 *  - `$` (no (?m)) matches only at the very end; `\Z` also before a final "\n";
 *  - case-insensitivity folds ASCII letters only (é and É are different bytes to PCRE);
 *  - \w \d \s \b are ASCII; \s is [\t\n\v\f\r ] (PCRE ≥ 8.34); \h and \v include 0xA0 / 0x85;
 *  - a non-ASCII literal in the rule file is its UTF-8 bytes, and a quantifier after it applies to the
 *    last byte only (`é+` is C3 A9+).
 * Every single-byte matcher (literal, class, `.`, \d …) becomes a 256-bit set with case folding already
 * applied, so the emitted patterns never rely on an engine's own (Unicode) case folding or class tables.
 */

export type Node =
  | { readonly type: 'set'; readonly bits: ByteSet }
  | { readonly type: 'seq'; readonly items: readonly Node[] }
  | { readonly type: 'alt'; readonly alternatives: readonly Node[] }
  | { readonly type: 'group'; readonly capture: number | null; readonly body: Node }
  | { readonly type: 'repeat'; readonly body: Node; readonly min: number; readonly max: number; readonly mode: RepeatMode }
  | { readonly type: 'atomic'; readonly body: Node }
  | { readonly type: 'look'; readonly behind: boolean; readonly negate: boolean; readonly body: Node }
  | { readonly type: 'backref'; readonly group: number; readonly caseless: boolean }
  | { readonly type: 'assert'; readonly kind: AssertKind };

export type RepeatMode = 'greedy' | 'lazy' | 'possessive';
/**
 * start: \A or ^ without (?m); lineStart: ^ with (?m) (not after a final "\n");
 * end: \z or $ without (?m) (DOLLAR_ENDONLY); endOrFinalNewline: \Z; lineEnd: $ with (?m);
 * wordBoundary / notWordBoundary: \b \B on ASCII word characters.
 */
export type AssertKind = 'start' | 'lineStart' | 'end' | 'endOrFinalNewline' | 'lineEnd' | 'wordBoundary' | 'notWordBoundary';

export class PcreSyntaxError extends Error {
  readonly code = 'ERR_PCRE_SYNTAX';
  constructor(message: string, readonly pattern: string, readonly offset: number) {
    super(`${message} at offset ${offset} in /${pattern.length > 120 ? pattern.slice(0, 120) + '…' : pattern}/`);
    this.name = 'PcreSyntaxError';
  }
}

/** 256 bits, one per byte value. */
export class ByteSet {
  readonly words = new Uint32Array(8);
  static of(...bytes: number[]): ByteSet { const s = new ByteSet(); for (const b of bytes) s.add(b); return s; }
  static range(lo: number, hi: number): ByteSet { const s = new ByteSet(); s.addRange(lo, hi); return s; }
  add(b: number): void { this.words[b >>> 5]! |= 1 << (b & 31); }
  addRange(lo: number, hi: number): void { for (let b = lo; b <= hi; b++) this.add(b); }
  addSet(o: ByteSet): void { for (let i = 0; i < 8; i++) this.words[i]! |= o.words[i]!; }
  has(b: number): boolean { return (this.words[b >>> 5]! & (1 << (b & 31))) !== 0; }
  negated(): ByteSet { const s = new ByteSet(); for (let i = 0; i < 8; i++) s.words[i] = ~this.words[i]!; return s; }
  /** Adds the other ASCII case of every ASCII letter present. */
  foldAsciiCase(): void {
    for (let b = 0x41; b <= 0x5a; b++) if (this.has(b) || this.has(b + 32)) { this.add(b); this.add(b + 32); }
  }
  count(): number { let n = 0; for (let b = 0; b < 256; b++) if (this.has(b)) n++; return n; }
  /** Ranges [lo, hi] of members, ascending. */
  ranges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let b = 0;
    while (b < 256) {
      if (!this.has(b)) { b++; continue; }
      const lo = b;
      while (b + 1 < 256 && this.has(b + 1)) b++;
      out.push([lo, b]);
      b++;
    }
    return out;
  }
}

const DIGIT = ByteSet.range(0x30, 0x39);
const WORD = (() => { const s = ByteSet.range(0x30, 0x39); s.addRange(0x41, 0x5a); s.addRange(0x61, 0x7a); s.add(0x5f); return s; })();
const SPACE = ByteSet.of(0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20);
const HSPACE = ByteSet.of(0x09, 0x20, 0xa0);
const VSPACE = ByteSet.of(0x0a, 0x0b, 0x0c, 0x0d, 0x85);
const ALL = ByteSet.range(0, 255);
const NOT_NEWLINE = ByteSet.of(0x0a).negated();

const POSIX_CLASSES: Readonly<Record<string, ByteSet>> = (() => {
  const r = (lo: number, hi: number) => ByteSet.range(lo, hi);
  const union = (...sets: ByteSet[]) => { const s = new ByteSet(); for (const x of sets) s.addSet(x); return s; };
  const upper = r(0x41, 0x5a), lower = r(0x61, 0x7a), digit = r(0x30, 0x39);
  const punct = new ByteSet();
  for (let b = 0x21; b <= 0x7e; b++) if (!WORD.has(b) || b === 0x5f) punct.add(b);
  return {
    alpha: union(upper, lower), digit, alnum: union(upper, lower, digit), upper, lower,
    space: SPACE, blank: ByteSet.of(0x09, 0x20), cntrl: union(r(0, 0x1f), ByteSet.of(0x7f)),
    graph: r(0x21, 0x7e), print: r(0x20, 0x7e), punct, xdigit: union(digit, r(0x41, 0x46), r(0x61, 0x66)),
    word: WORD, ascii: r(0, 0x7f),
  };
})();

interface Flags { caseless: boolean; dotAll: boolean; multiline: boolean; extended: boolean; ungreedy: boolean }

export interface ParsedPattern {
  readonly root: Node;
  /** Number of capturing groups (PCRE numbering). */
  readonly groupCount: number;
}

/** UTF-8 bytes of one code point (the rule file is UTF-8; PCRE without PCRE_UTF8 sees these bytes). */
function utf8Bytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

export function parsePcre(pattern: string): ParsedPattern {
  return new Parser(pattern).parse();
}

class Parser {
  private pos = 0;
  private groupCount = 0;
  private readonly backrefs: Array<{ group: number; offset: number }> = [];
  private readonly names = new Map<string, number>();
  /** Literal bytes from \Q…\E still to be emitted, one atom each. */
  private flags: Flags = { caseless: false, dotAll: true, multiline: false, extended: false, ungreedy: false };

  constructor(private readonly src: string) {}

  private fail(message: string, offset = this.pos): never {
    throw new PcreSyntaxError(message, this.src, offset);
  }

  parse(): ParsedPattern {
    const root = this.parseAlternation();
    if (this.pos < this.src.length) this.fail(this.src[this.pos] === ')' ? 'unmatched closing parenthesis' : 'unexpected character');
    for (const ref of this.backrefs) {
      if (ref.group > this.groupCount) this.fail('reference to non-existent subpattern', ref.offset);
    }
    return { root, groupCount: this.groupCount };
  }

  /** Alternatives until ')' or end. Option changes like (?i) persist into later alternatives (PCRE1). */
  private parseAlternation(): Node {
    const saved = { ...this.flags };
    const alternatives: Node[] = [this.parseSequence()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      alternatives.push(this.parseSequence());
    }
    this.flags = saved;
    return alternatives.length === 1 ? alternatives[0]! : { type: 'alt', alternatives };
  }

  private parseSequence(): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipExtended();
      const c = this.src[this.pos];
      if (c === undefined || c === '|' || c === ')') break;
      const atoms = this.parseAtom();
      if (atoms.length === 0) continue;
      const last = atoms.pop()!;
      items.push(...atoms);
      items.push(this.parseQuantifier(last));
    }
    return items.length === 1 ? items[0]! : { type: 'seq', items };
  }

  private skipExtended(): void {
    if (!this.flags.extended) return;
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') { this.pos++; continue; }
      if (c === '#') { while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++; continue; }
      return;
    }
  }

  private parseQuantifier(atom: Node): Node {
    this.skipExtended();
    const c = this.src[this.pos];
    let min: number, max: number;
    if (c === '*') { min = 0; max = Infinity; this.pos++; }
    else if (c === '+') { min = 1; max = Infinity; this.pos++; }
    else if (c === '?') { min = 0; max = 1; this.pos++; }
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m) return atom; // PCRE: a '{' that does not start a valid quantifier is a literal
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > 65535 || (max !== Infinity && max > 65535)) this.fail('number too big in {} quantifier');
      if (max < min) this.fail('numbers out of order in {} quantifier');
      this.pos += m[0].length;
    } else return atom;
    if (atom.type === 'assert' || (atom.type === 'look')) {
      // PCRE allows quantified assertions and treats {0,…} as optional; keep the assertion as-is for max ≥ 1.
      return min === 0 ? { type: 'seq', items: [] } : atom;
    }
    let mode: RepeatMode = this.flags.ungreedy ? 'lazy' : 'greedy';
    if (this.src[this.pos] === '?') { mode = this.flags.ungreedy ? 'greedy' : 'lazy'; this.pos++; }
    else if (this.src[this.pos] === '+') { mode = 'possessive'; this.pos++; }
    return { type: 'repeat', body: atom, min, max, mode };
  }

  private byteAtom(b: number): Node {
    const bits = ByteSet.of(b);
    if (this.flags.caseless) bits.foldAsciiCase();
    return { type: 'set', bits };
  }

  private literal(cp: number): Node[] {
    return utf8Bytes(cp).map((b) => this.byteAtom(b));
  }

  /** Returns atoms; a following quantifier applies to the last one. */
  private parseAtom(): Node[] {
    const c = this.src[this.pos]!;
    switch (c) {
      case '(':
        return this.parseGroup();
      case '[':
        return [this.parseClass()];
      case '.':
        this.pos++;
        return [{ type: 'set', bits: this.flags.dotAll ? ALL : NOT_NEWLINE }];
      case '^':
        this.pos++;
        return [{ type: 'assert', kind: this.flags.multiline ? 'lineStart' : 'start' }];
      case '$':
        this.pos++;
        // PCRE_DOLLAR_ENDONLY is ignored when PCRE_MULTILINE is set.
        return [{ type: 'assert', kind: this.flags.multiline ? 'lineEnd' : 'end' }];
      case '\\':
        return this.parseEscape();
      case '*': case '+': case '?':
        return this.fail('quantifier does not follow a repeatable item');
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return this.literal(cp);
      }
    }
  }

  private parseGroup(): Node[] {
    const open = this.pos;
    this.pos++; // (
    let capture: number | null = null;
    if (this.src[this.pos] === '*') this.fail('backtracking control verbs (*…) are not supported');
    if (this.src[this.pos] === '?') {
      this.pos++;
      const c = this.src[this.pos];
      if (c === '#') {
        const end = this.src.indexOf(')', this.pos);
        if (end < 0) this.fail('missing ) after comment', open);
        this.pos = end + 1;
        return [];
      }
      if (c === ':') { this.pos++; return [this.finishGroup(null, open)]; }
      if (c === '>') { this.pos++; return [{ type: 'atomic', body: this.finishGroup(null, open) }]; }
      if (c === '=' || c === '!') {
        this.pos++;
        return [{ type: 'look', behind: false, negate: c === '!', body: this.finishGroup(null, open) }];
      }
      if (c === '<' && (this.src[this.pos + 1] === '=' || this.src[this.pos + 1] === '!')) {
        const negate = this.src[this.pos + 1] === '!';
        this.pos += 2;
        const body = this.finishGroup(null, open);
        if (lookbehindLength(body) === null) this.fail('lookbehind assertion is not fixed length', open);
        return [{ type: 'look', behind: true, negate, body }];
      }
      if (c === '<' || c === "'" || (c === 'P' && this.src[this.pos + 1] === '<')) {
        if (c === 'P') this.pos++;
        const close = this.src[this.pos] === '<' ? '>' : "'";
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos + 1));
        if (!m || this.src[this.pos + 1 + m[0].length] !== close) this.fail('bad group name', open);
        this.pos += 2 + m[0].length;
        capture = ++this.groupCount;
        this.names.set(m[0], capture);
        return [this.finishGroup(capture, open)];
      }
      if (c === 'P' && this.src[this.pos + 1] === '=') {
        const m = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(this.src.slice(this.pos));
        const group = m ? this.names.get(m[1]!) : undefined;
        if (!m || group === undefined) this.fail('reference to non-existent named subpattern', open);
        this.pos += m[0].length;
        return [{ type: 'backref', group, caseless: this.flags.caseless }];
      }
      if (c === '|') this.fail('branch reset groups (?|…) are not supported', open);
      if (c === '(') this.fail('conditional groups (?(…)…) are not supported', open);
      if (c === 'R' || c === '&' || c === '+' || (c !== undefined && /[0-9]/.test(c)) || (c === 'P' && this.src[this.pos + 1] === '>')) {
        this.fail('recursion and subroutine calls are not supported', open);
      }
      // Option setting: (?imsxU-imsxU) or (?imsxU-imsxU:…)
      const m = /^([imsxUJX]*)(?:-([imsxUJX]*))?([:)])/.exec(this.src.slice(this.pos));
      if (!m) this.fail('unrecognized character after (? or (?-', open);
      this.pos += m[0].length;
      const next = { ...this.flags };
      applyOptions(next, m[1]!, true);
      applyOptions(next, m[2] ?? '', false);
      if (m[3] === ')') {
        // Applies to the rest of the enclosing group (restored by parseAlternation on exit).
        this.flags = next;
        return [];
      }
      const outer = this.flags;
      this.flags = next;
      const body = this.finishGroup(null, open);
      this.flags = outer;
      return [body];
    }
    capture = ++this.groupCount;
    return [this.finishGroup(capture, open)];
  }

  private finishGroup(capture: number | null, open: number): Node {
    const body = this.parseAlternation();
    if (this.src[this.pos] !== ')') this.fail('missing )', open);
    this.pos++;
    return capture === null ? { type: 'group', capture: null, body } : { type: 'group', capture, body };
  }

  private parseEscape(): Node[] {
    const start = this.pos;
    this.pos++; // backslash
    const c = this.src[this.pos];
    if (c === undefined) this.fail('\\ at end of pattern', start);
    this.pos++;
    switch (c) {
      case 'd': return [{ type: 'set', bits: DIGIT }];
      case 'D': return [{ type: 'set', bits: DIGIT.negated() }];
      case 'w': return [{ type: 'set', bits: WORD }];
      case 'W': return [{ type: 'set', bits: WORD.negated() }];
      case 's': return [{ type: 'set', bits: SPACE }];
      case 'S': return [{ type: 'set', bits: SPACE.negated() }];
      case 'h': return [{ type: 'set', bits: HSPACE }];
      case 'H': return [{ type: 'set', bits: HSPACE.negated() }];
      case 'v': return [{ type: 'set', bits: VSPACE }];
      case 'V': return [{ type: 'set', bits: VSPACE.negated() }];
      case 'N': return [{ type: 'set', bits: NOT_NEWLINE }];
      case 'C': return [{ type: 'set', bits: ALL }];
      case 'R':
        // (?>\r\n|\n|\x0b|\f|\r|\x85)
        return [{ type: 'atomic', body: { type: 'alt', alternatives: [
          { type: 'seq', items: [{ type: 'set', bits: ByteSet.of(13) }, { type: 'set', bits: ByteSet.of(10) }] },
          { type: 'set', bits: VSPACE },
        ] } }];
      case 'b': return [{ type: 'assert', kind: 'wordBoundary' }];
      case 'B': return [{ type: 'assert', kind: 'notWordBoundary' }];
      case 'A': return [{ type: 'assert', kind: 'start' }];
      case 'z': return [{ type: 'assert', kind: 'end' }];
      case 'Z': return [{ type: 'assert', kind: 'endOrFinalNewline' }];
      case 'G': return this.fail('\\G is not supported', start);
      case 'K': return this.fail('\\K is not supported', start);
      case 'X': case 'p': case 'P': return this.fail(`\\${c} needs Unicode support, which ModSecurity v2 patterns do not have`, start);
      case 'Q': {
        let end = this.src.indexOf('\\E', this.pos);
        if (end < 0) end = this.src.length;
        const text = this.src.slice(this.pos, end);
        this.pos = Math.min(end + 2, this.src.length);
        const atoms: Node[] = [];
        for (const ch of text) atoms.push(...this.literal(ch.codePointAt(0)!));
        return atoms;
      }
      case 'E': return [];
      case 'g': case 'k': {
        const m = /^(?:\{(-?\d+|[A-Za-z_]\w*)\}|<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|(-?\d+))/.exec(this.src.slice(this.pos));
        if (!m) this.fail(`malformed \\${c} reference`, start);
        this.pos += m[0].length;
        const ref = m[1] ?? m[2] ?? m[3] ?? m[4]!;
        let group: number;
        if (/^-?\d+$/.test(ref)) {
          const n = Number(ref);
          group = n < 0 ? this.groupCount + 1 + n : n;
          if (group <= 0) this.fail('invalid relative reference', start);
        } else {
          const g = this.names.get(ref);
          if (g === undefined) this.fail('reference to non-existent named subpattern', start);
          group = g;
        }
        this.backrefs.push({ group, offset: start });
        return [{ type: 'backref', group, caseless: this.flags.caseless }];
      }
      default:
        break;
    }
    if (c >= '1' && c <= '9') {
      const digits = /^\d*/.exec(this.src.slice(this.pos))![0];
      const n = Number(c + digits);
      if (n < 10 || n <= this.groupCount) {
        this.pos += digits.length;
        this.backrefs.push({ group: n, offset: start });
        return [{ type: 'backref', group: n, caseless: this.flags.caseless }];
      }
      // Otherwise up to three octal digits; \8 and \9 are the literal characters.
      if (c === '8' || c === '9') return this.literal(c.charCodeAt(0));
      this.pos--;
      return [this.byteAtom(this.readOctal(3))];
    }
    this.pos--;
    return [this.byteAtom(this.readCharEscape(start, false))];
  }

  private readOctal(maxDigits: number): number {
    let v = 0, n = 0;
    while (n < maxDigits && /[0-7]/.test(this.src[this.pos] ?? '')) { v = v * 8 + Number(this.src[this.pos]); this.pos++; n++; }
    return v & 0xff;
  }

  /**
   * Escapes that denote one byte (shared by atoms and classes); `this.pos` is at the character after
   * the backslash. `inClass` makes \b a backspace.
   */
  private readCharEscape(start: number, inClass: boolean): number {
    const c = this.src[this.pos]!;
    this.pos++;
    switch (c) {
      case 'a': return 0x07;
      case 'e': return 0x1b;
      case 'f': return 0x0c;
      case 'n': return 0x0a;
      case 'r': return 0x0d;
      case 't': return 0x09;
      case 'b': if (inClass) return 0x08; break;
      case '0': return this.readOctal(2);
      case 'o': {
        const m = /^\{([0-7]+)\}/.exec(this.src.slice(this.pos));
        if (!m) this.fail('malformed \\o{…}', start);
        this.pos += m[0].length;
        return this.checkByte(parseInt(m[1]!, 8), start);
      }
      case 'x': {
        if (this.src[this.pos] === '{') {
          const m = /^\{([0-9A-Fa-f]+)\}/.exec(this.src.slice(this.pos));
          if (!m) this.fail('malformed \\x{…}', start);
          this.pos += m[0].length;
          return this.checkByte(parseInt(m[1]!, 16), start);
        }
        const m = /^[0-9A-Fa-f]{0,2}/.exec(this.src.slice(this.pos))![0];
        this.pos += m.length;
        return m === '' ? 0 : parseInt(m, 16);
      }
      case 'c': {
        const x = this.src[this.pos];
        if (x === undefined || x.charCodeAt(0) > 0x7f) this.fail('\\c at end of pattern or followed by non-ASCII', start);
        this.pos++;
        return x.toUpperCase().charCodeAt(0) ^ 0x40;
      }
      default: break;
    }
    const cp = this.src.codePointAt(this.pos - 1)!;
    if (cp > 0x7f) this.fail('escaped non-ASCII character', start);
    // PCRE without PCRE_EXTRA: an unknown escaped letter or symbol is that character.
    return cp;
  }

  private checkByte(v: number, start: number): number {
    if (v > 0xff) this.fail('character value in \\x{…} or \\o{…} is too large (patterns are not UTF-8 mode)', start);
    return v;
  }

  private parseClass(): Node {
    const open = this.pos;
    this.pos++; // [
    let negate = false;
    if (this.src[this.pos] === '^') { negate = true; this.pos++; }
    const bits = new ByteSet();
    let first = true;
    let pendingLow: number | null = null; // last single byte, may start a range
    const addByte = (b: number) => { bits.add(b); pendingLow = b; };
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) this.fail('missing terminating ] for character class', open);
      if (c === ']' && !first) { this.pos++; break; }
      first = false;
      // POSIX class [:name:] / [:^name:]
      if (c === '[' && /^\[:\^?[a-z]+:\]/.test(this.src.slice(this.pos))) {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos))!;
        const set = POSIX_CLASSES[m[2]!];
        if (!set) this.fail(`unknown POSIX class name [:${m[2]}:]`);
        bits.addSet(m[1] ? set.negated() : set);
        this.pos += m[0].length;
        pendingLow = null;
        continue;
      }
      if (c === '\\' && this.src[this.pos + 1] === 'Q') {
        let end = this.src.indexOf('\\E', this.pos + 2);
        if (end < 0) end = this.src.length;
        for (const ch of this.src.slice(this.pos + 2, end)) for (const b of utf8Bytes(ch.codePointAt(0)!)) addByte(b);
        this.pos = Math.min(end + 2, this.src.length);
        continue;
      }
      if (c === '\\' && this.src[this.pos + 1] === 'E') { this.pos += 2; continue; }
      // Range a-b
      if (c === '-' && pendingLow !== null && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== undefined) {
        const save = this.pos;
        this.pos++;
        const hi = this.readClassSingle();
        if (hi === null) {
          // "[a-\d]": the '-' is literal
          this.pos = save + 1;
          bits.add(0x2d);
          pendingLow = null;
          continue;
        }
        if (hi.length !== 1) { // multi-byte UTF-8 upper bound: PCRE (bytes) ranges to the first byte
          this.fail('range ends in a non-ASCII character, which is several bytes without UTF-8 mode', save);
        }
        const lo: number = pendingLow;
        if (hi[0]! < lo) this.fail('range out of order in character class', save);
        bits.addRange(lo, hi[0]!);
        pendingLow = null;
        continue;
      }
      if (c === '\\') {
        const t = this.src[this.pos + 1];
        const shorthand: Record<string, ByteSet> = { d: DIGIT, D: DIGIT.negated(), w: WORD, W: WORD.negated(), s: SPACE, S: SPACE.negated(), h: HSPACE, H: HSPACE.negated(), v: VSPACE, V: VSPACE.negated() };
        if (t !== undefined && shorthand[t]) { bits.addSet(shorthand[t]); this.pos += 2; pendingLow = null; continue; }
        if (t === 'p' || t === 'P' || t === 'X') this.fail(`\\${t} needs Unicode support`);
      }
      const single = this.readClassSingle()!;
      for (const b of single) addByte(b);
    }
    if (this.flags.caseless) bits.foldAsciiCase();
    return { type: 'set', bits: negate ? bits.negated() : bits };
  }

  /** One class member that is a character (bytes of it), or null if it is a shorthand class escape. */
  private readClassSingle(): number[] | null {
    const c = this.src[this.pos]!;
    if (c === '\\') {
      const t = this.src[this.pos + 1];
      if (t !== undefined && /[dDwWsShHvV]/.test(t)) return null;
      const start = this.pos;
      this.pos++;
      if (t !== undefined && t >= '1' && t <= '9') {
        if (t === '8' || t === '9') { this.pos++; return [t.charCodeAt(0)]; }
        return [this.readOctal(3)];
      }
      return [this.readCharEscape(start, true)];
    }
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return utf8Bytes(cp);
  }
}

function applyOptions(flags: Flags, letters: string, on: boolean): void {
  for (const l of letters) {
    if (l === 'i') flags.caseless = on;
    else if (l === 'm') flags.multiline = on;
    else if (l === 's') flags.dotAll = on;
    else if (l === 'x') flags.extended = on;
    else if (l === 'U') flags.ungreedy = on;
    // J (duplicate names) and X (extra) change nothing we model.
  }
}

/** Fixed length in bytes of a lookbehind body per alternative (PCRE allows different fixed lengths per top-level alternative). */
export function lookbehindLength(node: Node): number[] | null {
  if (node.type === 'alt') {
    const out: number[] = [];
    for (const a of node.alternatives) {
      const l = fixedLength(a);
      if (l === null) return null;
      out.push(l);
    }
    return out;
  }
  if (node.type === 'group' && node.capture === null) return lookbehindLength(node.body);
  const l = fixedLength(node);
  return l === null ? null : [l];
}

export function fixedLength(node: Node): number | null {
  switch (node.type) {
    case 'set': return 1;
    case 'assert': case 'look': return 0;
    case 'backref': return null;
    case 'seq': { let n = 0; for (const i of node.items) { const l = fixedLength(i); if (l === null) return null; n += l; } return n; }
    case 'alt': {
      let len: number | null = null;
      for (const a of node.alternatives) { const l = fixedLength(a); if (l === null || (len !== null && l !== len)) return null; len = l; }
      return len ?? 0;
    }
    case 'group': case 'atomic': return fixedLength(node.body);
    case 'repeat': {
      if (node.min !== node.max) return null;
      const l = fixedLength(node.body);
      return l === null ? null : l * node.min;
    }
  }
}
