/**
 * application/json, as ModSecurity v2 (apache2/msc_json.c on top of yajl 2) turns it into ARGS.
 *
 * Naming follows v2 exactly, quirks included: keys are joined with '.', array items take the name
 * of their array's key again (`{"a":[1,2]}` gives `a.a=1`, `a.a=2`), a top-level array is named
 * `array` (`[1]` gives `array.array=1`), a top-level scalar has the empty name, null is the empty
 * string, booleans are "true"/"false" and numbers keep their source text. Closing a container cuts
 * the prefix at its last '.', so keys containing '.' shift later names exactly as in v2.
 *
 * Strings are decoded as yajl does: escapes resolved, \uXXXX written as UTF-8 bytes, and the raw
 * bytes must be valid UTF-8. Arguments produced before an error are kept (yajl adds them as it
 * goes); the error text is yajl's.
 */
import { type BodyLimits, type BodyParseResult, DEFAULT_MAX_ARGS, DEFAULT_MAX_JSON_DEPTH, emptyResult } from './result.js';

class JsonError {
  constructor(readonly message: string) {}
}

const lexical = (text: string): JsonError => new JsonError(`lexical error: ${text}`);
const parse = (text: string): JsonError => new JsonError(`parse error: ${text}`);

/** One level of v2's dotted prefix; `full` is the whole prefix string up to and including `piece`. */
interface PrefixLevel {
  piece: string;
  full: string;
}

/** v2's json_data: prefix, current_key and depth, with the prefix kept as a stack for linear time. */
class V2Naming {
  private readonly levels: PrefixLevel[] = [];
  currentKey: string | null = null;
  depth = 0;

  constructor(
    private readonly maxDepth: number,
    private readonly maxArgs: number,
    private readonly args: Array<[string, string]>,
  ) {}

  private get prefix(): string | null {
    return this.levels.length === 0 ? null : this.levels[this.levels.length - 1]!.full;
  }

  private pushPrefix(piece: string): void {
    const parent = this.prefix;
    this.levels.push({ piece, full: parent === null ? piece : `${parent}.${piece}` });
  }

  /**
   * v2 cuts the prefix at its last '.': inside the last piece when that key holds a dot, otherwise
   * between the last two pieces. Returns what followed the dot (or the whole prefix if none).
   */
  private cutPrefix(): { tail: string; hadSeparator: boolean } {
    const top = this.levels[this.levels.length - 1]!;
    const dot = top.piece.lastIndexOf('.');
    if (dot !== -1) {
      const tail = top.piece.slice(dot + 1);
      this.levels.pop();
      this.pushPrefix(top.piece.slice(0, dot));
      return { tail, hadSeparator: true };
    }
    this.levels.pop();
    return { tail: top.piece, hadSeparator: this.levels.length > 0 };
  }

  startMap(): void {
    if (this.currentKey === null) return; // Top-level object: no prefix, no depth.
    this.pushPrefix(this.currentKey);
    this.enter();
  }

  endMap(): void {
    if (this.prefix === null) return;
    const whole = this.prefix;
    const { tail, hadSeparator } = this.cutPrefix();
    if (hadSeparator) {
      this.currentKey = tail;
    } else {
      this.currentKey = whole;
      this.levels.length = 0;
    }
    this.depth--;
  }

  startArray(): void {
    if (this.currentKey === null && this.prefix === null) {
      this.pushPrefix('array');
      this.currentKey = 'array';
    } else {
      this.pushPrefix(this.currentKey ?? '');
    }
    this.enter();
  }

  endArray(): void {
    if (this.prefix === null) return;
    const { hadSeparator } = this.cutPrefix();
    if (!hadSeparator) this.levels.length = 0;
    this.depth--;
  }

  private enter(): void {
    this.depth++;
    if (this.depth > this.maxDepth) throw new JsonError('JSON depth limit exceeded');
  }

