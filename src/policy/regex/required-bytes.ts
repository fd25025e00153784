/**
 * Required byte sets of a pattern: sets S1…Sk such that every match contains at least one byte of each
 * Si. A value that lacks every byte of some Si cannot match, whatever the engine. Most CRS attack patterns
 * need a byte that benign values rarely hold (a quote, `<`, `(`, `;`, `$`, `|` …), so one bitmap of the
 * value's bytes, computed once per value, rejects most (pattern, value) pairs with a few word ANDs — far
 * cheaper than a call into RE2, and it also covers the patterns without required literals.
 *
 * Conservative like required-literals.ts: zero-width parts, backreferences and optional parts require
 * nothing; an alternation requires the union of one set per branch.
 */
import type { Node } from './pcre-syntax.js';

/** At most this many sets are checked per pattern (the rarest ones). */
const MAX_SETS = 3;

/** Bytes that benign text is full of; a set holding them rarely rejects anything. */
function commonness(b: number): number {
  if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) return 16;
  if (b === 0x20 || b === 0x2e || b === 0x2d || b === 0x5f || b === 0x2f || b === 0x2c || b === 0x3d) return 8;
  if (b === 0x3b || b === 0x3a || b === 0x28 || b === 0x29 || b === 0x2b || b === 0x25 || b === 0x26) return 4;
  return 1;
}

/** How likely a benign value holds some byte of the set (relative; lower is more selective). */
function cost(words: Uint32Array): number {
  let c = 0;
  for (let b = 0; b < 256; b++) if ((words[b >>> 5]! & (1 << (b & 31))) !== 0) c += commonness(b);
  return c;
}

/** Above this, a set of punctuation is likely present in benign text anyway. */
const MAX_USEFUL_COST = 24;
const ALNUM_WORDS = (() => {
  const w = new Uint32Array(8);
  for (let b = 0; b < 256; b++) if (commonness(b) === 16) w[b >>> 5]! |= 1 << (b & 31);
  return w;
})();

function holdsAlnum(words: Uint32Array): boolean {
  for (let i = 0; i < 8; i++) if ((words[i]! & ALNUM_WORDS[i]!) !== 0) return true;
  return false;
}

/** True when a required set is worth checking: no letter or digit, and few common separators. */
function worthChecking(words: Uint32Array): boolean {
  return cost(words) <= MAX_USEFUL_COST && !holdsAlnum(words);
}

/**
 * Required bytes of a phrase list (@pm, @pmFromFile: a match contains one whole phrase): the union of
 * each phrase's rarest byte, in both ASCII cases (phrase matching folds case). Null when some phrase
 * consists of letters and digits only, or the union is too common to reject anything.
 */
export function phrasesRequiredBytes(phrases: readonly string[]): Uint32Array[] | null {
  if (phrases.length === 0) return null;
  const acc = new Uint32Array(8);
  for (const p of phrases) {
    if (p.length === 0) return null;
    let best = -1;
    let bestCost = Infinity;
    for (let i = 0; i < p.length; i++) {
      const b = p.charCodeAt(i) & 0xff;
      const c = commonness(b);
      if (c < bestCost) { best = b; bestCost = c; }
    }
    acc[best >>> 5]! |= 1 << (best & 31);
    const other = best >= 0x41 && best <= 0x5a ? best + 32 : best >= 0x61 && best <= 0x7a ? best - 32 : best;
    acc[other >>> 5]! |= 1 << (other & 31);
  }
  return worthChecking(acc) ? [acc] : null;
}

function union(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(8);
  for (let i = 0; i < 8; i++) out[i] = a[i]! | b[i]!;
  return out;
}

function cheapest(sets: readonly Uint32Array[]): Uint32Array {
  let best = sets[0]!;
  let bestCost = cost(best);
  for (let i = 1; i < sets.length; i++) {
    const c = cost(sets[i]!);
    if (c < bestCost) { best = sets[i]!; bestCost = c; }
  }
  return best;
}

/** Conjunction of requirements of a node ([] = none known). */
function analyze(n: Node): Uint32Array[] {
  switch (n.type) {
    case 'set':
      return [n.bits.words];
    case 'assert':
    case 'look':
    case 'backref':
      return [];
    case 'group':
    case 'atomic':
      return analyze(n.body);
    case 'repeat':
      return n.min === 0 ? [] : analyze(n.body);
    case 'seq': {
      const out: Uint32Array[] = [];
      for (const item of n.items) for (const s of analyze(item)) out.push(s);
      return out;
    }
    case 'alt': {
      let acc: Uint32Array | null = null;
      for (const a of n.alternatives) {
        const req = analyze(a);
        if (req.length === 0) return [];
        const pick = cheapest(req);
        acc = acc === null ? pick : union(acc, pick);
      }
      return acc === null ? [] : [acc];
    }
  }
}

/**
 * The most selective required byte sets of a pattern (8 words each, bit b = byte b), or null when no
 * useful requirement exists (the pattern can match without consuming a byte, or only common bytes are
 * required).
 */
export function requiredByteSets(root: Node): Uint32Array[] | null {
  const all = analyze(root);
  const scored: Array<{ words: Uint32Array; cost: number; key: string }> = [];
  const seen = new Set<string>();
  for (const words of all) {
    const key = Array.from(words).join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const c = cost(words);
    // A set holding a letter or digit (or several common separators) is in almost every value.
    if (!worthChecking(words)) continue;
    scored.push({ words, cost: c, key });
  }
  if (scored.length === 0) return null;
  scored.sort((a, b) => a.cost - b.cost);
  return scored.slice(0, MAX_SETS).map((s) => Uint32Array.from(s.words));
}

/**
 * The bytes present in a value, as 8 words. A char above 0xFF (not a byte string) sets every bit, so the
 * check degrades to "may match" instead of giving a wrong answer.
 */
export function presentBytes(s: string, into: Uint32Array): Uint32Array {
  // A loop, not fill(0): the builtin call costs more than clearing eight words (per entry, per request).
  for (let w = 0; w < into.length; w++) into[w] = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return into.fill(0xffffffff);
    into[c >>> 5]! |= 1 << (c & 31);
  }
  return into;
}

/** True when the value's bytes meet every required set. */
export function meetsByteSets(present: Uint32Array, sets: readonly Uint32Array[]): boolean {
  for (let k = 0; k < sets.length; k++) {
    const s = sets[k]!;
    if (
      (present[0]! & s[0]!) === 0 && (present[1]! & s[1]!) === 0 && (present[2]! & s[2]!) === 0 && (present[3]! & s[3]!) === 0 &&
      (present[4]! & s[4]!) === 0 && (present[5]! & s[5]!) === 0 && (present[6]! & s[6]!) === 0 && (present[7]! & s[7]!) === 0
    ) return false;
  }
  return true;
}

/** The fewest bytes any match spans (zero-width parts and backreferences count 0). */
export function minimumMatchLength(n: Node): number {
  switch (n.type) {
    case 'set':
      return 1;
    case 'assert':
    case 'look':
    case 'backref':
      return 0;
    case 'group':
    case 'atomic':
      return minimumMatchLength(n.body);
    case 'repeat':
      return n.min === 0 ? 0 : Math.min(1 << 20, n.min * minimumMatchLength(n.body));
    case 'seq': {
      let total = 0;
      for (const item of n.items) total += minimumMatchLength(item);
      return total;
    }
    case 'alt': {
      let least = Infinity;
      for (const a of n.alternatives) least = Math.min(least, minimumMatchLength(a));
      return least === Infinity ? 0 : least;
    }
  }
}
