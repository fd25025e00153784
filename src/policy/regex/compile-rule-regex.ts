/**
 * compileRuleRegex: a SecRule @rx pattern (PCRE as ModSecurity v2 compiles it) → a matcher that request
 * data cannot drive into catastrophic backtracking. The measured reasons for this strategy are in
 * docs/RATIONALE.md ("Regular-expression engine").
 *
 *  1. RE2 (linear time) for every pattern that translates exactly into RE2 syntax — all but a handful
 *     of the CRS patterns.
 *  2. The step-bounded backtracking matcher (bounded-matcher.ts) for the rest: lookaround,
 *     backreferences, possessive quantifiers, atomic groups, \Z, multiline ^.
 * V8 RegExp is never used for rule patterns: it backtracks without bound, and its linear fallback does not
 * accept the constructs that make a pattern leave RE2 in the first place.
 */
import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import { parsePcre, PcreSyntaxError, type Node } from './pcre-syntax.js';
import { toRe2Source, toRe2SupersetSource, toV8Source, UnsupportedConstruct, type V8Translation } from './target-syntax.js';
import { BoundedMatcher, DEFAULT_STEP_LIMIT } from './bounded-matcher.js';
import { requiredLiterals } from './required-literals.js';
import { meetsByteSets, minimumMatchLength, presentBytes, requiredByteSets } from './required-bytes.js';
import { BATCH_MIN_SUBJECT, largeSubjectBytes, type PatternBatch } from './pattern-batch.js';

interface Re2Instance {
  test(s: string): boolean;
  lastIndex: number;
  exec(s: string): (RegExpExecArray & Array<string | undefined>) | null;
}
type Re2Constructor = new (source: string, flags?: string) => Re2Instance;

const require = createRequire(import.meta.url);
let re2Constructor: Re2Constructor | null | undefined;
/** The native re2 module, or null if it is not installed/built (then everything uses the bounded matcher). */
export function loadRe2(): Re2Constructor | null {
  if (re2Constructor === undefined) {
    try { re2Constructor = require('re2') as Re2Constructor; } catch { re2Constructor = null; }
  }
  return re2Constructor;
}

/** 'trivial': a pattern whose answer needs no engine (see trivialRegex). */
export type RegexEngineName = 're2' | 'bounded' | 'trivial';

export interface CompiledRegex {
  readonly engine: RegexEngineName;
  /** The PCRE pattern as written in the rule. */
  readonly pcre: string;
  /** The translated source given to the engine (RE2 syntax, or the PCRE itself for the bounded matcher). */
  readonly source: string;
  readonly groupCount: number;
  /** Why RE2 was not used (null when it was). */
  readonly fallbackReason: string | null;
  /**
   * Lower-case literals one of which every match contains (ASCII case-insensitively), or null. test() and
   * exec() already check them; an engine may also use them to skip whole rules with one scan per value.
   */
  readonly requiredLiterals: readonly string[] | null;
  /**
   * Byte sets (8 words each) such that every match holds a byte of each set, or null (required-bytes.ts).
   * test() and exec() already check them; the engine also uses them to skip values before transforming.
   */
  readonly requiredByteSets: readonly Uint32Array[] | null;
  test(s: string): boolean;
  /** [whole match, group 1, …] (undefined for groups that did not take part), or null. */
  exec(s: string): Array<string | undefined> | null;
  /**
   * Like exec, with the offset of the match, starting the search at `from` while `^`, `\b` and
   * lookbehind still see the bytes before it (PCRE's start_offset).
   */
  search(s: string, from?: number): { index: number; groups: Array<string | undefined> } | null;
  /** True if the last test/exec stopped at the step budget (bounded engine only); the result was "no match". */
  readonly limitExceeded: boolean;
  /**
   * RE2 patterns only: from now on, test() and exec() ask `batch` (which holds this pattern's `source` as
   * member `index`) first on large values, and skip the engine when the batch says it cannot match
   * (pattern-batch.ts). Returns false, and changes nothing, for patterns that cannot join.
   */
  joinBatch?(batch: PatternBatch, index: number): boolean;
  /** True when the pattern's batch says it cannot match `s` (a subject of BATCH_MIN_SUBJECT bytes or more). */
  batchRulesOut?(s: string): boolean;
}

