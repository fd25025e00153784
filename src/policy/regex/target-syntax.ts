/**
 * Emits the byte-level syntax tree (pcre-syntax.ts) as source text for RE2 and for V8 RegExp.
 *
 * Both targets run on latin1 JavaScript strings (one char per byte, all < 0x100), so a byte b is the
 * code point U+00bb in either engine. Sets are emitted as explicit ranges with ASCII case folding already
 * applied: no `i` flag is ever used, because both engines would then fold some Latin-1 letters (é/É) that
 * PCRE without UTF-8 keeps apart.
 */
import type { Node, ByteSet } from './pcre-syntax.js';

export class UnsupportedConstruct extends Error {
  readonly code = 'ERR_REGEX_UNSUPPORTED_CONSTRUCT';
  constructor(readonly target: 're2' | 'v8', readonly construct: string) {
    super(`${construct} cannot be expressed exactly in ${target === 're2' ? 'RE2' : 'V8 RegExp'}`);
    this.name = 'UnsupportedConstruct';
  }
}

/** RE2 rejects counted repetition above 1000. */
const RE2_MAX_REPEAT = 1000;

function hex2(b: number): string { return b.toString(16).padStart(2, '0'); }

function isPlainAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function charText(b: number, target: 're2' | 'v8'): string {
  if (isPlainAlnum(b)) return String.fromCharCode(b);
  return target === 're2' ? `\\x{${hex2(b)}}` : `\\x${hex2(b)}`;
}

function setText(bits: ByteSet, target: 're2' | 'v8'): string {
  const count = bits.count();
  if (count === 1) return charText(bits.ranges()[0]![0], target);
  if (count === 256) return target === 're2' ? '(?s:.)' : '[^]';
  // A negated class is shorter when most bytes are members; it would also match chars ≥ 0x100, which a
  // byte string never holds.
  const negate = count > 128;
  const ranges = (negate ? bits.negated() : bits).ranges();
  let body = '';
  for (const [lo, hi] of ranges) {
    body += charText(lo, target);
    if (hi > lo) body += (hi > lo + 1 ? '-' : '') + charText(hi, target);
  }
  return `[${negate ? '^' : ''}${body}]`;
}

function quantifierText(min: number, max: number): string {
  if (min === 0 && max === Infinity) return '*';
  if (min === 1 && max === Infinity) return '+';
  if (min === 0 && max === 1) return '?';
  if (min === max) return `{${min}}`;
  return max === Infinity ? `{${min},}` : `{${min},${max}}`;
}

/** RE2 source; throws UnsupportedConstruct for what RE2 cannot match with PCRE's exact semantics. */
export function toRe2Source(root: Node): string {
  return re2Source(root, false);
}

/**
 * An RE2 pattern that matches a SUPERSET of what the PCRE matches (for a `test` prefilter): every
 * construct RE2 lacks is replaced by something that accepts at least as much — lookaround and the
 * assertions RE2 cannot express become empty, a backreference becomes "any bytes", possessive and atomic
 * become ordinary greedy groups, repetition counts above RE2's limit become unbounded. If the superset does
 * not match, the exact pattern cannot match either.
 */
export function toRe2SupersetSource(root: Node): string {
  return re2Source(root, true);
}

function re2Source(root: Node, superset: boolean): string {
  const emit = (n: Node): string => {
    switch (n.type) {
      case 'set': return setText(n.bits, 're2');
      case 'seq': return n.items.map(emit).join('');
      case 'alt': return n.alternatives.map(emit).join('|');
      case 'group': return n.capture === null ? `(?:${emit(n.body)})` : `(${emit(n.body)})`;
      case 'repeat': {
        if (n.mode === 'possessive' && !superset) throw new UnsupportedConstruct('re2', 'a possessive quantifier');
        if (n.min > RE2_MAX_REPEAT || (n.max !== Infinity && n.max > RE2_MAX_REPEAT)) {
          if (!superset) throw new UnsupportedConstruct('re2', `a counted repetition above ${RE2_MAX_REPEAT}`);
          return `(?:${emit(n.body)})${quantifierText(Math.min(n.min, RE2_MAX_REPEAT), Infinity)}`;
        }
        return `(?:${emit(n.body)})${quantifierText(n.min, n.max)}${n.mode === 'lazy' ? '?' : ''}`;
      }
      case 'atomic':
        if (superset) return `(?:${emit(n.body)})`;
        throw new UnsupportedConstruct('re2', 'an atomic group');
      case 'look':
        if (superset) return '';
        throw new UnsupportedConstruct('re2', n.behind ? 'a lookbehind' : 'a lookahead');
      case 'backref':
        if (superset) return '(?s:.)*';
        throw new UnsupportedConstruct('re2', 'a backreference');
      case 'assert':
        switch (n.kind) {
          case 'start': return '\\A';
          case 'end': return '\\z';
          case 'lineEnd': return '(?m:$)';
          case 'wordBoundary': return '\\b';
          case 'notWordBoundary': return '\\B';
          // RE2's (?m)^ also matches after a final "\n"; PCRE's does not.
          case 'lineStart': if (superset) return ''; throw new UnsupportedConstruct('re2', 'a multiline ^');
          case 'endOrFinalNewline': if (superset) return ''; throw new UnsupportedConstruct('re2', '\\Z');
        }
    }
  };
  return emit(root);
}

