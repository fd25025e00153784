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

export class PhraseSet {
  private readonly classOf = new Uint8Array(256);
  private readonly classCount: number;
  /** The DFA by row offsets, accepting targets negated (see the constructor). */
  private readonly table: Int32Array;
  /** Phrase index reported in each state (longest phrase ending here, via suffix links), or -1. */
  private readonly output: Int32Array;
  readonly phrases: readonly string[];

  constructor(phrases: readonly string[]) {
    const list = [...new Set(phrases.filter((p) => p.length > 0))];
    this.phrases = list;
    // Byte classes over folded bytes.
    let classes = 1;
    const classOfFolded = new Int32Array(256).fill(0);
    for (const p of list) {
      for (let i = 0; i < p.length; i++) {
        const b = fold(p.charCodeAt(i) & 0xff);
        if (classOfFolded[b] === 0) classOfFolded[b] = classes++;
      }
    }
    if (classes > 255) throw new Error('phrase set uses too many distinct bytes');
    for (let b = 0; b < 256; b++) this.classOf[b] = classOfFolded[fold(b)]!;
    this.classCount = classes;

    // Trie (goto function) with growable arrays.
    const C = classes;
    let cap = 1024;
    let go = new Int32Array(cap * C).fill(-1);
    let out = new Int32Array(cap).fill(-1);
    let depth = new Int32Array(cap);
    let states = 1;
    for (let pi = 0; pi < list.length; pi++) {
      const p = list[pi]!;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = this.classOf[p.charCodeAt(i) & 0xff]!;
        let t = go[s * C + c]!;
        if (t < 0) {
          if (states === cap) {
            cap *= 2;
            const g2 = new Int32Array(cap * C).fill(-1); g2.set(go); go = g2;
            const o2 = new Int32Array(cap).fill(-1); o2.set(out); out = o2;
            const d2 = new Int32Array(cap); d2.set(depth); depth = d2;
          }
          t = states++;
          go[s * C + c] = t;
          depth[t] = i + 1;
        }
        s = t;
      }
      out[s] = pi;
    }
    // BFS: failure links folded into a complete DFA; outputs inherit the longest suffix phrase.
    const delta = new Int32Array(states * C);
    const output = new Int32Array(states).fill(-1);
    const fail = new Int32Array(states);
    const queue = new Int32Array(states);
    let head = 0, tail = 0;
    for (let c = 0; c < C; c++) {
      const t = go[c]!;
      if (t > 0) { delta[c] = t; fail[t] = 0; queue[tail++] = t; } else delta[c] = 0;
    }
    output[0] = out[0]!;
    while (head < tail) {
      const s = queue[head++]!;
      output[s] = out[s]! >= 0 ? out[s]! : output[fail[s]!]!;
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
    // The scan table: entries are the next state's row offset (state × C), or -(offset + 1) when the
    // next state reports a phrase, so a scan step is one lookup and one sign test per byte.
    const table = new Int32Array(states * C);
    for (let i = 0; i < table.length; i++) {
      const t = delta[i]!;
      table[i] = output[t]! >= 0 ? -(t * C) - 1 : t * C;
    }
    this.table = table;
    this.output = output;
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
