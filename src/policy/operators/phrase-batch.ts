/**
 * One scan of a large value for a group of phrase sets (@pm / @pmFromFile), instead of one scan per set.
 *
 * CRS runs five @pmFromFile rules at PL1 over every argument and the body (913120 scanner URLs, 930120
 * OS files, 933120 PHP directives, 933150 PHP functions, 944130 Java classes), after different
 * transformation chains that leave plain text unchanged, so on a 2 KB form they scan the same long
 * strings five times (≈ 7 µs each on 1.8 KB). A PhraseBatch is one Aho-Corasick automaton over the
 * union of its members' phrases where every state carries the bit of each member that has a phrase
 * ending there (through the suffix links): one scan of a value answers, for every member, whether any of
 * its phrases occurs in it.
 *
 * Exact: same case folding (ASCII), same bytes (`charCodeAt & 0xff`) as PhraseSet.search, and "some
 * phrase of the member ends somewhere in the value" is search()'s question. Only a "no" is taken from the
 * batch; a member the batch reports runs its own search (the phrase found, for capture). Answers are kept
 * per value string for the values of the current requests (a small ring, keyed by a Map), so members
 * that see the same transformed string share the scan.
 */
import { PhraseSet } from './phrase-set.js';

/** Values (after transformation) at least this long are answered by their set's batch. */
export const PHRASE_BATCH_MIN_SUBJECT = 256;
/** At most this many members per batch (one answer bit each). */
export const PHRASE_BATCH_MAX_MEMBERS = 31;
/** A batch whose automaton would be larger than this (Int32 entries) is not built. */
const MAX_TABLE_ENTRIES = 4 * 1024 * 1024;
const RING = 32;
/** Larger values are scanned per call, not remembered (the ring must not pin large bodies). */
const MAX_RING_SUBJECT = 64 * 1024;

function fold(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 32 : b;
}

export class PhraseBatch {
  readonly usable: boolean;
  private readonly classOf = new Uint8Array(256);
  private classCount = 1;
  /** DFA rows by offset (state × classCount); see build() for the sign. */
  private table = new Int32Array(0);
  /** Per state: bits of the members with a phrase ending here. */
  private masks = new Int32Array(0);
  private readonly all: number;
  private readonly ring: (string | null)[] = new Array<string | null>(RING).fill(null);
  private readonly ringAnswers = new Int32Array(RING);
  private readonly slots = new Map<string, number>();
  private next = 0;

  constructor(members: readonly PhraseSet[]) {
    if (members.length === 0 || members.length > PHRASE_BATCH_MAX_MEMBERS) throw new Error(`a phrase batch holds 1..${PHRASE_BATCH_MAX_MEMBERS} sets`);
    this.all = members.length === 31 ? 0x7fffffff : (1 << members.length) - 1;
    this.usable = this.build(members);
  }

  private build(members: readonly PhraseSet[]): boolean {
    const classOfFolded = new Int32Array(256);
    let classes = 1;
    let length = 0;
    for (const m of members) {
      for (const p of m.phrases) {
        length += p.length;
        for (let i = 0; i < p.length; i++) {
          const b = fold(p.charCodeAt(i) & 0xff);
          if (classOfFolded[b] === 0) classOfFolded[b] = classes++;
        }
      }
    }
    if (classes > 255 || (length + 1) * classes > MAX_TABLE_ENTRIES) return false;
    for (let b = 0; b < 256; b++) this.classOf[b] = classOfFolded[fold(b)]!;
    const C = (this.classCount = classes);
    // Trie with each state's own member bits.
    const cap = length + 1;
    const go = new Int32Array(cap * C).fill(-1);
    const own = new Int32Array(cap);
    let states = 1;
    members.forEach((m, k) => {
      for (const p of m.phrases) {
        let s = 0;
        for (let i = 0; i < p.length; i++) {
          const c = this.classOf[p.charCodeAt(i) & 0xff]!;
          let t = go[s * C + c]!;
          if (t < 0) go[s * C + c] = t = states++;
          s = t;
        }
        own[s]! |= 1 << k;
      }
    });
    // BFS: complete DFA; masks inherit the suffix state's mask.
    const delta = new Int32Array(states * C);
    const masks = new Int32Array(states);
    const fail = new Int32Array(states);
    const queue = new Int32Array(states);
    let head = 0;
    let tail = 0;
    masks[0] = own[0]!;
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
      masks[s] = own[s]! | masks[fail[s]!]!;
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
    // Entries are the next state's row offset, or -(offset + 1) when that state has member bits.
    for (let i = 0; i < delta.length; i++) {
      const t = delta[i]!;
      delta[i] = masks[t] !== 0 ? -(t * C) - 1 : t * C;
    }
    this.table = delta;
    this.masks = masks;
    return true;
  }

  /** Bits of the members with a phrase somewhere in `s` (one scan per distinct value of ≤ 64 KiB in the ring). */
  answer(s: string): number {
    const slot = this.slots.get(s);
    if (slot !== undefined) return this.ringAnswers[slot]!;
    const a = this.scan(s);
    if (s.length > MAX_RING_SUBJECT) return a;
    const i = this.next;
    this.next = (i + 1) % RING;
    const old = this.ring[i];
    if (old !== null && old !== undefined) this.slots.delete(old);
    this.ring[i] = s;
    this.ringAnswers[i] = a;
    this.slots.set(s, i);
    return a;
  }

  /** The scan itself (no ring), for tests. */
  scan(s: string): number {
    const table = this.table;
    const classOf = this.classOf;
    const masks = this.masks;
    const C = this.classCount;
    const all = this.all;
    let row = 0;
    let found = 0;
    for (let i = 0; i < s.length; i++) {
      row = table[row + classOf[s.charCodeAt(i) & 0xff]!]!;
      if (row < 0) {
        row = -row - 1;
        found |= masks[row / C]!;
        if (found === all) break;
      }
    }
    return found;
  }
}