export class RuleRegexError extends Error {
  readonly code = 'ERR_RULE_REGEX';
  constructor(message: string, readonly pcre: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuleRegexError';
  }
}

export interface Translation {
  readonly root: Node;
  readonly groupCount: number;
  /** RE2 source, or the construct that prevents an exact RE2 translation. */
  readonly re2: { source: string } | { unsupported: string };
  /** V8 source, or the construct that prevents an exact V8 translation. */
  readonly v8: V8Translation | { unsupported: string };
}

/** Parses and translates without compiling (used by the strategy benchmark and tests). */
export function translatePcre(pcre: string): Translation {
  let parsed;
  try {
    parsed = parsePcre(pcre);
  } catch (e) {
    if (e instanceof PcreSyntaxError) throw new RuleRegexError(`invalid regular expression: ${e.message}`, pcre, { cause: e });
    throw e;
  }
  const attempt = <T>(f: () => T): T | { unsupported: string } => {
    try { return f(); } catch (e) {
      if (e instanceof UnsupportedConstruct) return { unsupported: e.construct };
      throw e;
    }
  };
  return {
    root: parsed.root,
    groupCount: parsed.groupCount,
    re2: attempt(() => ({ source: toRe2Source(parsed.root) })),
    v8: attempt(() => toV8Source(parsed.root, parsed.groupCount)),
  };
}

/** Bounded-engine result cache: subjects up to this length, this many entries per pattern. */
const MAX_CACHED_SUBJECT = 512;
const MAX_CACHED_RESULTS = 1024;

export interface CompileOptions {
  /** Force an engine (tests, benchmarks). Default: RE2 when exact, else bounded. */
  readonly engine?: RegexEngineName;
  /** Step budget of the bounded matcher. */
  readonly stepLimit?: number;
}

export function compileRuleRegex(pcre: string, options: CompileOptions = {}): CompiledRegex {
  const t = translatePcre(pcre);
  const forced = options.engine === 'bounded';
  const literals = forced ? null : requiredLiterals(t.root);
  const byteSets = forced ? null : requiredByteSets(t.root);
  if (options.engine === undefined) {
    const trivial = trivialRegex(pcre, t);
    if (trivial !== null) return trivial;
  }
  const minLength = forced ? 0 : minimumMatchLength(t.root);
  return withPrefilter(compileTranslation(pcre, t, options), literals, byteSets, minLength);
}

/**
 * Patterns CRS uses for their side effects (capture into TX.0, setvar per value), answered without an
 * engine: `^.*$` matches every value whole (v2 compiles with DOTALL and DOLLAR_ENDONLY), `^$` only the
 * empty one. RE2's exec costs microseconds per matching call; CRS 920450 runs `^.*$` on every header name.
 */
function trivialRegex(pcre: string, t: Translation): CompiledRegex | null {
  const root = t.root;
  if (t.groupCount !== 0 || root.type !== 'seq') return null;
  const items = root.items;
  const first = items[0], last = items[items.length - 1];
  if (first?.type !== 'assert' || first.kind !== 'start' || last?.type !== 'assert' || last.kind !== 'end') return null;
  let everything: boolean;
  if (items.length === 2) everything = false;
  else if (items.length === 3) {
    const mid = items[1]!;
    if (mid.type !== 'repeat' || mid.min !== 0 || mid.max !== Infinity || mid.body.type !== 'set') return null;
    const w = mid.body.bits.words;
    for (let i = 0; i < 8; i++) if (w[i] !== 0xffffffff) return null;
    everything = true;
  } else return null;
  const matches = (s: string) => everything || s.length === 0;
  return {
    engine: 'trivial',
    pcre,
    source: pcre,
    groupCount: 0,
    fallbackReason: null,
    requiredLiterals: null,
    requiredByteSets: null,
    test: matches,
    exec: (s) => (matches(s) ? [s] : null),
    // `^` holds at offset 0 only (no multiline): a search that starts later cannot match.
    search: (s, from = 0) => (from === 0 && matches(s) ? { index: 0, groups: [s] } : null),
    limitExceeded: false,
  };
}

