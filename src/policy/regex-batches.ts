/**
 * Groups a policy's @rx patterns into RE2.Set batches (regex/pattern-batch.ts): the constant-pattern RE2
 * links that share a transformation chain see the same transformed values, so one set scan of a large
 * value answers for all of them. The grouping only decides speed: a batch answers exactly for each of
 * its members whatever else it holds, so a pattern shared by rules of several groups (or policies) is
 * right in whichever batch it joined last.
 */
import type { Rule } from './rule.js';
import type { CompiledRegex } from './regex/index.js';
import { PatternBatch } from './regex/pattern-batch.js';

/** A group of fewer patterns gains too little from a set scan to pay for it. */
const MIN_MEMBERS = 3;
/** Larger sets risk RE2's memory budget for the set automaton; a group is split into sets of this size. */
const MAX_MEMBERS = 16;

/** Builds the batches for `rules` (chain starters; their links too); returns them (tests, diagnostics). */
export function batchRuleRegexes(rules: Iterable<Rule>): PatternBatch[] {
  const groups = new Map<number, CompiledRegex[]>();
  const seen = new Set<CompiledRegex>();
  for (const starter of rules) {
    for (let link: Rule | null = starter; link !== null; link = link.chain) {
      const op = link.operator;
      if (op === null || op.name !== 'rx' || !op.constantParam) continue;
      const re = op.op.regex;
      if (re === undefined || re.engine !== 're2' || re.joinBatch === undefined || seen.has(re)) continue;
      seen.add(re);
      // Transformation-chain prefix ids name the chain: equal ids, equal transformed values.
      const key = link.transformIds.length === 0 ? -1 : link.transformIds[link.transformIds.length - 1]!;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(re);
    }
  }
  const batches: PatternBatch[] = [];
  for (const group of groups.values()) {
    for (let start = 0; start < group.length; start += MAX_MEMBERS) {
      const members = group.slice(start, start + MAX_MEMBERS);
      if (members.length < MIN_MEMBERS) continue;
      const batch = new PatternBatch(members.map((re) => re.source));
      if (!batch.usable) continue;
      members.forEach((re, i) => re.joinBatch!(batch, i));
      batches.push(batch);
    }
  }
  return batches;
}