  key(k: string): void {
    // v2 copies keys with apr_pstrndup, so a key ends at its first NUL (values do not).
    const nul = k.indexOf('\0');
    this.currentKey = nul === -1 ? k : k.slice(0, nul);
  }

  value(v: string): void {
    if (this.currentKey === null) this.currentKey = '';
    const prefix = this.prefix;
    const name = prefix === null ? this.currentKey : `${prefix}.${this.currentKey}`;
    if (this.args.length >= this.maxArgs) {
      // v2 sets REQBODY_ERROR and cancels the parse from the callback.
      throw parse('client cancelled parse via callback return value');
    }
    this.args.push([name, v]);
  }
}

function isJsonSpace(c: number): boolean {
  // yajl also accepts \v and \f between tokens.
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** yajl's Utf32toUtf8 as a byte string. */
function utf8Bytes(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  if (cp < 0x200000) {
    return String.fromCharCode(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return '?';
}

const enum Ctx {
  /** Inside an object, before a key or '}' (first member). */
  MapStart,
  /** Inside an object, after ',' : a key is required. */
  MapNeedKey,
  /** Inside an object after a key: ':' required. */
  MapColon,
  /** Inside an object after ':': a value is required. */
  MapNeedValue,
  /** Inside an object after a value: ',' or '}'. */
  MapAfterValue,
  /** Inside an array, before the first value or ']'. */
  ArrayStart,
  /** Inside an array after ',' : a value is required. */
  ArrayNeedValue,
  /** Inside an array after a value: ',' or ']'. */
  ArrayAfterValue,
}

class Lexer {
  pos = 0;
  constructor(private readonly s: string) {}

  skipSpace(): void {
    while (this.pos < this.s.length && isJsonSpace(this.s.charCodeAt(this.pos))) this.pos++;
  }

  get done(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): number {
    return this.s.charCodeAt(this.pos);
  }

  /** A string token starting at the opening quote; returns the decoded bytes. */
  string(): string {
    const s = this.s;
    let p = this.pos + 1;
    let out = '';
    let runStart = p;
    for (;;) {
      if (p >= s.length) throw parse('premature EOF');
      const c = s.charCodeAt(p);
      if (c === 0x22) {
        out += s.slice(runStart, p);
        this.pos = p + 1;
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(runStart, p);
        const e = p + 1 < s.length ? s.charCodeAt(p + 1) : -1;
        if (e === -1) throw parse('premature EOF');
        switch (e) {
          case 0x22: out += '"'; p += 2; break;
          case 0x5c: out += '\\'; p += 2; break;
          case 0x2f: out += '/'; p += 2; break;
          case 0x62: out += '\b'; p += 2; break;
          case 0x66: out += '\f'; p += 2; break;
          case 0x6e: out += '\n'; p += 2; break;
          case 0x72: out += '\r'; p += 2; break;
          case 0x74: out += '\t'; p += 2; break;
          case 0x75: {
            const cp = this.hex4(p + 2);
            p += 6;
            if ((cp & 0xfc00) === 0xd800) {
              if (s.charCodeAt(p) === 0x5c && s.charCodeAt(p + 1) === 0x75) {
                const low = this.hex4(p + 2);
                const combined = ((cp & 0x3f) << 10) | ((((cp >> 6) & 0xf) + 1) << 16) | (low & 0x3ff);
                out += utf8Bytes(combined);
                p += 6;
              } else {
                // yajl writes '?' for a lone high surrogate and skips the byte after it.
                out += '?';
                p += 1;
              }
            } else {
              out += utf8Bytes(cp);
            }
            break;
          }
          default:
            throw lexical("inside a string, '\\' occurs before a character which it may not.");
        }
        runStart = p;
        continue;
      }
      if (c < 0x20) throw lexical('invalid character inside string.');
      if (c >= 0x80) {
        p = this.utf8Sequence(p, c);
        continue;
      }
      p++;
    }
  }

  private hex4(at: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      if (at + k >= this.s.length) throw parse('premature EOF');
      const h = hexValue(this.s.charCodeAt(at + k));
      if (h < 0) throw lexical("invalid (non-hex) character occurs after '\\u' inside string.");
      v = v * 16 + h;
    }
    return v;
  }

  /** yajl_lex_utf8_char: lead byte class and continuation bytes only (no overlong checks). */
  private utf8Sequence(p: number, c: number): number {
    let n: number;
    if (c >> 5 === 0x6) n = 1;
    else if (c >> 4 === 0x0e) n = 2;
    else if (c >> 3 === 0x1e) n = 3;
    else throw lexical('invalid bytes in UTF8 string.');
    for (let k = 1; k <= n; k++) {
      if (p + k >= this.s.length) throw parse('premature EOF');
      if (this.s.charCodeAt(p + k) >> 6 !== 0x2) throw lexical('invalid bytes in UTF8 string.');
    }
    return p + n + 1;
  }

  /** A number token; returns its source text as yajl hands it to the number callback. */
  number(): string {
    const s = this.s;
    const start = this.pos;
    let p = start;
    const at = (k: number): number => (k < s.length ? s.charCodeAt(k) : -1);
    const digit = (c: number): boolean => c >= 0x30 && c <= 0x39;
    if (at(p) === 0x2d) p++;
    if (at(p) === 0x30) p++;
    else if (at(p) >= 0x31 && at(p) <= 0x39) while (digit(at(p))) p++;
    else throw lexical('malformed number, a digit is required after the minus sign.');
    if (at(p) === 0x2e) {
      p++;
      if (!digit(at(p))) throw lexical('malformed number, a digit is required after the decimal point.');
      while (digit(at(p))) p++;
    }
    if (at(p) === 0x65 || at(p) === 0x45) {
      p++;
      if (at(p) === 0x2b || at(p) === 0x2d) p++;
      if (!digit(at(p))) throw lexical('malformed number, a digit is required after the exponent.');
      while (digit(at(p))) p++;
    }
    this.pos = p;
    return s.slice(start, p);
  }

  /** true / false / null. */
  literal(): 'true' | 'false' | 'null' {
    for (const word of ['true', 'false', 'null'] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return word;
      }
      // A prefix of the word cut by the end of the body is a premature EOF, as yajl sees it.
      if (word.startsWith(this.s.slice(this.pos, this.pos + word.length)) && this.pos + word.length > this.s.length) {
        throw parse('premature EOF');
      }
    }
    throw lexical('invalid string in json text.');
  }
}

/** Parses the whole body; arguments are appended as yajl's callbacks would add them. */
function run(body: string, naming: V2Naming): void {
  const lx = new Lexer(body);
  const stack: Ctx[] = [];
  let topDone = false;
  for (;;) {
    lx.skipSpace();
    if (lx.done) {
      if (!topDone) throw parse('premature EOF');
      return;
    }
    if (topDone) throw parse('trailing garbage');
    const c = lx.peek();
    const ctx = stack.length === 0 ? null : stack[stack.length - 1]!;

    // Structural tokens that depend on the container state.
    if (ctx === Ctx.MapStart || ctx === Ctx.MapNeedKey) {
      if (c === 0x22) {
        naming.key(lx.string());
        stack[stack.length - 1] = Ctx.MapColon;
        continue;
      }
      if (c === 0x7d && ctx === Ctx.MapStart) {
        lx.pos++;
        stack.pop();
        naming.endMap();
        topDone = afterValue(stack);
        continue;
      }
      lexThenFail(lx, 'invalid object key (must be a string)');
    }
    if (ctx === Ctx.MapColon) {
      if (c !== 0x3a) lexThenFail(lx, "object key and value must be separated by a colon (':')");
      lx.pos++;
      stack[stack.length - 1] = Ctx.MapNeedValue;
      continue;
    }
    if (ctx === Ctx.MapAfterValue) {
      if (c === 0x2c) {
        lx.pos++;
        stack[stack.length - 1] = Ctx.MapNeedKey;
        continue;
      }
      if (c === 0x7d) {
        lx.pos++;
        stack.pop();
        naming.endMap();
        topDone = afterValue(stack);
        continue;
      }
      lexThenFail(lx, "after key and value, inside map, I expect ',' or '}'");
    }
    if (ctx === Ctx.ArrayAfterValue) {
      if (c === 0x2c) {
        lx.pos++;
        stack[stack.length - 1] = Ctx.ArrayNeedValue;
        continue;
      }
      if (c === 0x5d) {
        lx.pos++;
        stack.pop();
        naming.endArray();
        topDone = afterValue(stack);
        continue;
      }
      lexThenFail(lx, "after array element, I expect ',' or ']'");
    }
    if (ctx === Ctx.ArrayStart && c === 0x5d) {
      lx.pos++;
      stack.pop();
      naming.endArray();
      topDone = afterValue(stack);
      continue;
    }
    // Top level, after ':', array start or array after ',': a value.
    if (ctx === Ctx.ArrayStart || ctx === Ctx.ArrayNeedValue) stack[stack.length - 1] = Ctx.ArrayAfterValue;
    else if (ctx === Ctx.MapNeedValue) stack[stack.length - 1] = Ctx.MapAfterValue;
    const done = readValue(lx, stack, naming);
    if (done) topDone = afterValue(stack);
  }
}

/**
 * yajl lexes the next token before checking the grammar, so a lexically bad token reports its
 * lexical error; only a well-formed token in the wrong place gets `grammarError`.
 */
function lexThenFail(lx: Lexer, grammarError: string): never {
  const c = lx.peek();
  if (c === 0x22) lx.string();
  else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) lx.number();
  else if (c === 0x74 || c === 0x66 || c === 0x6e) lx.literal();
  else if (c === 0x2f) throw lexical('probable comment found in input text, comments are not enabled.');
  else if (c !== 0x7b && c !== 0x7d && c !== 0x5b && c !== 0x5d && c !== 0x2c && c !== 0x3a) throw lexical('invalid char in json text.');
  throw parse(grammarError);
}