/**
 * What the prefilters need from a value, computed once per distinct value (values repeat across the
 * patterns of a rule set and across requests): the bytes it holds, and its ASCII-lower-cased form.
 */
interface ValueFacts {
  readonly bytes: Uint32Array;
  lower: string | null;
}

/** Values longer than this are not remembered (the memo must not pin request bodies). */
const MAX_MEMO_VALUE = 16 * 1024;
const MAX_MEMO_ENTRIES = 4096;
/**
 * And at most this many characters of remembered values in all: 4096 values of 16 KiB (and their
 * lower-cased forms) would pin over 100 MiB per worker under traffic whose large values never repeat.
 */
const MAX_MEMO_CHARS = 4 * 1024 * 1024;
let memoChars = 0;
const valueFacts = new Map<string, ValueFacts>();
let lastFactsSubject: string | null = null;
let lastFacts: ValueFacts = { bytes: new Uint32Array(8), lower: null };

function factsOf(s: string): ValueFacts {
  if (s === lastFactsSubject) return lastFacts;
  let f = s.length <= MAX_MEMO_VALUE ? valueFacts.get(s) : undefined;
  if (f === undefined) {
    f = { bytes: new Uint32Array(8), lower: null };
    presentBytes(s, f.bytes);
    if (s.length <= MAX_MEMO_VALUE) {
      if (valueFacts.size >= MAX_MEMO_ENTRIES || memoChars + s.length > MAX_MEMO_CHARS) {
        valueFacts.clear();
        memoChars = 0;
      }
      valueFacts.set(s, f);
      memoChars += s.length;
    }
  }
  lastFactsSubject = s;
  lastFacts = f;
  return f;
}

const ASCII_UPPER_RUN = /[A-Z]+/g;
function asciiLowerOf(s: string, f: ValueFacts): string {
  // ASCII only: the literals fold ASCII, and String#toLowerCase would also fold Latin-1 bytes (É → é).
  // No upper-case letter present (bytes 0x41–0x5A: bits 1–26 of word 2): the value is its own lower case.
  if ((f.bytes[2]! & 0x07fffffe) === 0) return (f.lower = s);
  // Without latin1 capitals (0xC0-0xDE: bits 0-30 of word 6) the native lower-casing folds A-Z only.
  if ((f.bytes[6]! & 0x7fffffff) === 0) return (f.lower = s.toLowerCase());
  return (f.lower = s.replace(ASCII_UPPER_RUN, (m) => m.toLowerCase()));
}

/**
 * Puts the prefilters in front of the engine: the minimum match length, the required byte sets (a few
 * word ANDs against the value's byte bitmap), then the required literals (`includes` on the lower-cased
 * value). All are necessary conditions for a match, so a value failing one cannot match and no engine
 * runs.
 */
