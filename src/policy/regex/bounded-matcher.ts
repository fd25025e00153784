/**
 * A backtracking matcher with a step budget, for the few rule patterns that need what RE2 cannot do
 * (lookaround, backreferences, possessive quantifiers, atomic groups, \Z, multiline ^).
 *
 * Why not V8 RegExp for those: V8 backtracks without bound, and its linear-time fallback
 * (--enable-experimental-regexp-engine-on-excessive-backtracks) refuses exactly these constructs, so a
 * request could pin a core. This matcher counts steps like PCRE's match limit (ModSecurity v2's
 * SecPcreMatchLimit): when the budget runs out the result is "no match" and `limitExceeded` is set, which
 * is what ModSecurity v2 does (it sets TX:MSC_PCRE_LIMITS_EXCEEDED and the rule does not match).
 *
 * Semantics follow PCRE: leftmost match, alternatives in order, greedy/lazy/possessive repeats, an
 * iteration of an unbounded repeat that matches the empty string ends the loop.
 */
import { type Node, ByteSet, lookbehindLength } from './pcre-syntax.js';

/** Default budget: about a millisecond of work; comparable to PCRE's match limit in spirit. */
export const DEFAULT_STEP_LIMIT = 200_000;

type Cont = (pos: number) => boolean;
type Matcher = (pos: number, k: Cont) => boolean;

class StepLimitReached { }
const STEP_LIMIT_REACHED = new StepLimitReached();

function tableOf(bits: ByteSet): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) if (bits.has(b)) t[b] = 1;
  return t;
}

const WORD_TABLE = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f) t[b] = 1;
  }
  return t;
})();

export class BoundedMatcher {
  private s = '';
  private steps = 0;
  private caps: Int32Array;
  private readonly root: Matcher;
  private readonly anchoredAtStart: boolean;
  private readonly first: Uint8Array | null;
  /** True when the last test/exec gave up because the step budget ran out. */
  limitExceeded = false;

  constructor(root: Node, readonly groupCount: number, readonly stepLimit = DEFAULT_STEP_LIMIT) {
    this.caps = new Int32Array(2 * (groupCount + 1));
    this.root = this.compile(root);
    this.anchoredAtStart = startsWithStartAnchor(root);
    const first = firstBytes(root);
    this.first = first ? tableOf(first) : null;
  }

  test(s: string): boolean {
    return this.run(s);
  }

  /** [whole match, group 1, …]; undefined for a group that did not participate. */
  exec(s: string): Array<string | undefined> | null {
    if (!this.run(s)) return null;
    const out: Array<string | undefined> = [];
    for (let g = 0; g <= this.groupCount; g++) {
      const a = this.caps[2 * g]!, b = this.caps[2 * g + 1]!;
      out.push(a < 0 ? undefined : s.slice(a, b));
    }
    return out;
  }

  search(s: string, from = 0): { index: number; groups: Array<string | undefined> } | null {
    if (!this.run(s, from)) return null;
    const groups: Array<string | undefined> = [];
    for (let g = 0; g <= this.groupCount; g++) {
      const a = this.caps[2 * g]!, b = this.caps[2 * g + 1]!;
      groups.push(a < 0 ? undefined : s.slice(a, b));
    }
    return { index: this.caps[0]!, groups };
  }

  private run(s: string, from = 0): boolean {
    this.s = s;
    this.steps = 0;
    this.limitExceeded = false;
    const caps = this.caps;
    const last = this.anchoredAtStart ? 0 : s.length;
    const first = this.first;
    try {
      for (let start = from; start <= last; start++) {
        if (first !== null) {
          while (start < s.length && first[s.charCodeAt(start)] !== 1) start++;
          if (start >= s.length) break;
        }
        caps.fill(-1);
        const origin = start;
        if (this.root(start, (end) => { caps[0] = origin; caps[1] = end; return true; })) return true;
      }
      return false;
    } catch (e) {
      // Deep recursion on a huge subject is treated like the step budget: PCRE's recursion limit.
      if (e === STEP_LIMIT_REACHED || e instanceof RangeError) { this.limitExceeded = true; return false; }
      throw e;
    } finally {
      this.s = '';
    }
  }

