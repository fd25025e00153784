/**
 * Groups a policy's phrase sets (@pm / @pmFromFile with a constant parameter) into PhraseBatches
 * (operators/phrase-batch.ts): one scan of a large value answers for every member. Members are grouped
 * by the phase of their rule (request phases 1–2, response phases 3–4), in rule order, up to
 * PHRASE_BATCH_MAX_MEMBERS sets and a bounded automaton per batch. Values reach the members through
 * different transformation chains, so the batch keeps its answers per value string: members that see
 * the same string share a scan, the others scan their own (still one scan for all members). The
 * grouping only decides speed: a batch answers exactly for each member.
 */
import type { Rule } from './rule.js';
import type { PhraseSet } from './operators/phrase-set.js';
import { PhraseBatch, PHRASE_BATCH_MAX_MEMBERS } from './operators/phrase-batch.js';

/** Fewer sets than this gain nothing from a shared scan. */
const MIN_MEMBERS = 2;
/** Total phrase bytes per batch (bounds the automaton: states ≤ bytes + 1). */
const MAX_PHRASE_BYTES = 16 * 1024;

interface Member {
  readonly set: PhraseSet;
  readonly join: (batch: PhraseBatch, index: number) => void;
}

/** Builds the batches for `rules` (chain starters; their links too); returns them (tests, diagnostics). */
export function batchPhraseSets(rules: Iterable<Rule>): PhraseBatch[] {
  const groups = new Map<number, Member[]>();
  const seen = new Set<PhraseSet>();
  for (const starter of rules) {
    for (let link: Rule | null = starter; link !== null; link = link.chain) {
      const op = link.operator;
      if (op === null || !op.constantParam) continue;
      const set = op.op.phrases;
      const join = op.op.joinPhraseBatch;
      if (set === undefined || join === undefined || seen.has(set) || set.phrases.length === 0) continue;
      seen.add(set);
      const key = starter.phase <= 2 ? 1 : starter.phase <= 4 ? 3 : 5;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push({ set, join });
    }
  }
  const batches: PhraseBatch[] = [];
  const flush = (members: Member[]): void => {
    if (members.length < MIN_MEMBERS) return;
    const batch = new PhraseBatch(members.map((m) => m.set));
    if (!batch.usable) return;
    members.forEach((m, i) => m.join(batch, i));
    batches.push(batch);
  };
  for (const group of groups.values()) {
    let current: Member[] = [];
    let bytes = 0;
    for (const m of group) {
      let size = 0;
      for (const p of m.set.phrases) size += p.length;
      if (size > MAX_PHRASE_BYTES) continue; // large sets (CRS 930120, 933151) scan on their own
      if (current.length === PHRASE_BATCH_MAX_MEMBERS || bytes + size > MAX_PHRASE_BYTES) {
        flush(current);
        current = [];
        bytes = 0;
      }
      current.push(m);
      bytes += size;
    }
    flush(current);
  }
  return batches;
}