function withPrefilter(re: CompiledRegex, literals: string[] | null, byteSets: Uint32Array[] | null, minLength: number): CompiledRegex {
  if (literals === null && byteSets === null && minLength <= 1) return re;
  // limitExceeded describes the last call: false when the prefilters alone decided it.
  let engineRan = false;
  const mayMatch = (s: string): boolean => {
    // A value shorter than the shortest possible match cannot match (short values are common).
    if (s.length < minLength) return (engineRan = false);
    const f = factsOf(s);
    if (byteSets !== null && !meetsByteSets(f.bytes, byteSets)) return (engineRan = false);
    // On a large value one set scan answers for the whole batch, where the literal check below would
    // scan the value once per literal of every pattern.
    if (literals !== null && s.length >= BATCH_MIN_SUBJECT && re.batchRulesOut?.(s) === true) return (engineRan = false);
    if (literals !== null) {
      const low = f.lower ?? asciiLowerOf(s, f);
      for (let i = 0; i < literals.length; i++) if (low.includes(literals[i]!)) return (engineRan = true);
      return (engineRan = false);
    }
    return (engineRan = true);
  };
  return {
    engine: re.engine,
    pcre: re.pcre,
    source: re.source,
    groupCount: re.groupCount,
    fallbackReason: re.fallbackReason,
    requiredLiterals: literals,
    requiredByteSets: byteSets,
    test: (s) => mayMatch(s) && re.test(s),
    exec: (s) => (mayMatch(s) ? re.exec(s) : null),
    search: (s, from) => re.search(s, from),
    get limitExceeded() { return engineRan && re.limitExceeded; },
    joinBatch: (batch, index) => re.joinBatch?.(batch, index) ?? false,
    batchRulesOut: (s) => re.batchRulesOut?.(s) ?? false,
  };
}

function compileTranslation(pcre: string, t: Translation, options: CompileOptions): CompiledRegex {
  const RE2 = loadRe2();
  let reason: string | null = null;
  if (options.engine !== 'bounded') {
    if ('source' in t.re2 && RE2 !== null) {
      const source = t.re2.source;
      try {
        return re2Regex(RE2, new RE2(source), pcre, source, t.groupCount);
      } catch (e) {
        // e.g. the program exceeds RE2's memory budget: keep going with the bounded matcher.
        reason = `RE2 rejected the translation: ${(e as Error).message}`;
      }
    } else {
      reason = RE2 === null ? 'the re2 module is not available' : `uses ${(t.re2 as { unsupported: string }).unsupported}`;
    }
    if (options.engine === 're2') throw new RuleRegexError(`cannot compile with RE2: ${reason}`, pcre);
  } else {
    reason = 'bounded engine requested';
  }
  const matcher = new BoundedMatcher(t.root, t.groupCount, options.stepLimit ?? DEFAULT_STEP_LIMIT);
  // RE2 first on a superset of the pattern: most values cannot match it, and then the backtracking
  // matcher never runs (linear time for them). Forced-bounded compilation (tests, benchmarks) skips it.
  let prefilter: Re2Instance | null = null;
  if (options.engine !== 'bounded' && RE2 !== null) {
    try { prefilter = new RE2(toRe2SupersetSource(t.root)); } catch { prefilter = null; }
  }
  const mayMatch = (s: string) => prefilter === null || (s.length < 16 ? prefilter.test(s) : prefilter.test(utf8Of(s) as unknown as string));
  // Short values repeat across requests (the Accept header that CRS 920600 checks at PL1 is the same for
  // every request of a browser), and the answer is a pure function of the value: remember recent ones.
  const recent = new Map<string, boolean>();
  const test = (s: string): boolean => {
    matcher.limitExceeded = false;
    const cacheable = s.length <= MAX_CACHED_SUBJECT;
    if (cacheable) {
      const known = recent.get(s);
      if (known !== undefined) return known;
    }
    const result = mayMatch(s) && matcher.test(s);
    if (cacheable && !matcher.limitExceeded) {
      if (recent.size >= MAX_CACHED_RESULTS) recent.clear();
      recent.set(s, result);
    }
    return result;
  };
  return {
    engine: 'bounded',
    pcre,
    source: pcre,
    groupCount: t.groupCount,
    fallbackReason: reason,
    requiredLiterals: null,
    requiredByteSets: null,
    test,
    exec: (s) => { matcher.limitExceeded = false; return mayMatch(s) ? matcher.exec(s) : null; },
    search: (s, from) => matcher.search(s, from),
    get limitExceeded() { return matcher.limitExceeded; },
  };
}

/*
 * node-re2 converts a string argument to UTF-8 on every call. Rules run many patterns over the same
 * values (the raw value and its transformed forms, which the engine caches), so test() converts each
 * subject once and keeps the last few conversions; the conversion, not the DFA, is most of an RE2 call
 * on a 2 KB body. A latin1 byte string's UTF-8 form is what RE2 matches code point by code point, so
 * results are identical; for ASCII the latin1 copy is that form already (and cheaper to make).
 */
