/**
 * Required literals of a pattern: a set of strings such that every match contains at least one of them
 * (compared case-insensitively). If none of them occurs in a value, the pattern cannot match and no regex
 * engine needs to run. CRS patterns are mostly alternations of keywords, so this rejects most benign values
 * with a few native `includes` calls on the lower-cased value.
 *
 * The analysis is conservative (a superset argument, like RE2's prefilter): anything it cannot reason about
 * yields "no requirement" (null), never a wrong requirement. Lookaround and assertions are zero-width and
 * neutral; backreferences and optional parts impose nothing.
 */
import type { Node, ByteSet } from './pcre-syntax.js';

/** Limits that keep the analysis cheap and the resulting checks few. */
const MAX_EXACT = 16;
const MAX_LITERALS = 24;
const MIN_USEFUL_LENGTH = 3;

interface Info {
  /** Every string the node can match (lower-cased), when that set is small; null otherwise. */
  exact: Set<string> | null;
  /** Literals one of which every match contains; null = no requirement known. */
  match: Set<string> | null;
}

function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 32 : b;
}

/** The set's members as lower-cased one-byte strings, when there are few. */
function setStrings(bits: ByteSet): Set<string> | null {
  const out = new Set<string>();
  for (let b = 0; b < 256; b++) {
    if (!bits.has(b)) continue;
    out.add(String.fromCharCode(lower(b)));
    if (out.size > 4) return null;
  }
  return out;
}

function cross(a: Set<string>, b: Set<string>): Set<string> | null {
  if (a.size * b.size > MAX_EXACT) return null;
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return out;
}

function minLength(s: Set<string>): number {
  let m = Infinity;
  for (const x of s) m = Math.min(m, x.length);
  return m;
}

/** Better requirement = longer shortest literal, then fewer literals. */
function better(a: Set<string> | null, b: Set<string> | null): Set<string> | null {
  if (a === null) return b;
  if (b === null) return a;
  const la = minLength(a), lb = minLength(b);
  if (la !== lb) return la > lb ? a : b;
  return a.size <= b.size ? a : b;
}

function usable(s: Set<string> | null): Set<string> | null {
  if (s === null || s.size === 0 || s.size > MAX_LITERALS || minLength(s) < 1) return null;
  return s;
}

/** Removes literals that contain another literal of the set (the shorter one already implies them). */
function simplify(s: Set<string>): Set<string> {
  const list = [...s].sort((x, y) => x.length - y.length);
  const kept: string[] = [];
  for (const x of list) if (!kept.some((k) => x.includes(k))) kept.push(x);
  return new Set(kept);
}

function analyze(n: Node): Info {
  switch (n.type) {
    case 'set': {
      const e = setStrings(n.bits);
      return { exact: e, match: e };
    }
    case 'assert':
    case 'look':
      return { exact: new Set(['']), match: null };
    case 'backref':
      return { exact: null, match: null };
    case 'group':
    case 'atomic':
      return analyze(n.body);
    case 'alt': {
      const infos = n.alternatives.map(analyze);
      let exact: Set<string> | null = new Set();
      for (const i of infos) {
        if (exact === null || i.exact === null) { exact = null; break; }
        for (const x of i.exact) exact.add(x);
        if (exact.size > MAX_EXACT) exact = null;
      }
      let match: Set<string> | null = new Set();
      for (const i of infos) {
        const m = usable(i.match);
        if (m === null || match === null) { match = null; break; }
        for (const x of m) match.add(x);
      }
      if (match !== null && (match.size > MAX_LITERALS || match.has(''))) match = null;
      return { exact, match: match === null ? null : simplify(match) };
    }
    case 'repeat': {
      if (n.min === 0) return { exact: null, match: null };
      const body = analyze(n.body);
      if (n.min === 1 && n.max === 1) return body;
      // x{n,…} with a small exact body: its n-fold product is required (e.g. "\.\." from "\.{2,}").
      let required: Set<string> | null = body.exact;
      for (let k = 1; k < n.min && required !== null; k++) required = cross(required, body.exact!);
      return { exact: n.min === n.max ? required : null, match: better(usable(required), usable(body.match)) };
    }
    case 'seq': {
      const infos = n.items.map(analyze);
      let best: Set<string> | null = null;
      let run: Set<string> | null = new Set(['']);
      let whole: Set<string> | null = new Set(['']);
      for (const i of infos) {
        best = better(best, usable(i.match));
        if (i.exact !== null) {
          run = run === null ? i.exact : cross(run, i.exact) ?? i.exact;
          whole = whole === null ? null : cross(whole, i.exact);
        } else {
          run = null;
          whole = null;
        }
        if (run !== null && !run.has('')) best = better(best, usable(run));
      }
      return { exact: whole, match: best };
    }
  }
}

/**
 * A two-byte literal is still worth a check when it holds a byte other than a letter or digit ("..",
 * "<?", "#!", "{{"): two-letter words ("or", "if") are everywhere in text, these are not.
 */
function rareEnough(l: string): boolean {
  if (l.length !== 2) return false;
  for (let i = 0; i < 2; i++) {
    const c = l.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a))) return true;
  }
  return false;
}

/**
 * Lower-cased literals one of which every match must contain, or null when no useful requirement exists
 * (some match could avoid every literal, or the literals are too short to be worth checking).
 */
export function requiredLiterals(root: Node): string[] | null {
  const m = usable(analyze(root).match);
  if (m === null) return null;
  const s = simplify(m);
  for (const l of s) if (l.length < MIN_USEFUL_LENGTH && !rareEnough(l)) return null;
  return [...s];
}