export interface V8Translation {
  readonly source: string;
  /** groupIndex[n] = index of PCRE group n in the V8 match array (helper groups are interleaved). */
  readonly groupIndex: readonly number[];
  /** True if the pattern only uses what V8's linear-time engine (the `l` flag) accepts. */
  readonly linearCandidate: boolean;
}

/**
 * V8 source (no flags needed). Atomic groups and possessive quantifiers use the classic emulation
 * `(?=(X))\k` — a lookahead is atomic in JavaScript, and the backreference consumes what it matched.
 */
export function toV8Source(root: Node, groupCount: number): V8Translation {
  // Pass 1: number the groups in emission order (helper groups for atomics included).
  const groupIndex: number[] = new Array(groupCount + 1).fill(0);
  let next = 0;
  let linear = true;
  const number = (n: Node): void => {
    switch (n.type) {
      case 'group': if (n.capture !== null) groupIndex[n.capture] = ++next; number(n.body); break;
      case 'atomic': next++; number(n.body); linear = false; break;
      case 'repeat':
        if (n.mode === 'possessive') { next++; linear = false; }
        number(n.body); break;
      case 'seq': n.items.forEach(number); break;
      case 'alt': n.alternatives.forEach(number); break;
      case 'look': linear = false; number(n.body); break;
      case 'backref': linear = false; break;
      default: break;
    }
  };
  number(root);
  let helper = 0;
  const helperIndex: number[] = [];
  // Pass 2 assigns helper numbers in the same order.
  const assign = (n: Node): void => {
    switch (n.type) {
      case 'group': if (n.capture !== null) helper++; assign(n.body); break;
      case 'atomic': helperIndex.push(++helper); assign(n.body); break;
      case 'repeat': if (n.mode === 'possessive') helperIndex.push(++helper); assign(n.body); break;
      case 'seq': n.items.forEach(assign); break;
      case 'alt': n.alternatives.forEach(assign); break;
      case 'look': assign(n.body); break;
      default: break;
    }
  };
  assign(root);
  let helperCursor = 0;
  const backrefText = (index: number) => `(?:\\${index})`;
  const emit = (n: Node): string => {
    switch (n.type) {
      case 'set': return setText(n.bits, 'v8');
      case 'seq': return n.items.map(emit).join('');
      case 'alt': return n.alternatives.map(emit).join('|');
      case 'group': return n.capture === null ? `(?:${emit(n.body)})` : `(${emit(n.body)})`;
      case 'repeat': {
        if (n.mode === 'possessive') {
          const h = helperIndex[helperCursor++]!;
          return `(?=(${`(?:${emit(n.body)})${quantifierText(n.min, n.max)}`}))${backrefText(h)}`;
        }
        return `(?:${emit(n.body)})${quantifierText(n.min, n.max)}${n.mode === 'lazy' ? '?' : ''}`;
      }
      case 'atomic': {
        const h = helperIndex[helperCursor++]!;
        return `(?=(${emit(n.body)}))${backrefText(h)}`;
      }
      case 'look': return `(?${n.behind ? '<' : ''}${n.negate ? '!' : '='}${emit(n.body)})`;
      case 'backref':
        if (n.caseless) throw new UnsupportedConstruct('v8', 'a case-insensitive backreference (only ASCII may fold)');
        return backrefText(groupIndex[n.group]!);
      case 'assert':
        switch (n.kind) {
          case 'start': return '^';
          case 'end': return '$';
          case 'lineStart': return '(?:^|(?<=\\n)(?!$))';
          case 'lineEnd': return '(?=\\n|$)';
          case 'endOrFinalNewline': return '(?=\\n?$)';
          case 'wordBoundary': return '\\b';
          case 'notWordBoundary': return '\\B';
        }
    }
  };
  return { source: emit(root), groupIndex, linearCandidate: linear };
}