/** exec() results remembered per RE2 pattern: matching subjects up to this length, this many at most. */
const MAX_REMEMBERED_EXEC_SUBJECT = 256;
const MAX_REMEMBERED_EXEC = 256;
const SUBJECT_RING = 8;
/** Longer subjects are converted on every call (the ring must not pin large bodies). */
const MAX_RING_SUBJECT = 64 * 1024;
const ringSubjects: (string | null)[] = new Array<string | null>(SUBJECT_RING).fill(null);
const ringBuffers: Buffer[] = new Array<Buffer>(SUBJECT_RING).fill(Buffer.alloc(0));
let ringNext = 0;
function utf8Of(s: string): Buffer {
  // Large subjects have their own, larger ring (a request's body and long arguments, all their forms).
  if (s.length >= BATCH_MIN_SUBJECT) return largeSubjectBytes(s);
  for (let i = 0; i < SUBJECT_RING; i++) if (ringSubjects[i] === s) return ringBuffers[i]!;
  let b = Buffer.from(s, 'latin1');
  if (!isAscii(b)) b = Buffer.from(s, 'utf8');
  if (s.length <= MAX_RING_SUBJECT) {
    ringSubjects[ringNext] = s;
    ringBuffers[ringNext] = b;
    ringNext = (ringNext + 1) % SUBJECT_RING;
  }
  return b;
}

function re2Regex(RE2: Re2Constructor, re: Re2Instance, pcre: string, source: string, groupCount: number): CompiledRegex {
  // A second, global-flag instance serves search(from) (lastIndex); only @verifyCC/SSN/CPF need it.
  let global: Re2Instance | null = null;
  // Set by joinBatch: on large values one RE2.Set scan answers for every member (pattern-batch.ts).
  let batch: PatternBatch | null = null;
  let member = 0;
  let recentMatches: Map<string, Array<string | undefined>> | null = null;
  const rulesOut = (s: string): boolean => batch !== null && s.length >= BATCH_MIN_SUBJECT && !batch.mayMatch(member, s);
  const test = (s: string): boolean => {
    if (s.length < 16) return re.test(s);
    if (rulesOut(s)) return false;
    return re.test(utf8Of(s) as unknown as string);
  };
  return {
    engine: 're2',
    pcre,
    source,
    groupCount,
    fallbackReason: null,
    requiredLiterals: null,
    requiredByteSets: null,
    test,
    exec: (s) => {
      // Asking for submatches makes RE2 leave its DFA; most values do not match, so ask the DFA first.
      if (!test(s)) return null;
      // Matches of short values are remembered (a pure function of the value): CRS 920420 captures the
      // Content-Type of every request with a body, and RE2's submatch search costs microseconds.
      const remember = s.length <= MAX_REMEMBERED_EXEC_SUBJECT;
      if (remember) {
        const known = recentMatches?.get(s);
        if (known !== undefined) return known;
      }
      const m = re.exec(s);
      if (m === null) return null;
      const out: Array<string | undefined> = [];
      for (let g = 0; g <= groupCount; g++) out.push(m[g]);
      if (remember) {
        recentMatches ??= new Map();
        if (recentMatches.size >= MAX_REMEMBERED_EXEC) recentMatches.clear();
        recentMatches.set(s, Object.freeze(out) as Array<string | undefined>);
      }
      return out;
    },
    search: (s, from = 0) => {
      global ??= new RE2(source, 'g');
      global.lastIndex = from;
      const m = global.exec(s);
      if (m === null) return null;
      const groups: Array<string | undefined> = [];
      for (let g = 0; g <= groupCount; g++) groups.push(m[g]);
      return { index: m.index, groups };
    },
    limitExceeded: false,
    joinBatch: (b, index) => {
      batch = b;
      member = index;
      return true;
    },
    batchRulesOut: rulesOut,
  };
}