  private step(): void {
    if (++this.steps > this.stepLimit) throw STEP_LIMIT_REACHED;
  }

  private compile(n: Node): Matcher {
    switch (n.type) {
      case 'set': {
        const t = tableOf(n.bits);
        return (i, k) => {
          this.step();
          return i < this.s.length && t[this.s.charCodeAt(i)] === 1 && k(i + 1);
        };
      }
      case 'seq': {
        const parts = n.items.map((x) => this.compile(x));
        if (parts.length === 0) return (i, k) => k(i);
        return parts.reduceRight<Matcher>((rest, m) => (i, k) => m(i, (j) => rest(j, k)), (i, k) => k(i));
      }
      case 'alt': {
        const alts = n.alternatives.map((x) => this.compile(x));
        return (i, k) => {
          for (const a of alts) { this.step(); if (a(i, k)) return true; }
          return false;
        };
      }
      case 'group': {
        const body = this.compile(n.body);
        if (n.capture === null) return body;
        const g = 2 * n.capture;
        const caps = () => this.caps;
        return (i, k) => body(i, (j) => {
          const c = caps();
          const ps = c[g]!, pe = c[g + 1]!;
          c[g] = i; c[g + 1] = j;
          if (k(j)) return true;
          c[g] = ps; c[g + 1] = pe;
          return false;
        });
      }
      case 'repeat': return this.compileRepeat(n.body, n.min, n.max, n.mode);
      case 'atomic': {
        const body = this.compile(n.body);
        return (i, k) => {
          let end = -1;
          if (!body(i, (j) => { end = j; return true; })) return false;
          return k(end);
        };
      }
      case 'look': {
        if (!n.behind) {
          const body = this.compile(n.body);
          return (i, k) => {
            const matched = body(i, () => true);
            return matched !== n.negate && k(i);
          };
        }
        const alternatives = n.body.type === 'alt' ? n.body.alternatives
          : n.body.type === 'group' && n.body.capture === null && n.body.body.type === 'alt' ? n.body.body.alternatives
            : [n.body];
        const lengths = lookbehindLength(n.body)!;
        const bodies = alternatives.map((a) => this.compile(a));
        return (i, k) => {
          let matched = false;
          for (let a = 0; a < bodies.length && !matched; a++) {
            const from = i - lengths[a]!;
            if (from >= 0 && bodies[a]!(from, (j) => j === i)) matched = true;
          }
          return matched !== n.negate && k(i);
        };
      }
      case 'backref': {
        const g = 2 * n.group;
        const caseless = n.caseless;
        return (i, k) => {
          this.step();
          const a = this.caps[g]!, b = this.caps[g + 1]!;
          if (a < 0) return false; // PCRE: a reference to an unset group fails
          const len = b - a;
          if (i + len > this.s.length) return false;
          for (let x = 0; x < len; x++) {
            let c1 = this.s.charCodeAt(a + x), c2 = this.s.charCodeAt(i + x);
            if (caseless) { if (c1 >= 0x41 && c1 <= 0x5a) c1 += 32; if (c2 >= 0x41 && c2 <= 0x5a) c2 += 32; }
            if (c1 !== c2) return false;
          }
          return k(i + len);
        };
      }
      case 'assert': {
        const s = () => this.s;
        switch (n.kind) {
          case 'start': return (i, k) => i === 0 && k(i);
          case 'end': return (i, k) => i === s().length && k(i);
          case 'endOrFinalNewline': return (i, k) => {
            const len = s().length;
            return (i === len || (i === len - 1 && s().charCodeAt(i) === 10)) && k(i);
          };
          case 'lineStart': return (i, k) => (i === 0 || (s().charCodeAt(i - 1) === 10 && i < s().length)) && k(i);
          case 'lineEnd': return (i, k) => (i === s().length || s().charCodeAt(i) === 10) && k(i);
          case 'wordBoundary':
          case 'notWordBoundary': {
            const want = n.kind === 'wordBoundary';
            return (i, k) => {
              const str = s();
              const before = i > 0 && WORD_TABLE[str.charCodeAt(i - 1)] === 1;
              const after = i < str.length && WORD_TABLE[str.charCodeAt(i)] === 1;
              return ((before !== after) === want) && k(i);
            };
          }
        }
      }
    }
  }