/** After a complete value: true when it completed the top-level value. */
function afterValue(stack: Ctx[]): boolean {
  return stack.length === 0;
}

/**
 * Reads one value at the current position. Scalars are reported at once and return true (the value
 * is complete); '{' and '[' push a container and return false.
 */
function readValue(lx: Lexer, stack: Ctx[], naming: V2Naming): boolean {
  const c = lx.peek();
  switch (c) {
    case 0x7b:
      lx.pos++;
      naming.startMap();
      stack.push(Ctx.MapStart);
      return false;
    case 0x5b:
      lx.pos++;
      naming.startArray();
      stack.push(Ctx.ArrayStart);
      return false;
    case 0x22:
      naming.value(lx.string());
      return true;
    case 0x74:
    case 0x66:
    case 0x6e: {
      const word = lx.literal();
      naming.value(word === 'null' ? '' : word);
      return true;
    }
    case 0x2f:
      throw lexical('probable comment found in input text, comments are not enabled.');
    default:
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        naming.value(lx.number());
        return true;
      }
      if (c === 0x5d || c === 0x7d || c === 0x2c || c === 0x3a) throw parse('unallowed token at this point in JSON text');
      throw lexical('invalid char in json text.');
  }
}

export function parseJson(body: string, limits: BodyLimits): BodyParseResult {
  const result = emptyResult();
  const naming = new V2Naming(limits.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH, limits.maxArgs ?? DEFAULT_MAX_ARGS, result.args);
  try {
    run(body, naming);
  } catch (err) {
    if (!(err instanceof JsonError)) throw err;
    // yajl reports a truncated document from yajl_complete_parse, where v2 says "parser" not "parsing".
    const stage = err.message === 'parse error: premature EOF' ? 'JSON parser error' : 'JSON parsing error';
    result.error = `${stage}: ${err.message}`;
  }
  return result;
}
