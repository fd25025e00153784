/**
 * Case-insensitive multi-phrase search over byte strings (Aho-Corasick), as ModSecurity v2's ACMP does for
 * @pm / @pmFromFile: the scan stops at the first position where some phrase ends and reports the longest
 * phrase ending there. Case folding is ASCII only (C locale tolower), like ACMP.
 *
 * The automaton is a full DFA over byte classes: bytes that occur in no phrase share class 0, so the table
 * is (states × distinct phrase bytes) rather than (states × 256). Built once at load time; a scan is one
 * table lookup per input byte and allocates nothing.
 */

function fold(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 32 : b;
}

/**
 * A case-folded Aho-Corasick DFA over byte classes, as PhraseSet and PhraseBatch scan with it. Each
 * phrase carries a value; a state's value combines the values of the phrases ending in it (`own`) and
 * then those of its suffix state (`inherit`), so a scan that reaches a state sees every phrase ending
 * there. `table` entries are the next state's row offset (state × classCount), or -(offset + 1) when
 * that state's value is not `none`: a scan step is one lookup and one sign test per byte.
 */
export interface PhraseAutomaton {
  readonly classOf: Uint8Array;
  readonly classCount: number;
  readonly table: Int32Array;
  /** Per state. */
  readonly values: Int32Array;
}

/**
 * Builds the automaton, or returns null when the phrases use more than 255 distinct (folded) bytes or
 * the table would exceed `maxEntries`.
 */
export function buildPhraseAutomaton(
  phrases: readonly string[],
  valueOf: (phraseIndex: number) => number,
  none: number,
  own: (current: number, phraseValue: number) => number,
  inherit: (ownValue: number, suffixValue: number) => number,
  maxEntries = Infinity,
): PhraseAutomaton | null {
  const classOf = new Uint8Array(256);
  const classOfFolded = new Int32Array(256);
  let classes = 1;
  let length = 0;
  for (const p of phrases) {
    length += p.length;
    for (let i = 0; i < p.length; i++) {
      const b = fold(p.charCodeAt(i) & 0xff);
      if (classOfFolded[b] === 0) classOfFolded[b] = classes++;
    }
  }
  if (classes > 255 || (length + 1) * classes > maxEntries) return null;
  for (let b = 0; b < 256; b++) classOf[b] = classOfFolded[fold(b)]!;
  const C = classes;
  // Trie (goto function); a trie has at most one state per phrase byte, plus the root.
  const go = new Int32Array((length + 1) * C).fill(-1);
  const ownValues = new Int32Array(length + 1).fill(none);
  let states = 1;
  for (let pi = 0; pi < phrases.length; pi++) {
    const p = phrases[pi]!;
    let s = 0;
    for (let i = 0; i < p.length; i++) {
      const c = classOf[p.charCodeAt(i) & 0xff]!;
      let t = go[s * C + c]!;
      if (t < 0) go[s * C + c] = t = states++;
      s = t;
    }
    ownValues[s] = own(ownValues[s]!, valueOf(pi));
  }
  // BFS: failure links folded into a complete DFA; values inherit the suffix state's value.
  const delta = new Int32Array(states * C);
  const values = new Int32Array(states);
  const fail = new Int32Array(states);
  const queue = new Int32Array(states);
  let head = 0;
  let tail = 0;
  values[0] = ownValues[0]!;
  for (let c = 0; c < C; c++) {
    const t = go[c]!;
    if (t > 0) {
      delta[c] = t;
      fail[t] = 0;
      queue[tail++] = t;
    }
  }
  while (head < tail) {
    const s = queue[head++]!;
    values[s] = inherit(ownValues[s]!, values[fail[s]!]!);
    for (let c = 0; c < C; c++) {
      const t = go[s * C + c]!;
      if (t > 0) {
        fail[t] = delta[fail[s]! * C + c]!;
        delta[s * C + c] = t;
        queue[tail++] = t;
      } else {
        delta[s * C + c] = delta[fail[s]! * C + c]!;
      }
    }
  }
  for (let i = 0; i < delta.length; i++) {
    const t = delta[i]!;
    delta[i] = values[t] !== none ? -(t * C) - 1 : t * C;
  }
  return { classOf, classCount: C, table: delta, values };
}

export class PhraseSet {
  private readonly classOf: Uint8Array;
  private readonly classCount: number;
  /** The DFA by row offsets, accepting targets negated (PhraseAutomaton). */
  private readonly table: Int32Array;
  /** Phrase index reported in each state (longest phrase ending here, via suffix links), or -1. */
  private readonly output: Int32Array;
  readonly phrases: readonly string[];

  constructor(phrases: readonly string[]) {
    const list = [...new Set(phrases.filter((p) => p.length > 0))];
    this.phrases = list;
    // A state's own phrase is the longest ending there (the deepest); without one, its suffix state's.
    const a = buildPhraseAutomaton(list, (pi) => pi, -1, (_current, pi) => pi, (ownPhrase, suffix) => (ownPhrase >= 0 ? ownPhrase : suffix));
    if (a === null) throw new Error('phrase set uses too many distinct bytes');
    this.classOf = a.classOf;
    this.classCount = a.classCount;
    this.table = a.table;
    this.output = a.values;
  }

  /** The phrase (as written) found first in `s`, or null. */
  search(s: string): string | null {
    if (this.phrases.length === 0) return null;
    const table = this.table, classOf = this.classOf;
    let row = 0;
    for (let i = 0; i < s.length; i++) {
      row = table[row + classOf[s.charCodeAt(i) & 0xff]!]!;
      if (row < 0) return this.phrases[this.output[(-row - 1) / this.classCount]!]!;
    }
    return null;
  }
}

/**
 * ModSecurity v2's parse_pm_content(): strips one pair of surrounding double quotes, turns |hex| sections
 * into bytes (spaces inside ignored) and the escapes \: \; \\ \" into the character. When nothing was
 * converted the text is returned unchanged (so a lone '|' stays). Throws on an unsupported escape or an
 * empty result, where v2 reports an error.
 */
export function parsePmContent(text: string): string {
  let offset = 0;
  while (offset < text.length && /[ \t\n\v\f\r]/.test(text[offset]!)) offset++;
  let parm = text.length > offset + 1 && text[offset] === '"' && text[text.length - 1] === '"'
    ? text.slice(offset + 1, text.length - 1)
    : text.slice(offset);
  if (parm.length === 0) throw new Error('content length is 0');
  let out = '';
  let bin = false, esc = false, converted = false;
  let hex = '';
  for (let i = 0; i < parm.length; i++) {
    const ch = parm[i]!;
    if (ch === '|') { bin = !bin; continue; }
    if (!esc && ch === '\\') { esc = true; continue; }
    if (bin) {
      if (/[0-9A-Fa-f]/.test(ch)) {
        hex += ch;
        if (hex.length === 2) { out += String.fromCharCode(parseInt(hex, 16)); hex = ''; converted = true; }
      }
      continue;
    }
    if (esc) {
      if (ch === ':' || ch === ';' || ch === '\\' || ch === '"') out += ch;
      else throw new Error(`unsupported escape sequence "\\${ch}"`);
      esc = false;
      converted = true;
      continue;
    }
    out += ch;
  }
  if (!converted) return parm;
  parm = out;
  return parm;
}