  private compileRepeat(bodyNode: Node, min: number, max: number, mode: 'greedy' | 'lazy' | 'possessive'): Matcher {
    if (bodyNode.type === 'set') {
      // Single-byte body: iterate instead of recursing (no stack growth on long runs).
      const t = tableOf(bodyNode.bits);
      return (i, k) => {
        const s = this.s;
        const limit = max === Infinity ? s.length : Math.min(s.length, i + max);
        if (mode === 'lazy') {
          let j = i;
          while (j < i + min) { if (j >= s.length || t[s.charCodeAt(j)] !== 1) return false; j++; }
          for (;;) {
            this.step();
            if (k(j)) return true;
            if (j >= limit || t[s.charCodeAt(j)] !== 1) return false;
            j++;
          }
        }
        let j = i;
        while (j < limit && t[s.charCodeAt(j)] === 1) j++;
        this.steps += (j - i) >> 3;
        if (j - i < min) return false;
        if (mode === 'possessive') { this.step(); return k(j); }
        for (; j >= i + min; j--) { this.step(); if (k(j)) return true; }
        return false;
      };
    }
    const body = this.compile(bodyNode);
    const greedy: Matcher = (i, k) => {
      const iterate = (pos: number, count: number): boolean => {
        this.step();
        if (count < max && body(pos, (j) => (j === pos ? false : iterate(j, count + 1)))) return true;
        return count >= min && k(pos);
      };
      return iterate(i, 0);
    };
    if (mode === 'greedy') return greedy;
    if (mode === 'possessive') {
      return (i, k) => {
        let end = -1;
        if (!greedy(i, (j) => { end = j; return true; })) return false;
        return k(end);
      };
    }
    return (i, k) => {
      const iterate = (pos: number, count: number): boolean => {
        this.step();
        if (count >= min && k(pos)) return true;
        return count < max && body(pos, (j) => (j === pos ? false : iterate(j, count + 1)));
      };
      return iterate(i, 0);
    };
  }
}

function startsWithStartAnchor(n: Node): boolean {
  switch (n.type) {
    case 'assert': return n.kind === 'start';
    case 'seq': return n.items.length > 0 && startsWithStartAnchor(n.items[0]!);
    case 'group': case 'atomic': return startsWithStartAnchor(n.body);
    case 'alt': return n.alternatives.every(startsWithStartAnchor);
    default: return false;
  }
}

/**
 * Bytes a match can start with, or null when a match may be empty or start with an assertion we do not
 * look through. Used only to skip impossible start positions quickly.
 */
function firstBytes(n: Node): ByteSet | null {
  switch (n.type) {
    case 'set': return n.bits;
    case 'group': case 'atomic': return firstBytes(n.body);
    case 'seq': {
      for (const item of n.items) {
        if (item.type === 'assert' && (item.kind === 'wordBoundary' || item.kind === 'notWordBoundary')) continue;
        return firstBytes(item);
      }
      return null;
    }
    case 'alt': {
      let acc: ByteSet | null = null;
      for (const a of n.alternatives) {
        const f = firstBytes(a);
        if (f === null) return null;
        acc ??= new ByteSet();
        acc.addSet(f);
      }
      return acc;
    }
    case 'repeat': return n.min > 0 ? firstBytes(n.body) : null;
    default: return null;
  }
}
