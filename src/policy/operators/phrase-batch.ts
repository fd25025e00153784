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
import { buildPhraseAutomaton, type PhraseAutomaton, type PhraseSet } from './phrase-set.js';

/** Values (after transformation) at least this long are answered by their set's batch. */
export const PHRASE_BATCH_MIN_SUBJECT = 256;
/** At most this many members per batch (one answer bit each). */
export const PHRASE_BATCH_MAX_MEMBERS = 31;
/** A batch whose automaton would be larger than this (Int32 entries) is not built. */
const MAX_TABLE_ENTRIES = 4 * 1024 * 1024;
const RING = 32;
/** Larger values are scanned per call, not remembered (the ring must not pin large bodies). */
const MAX_RING_SUBJECT = 64 * 1024;

export class PhraseBatch {
  readonly usable: boolean;
  /** The automaton over every member's phrases; a state's value is the bits of the members with a phrase ending there. */
  private readonly automaton: PhraseAutomaton | null;
  private readonly all: number;
  private readonly ring: (string | null)[] = new Array<string | null>(RING).fill(null);
  private readonly ringAnswers = new Int32Array(RING);
  private readonly slots = new Map<string, number>();
  private next = 0;

  constructor(members: readonly PhraseSet[]) {
    if (members.length === 0 || members.length > PHRASE_BATCH_MAX_MEMBERS) throw new Error(`a phrase batch holds 1..${PHRASE_BATCH_MAX_MEMBERS} sets`);
    this.all = members.length === 31 ? 0x7fffffff : (1 << members.length) - 1;
    const phrases: string[] = [];
    const bits: number[] = [];
    members.forEach((m, k) => {
      for (const p of m.phrases) {
        phrases.push(p);
        bits.push(1 << k);
      }
    });
    const or = (a: number, b: number): number => a | b;
    this.automaton = buildPhraseAutomaton(phrases, (pi) => bits[pi]!, 0, or, or, MAX_TABLE_ENTRIES);
    this.usable = this.automaton !== null;
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
    const a = this.automaton;
    if (a === null) return this.all; // not built: every member must search on its own
    const table = a.table;
    const classOf = a.classOf;
    const masks = a.values;
    const C = a.classCount;
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
