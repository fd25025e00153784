/**
 * Per phase, a flat table that lets the evaluation loop reject a rule without touching the rule, its
 * targets or its operator — objects scattered over the heap, whose loads (cache misses) were the
 * largest single cost of the loop on CRS (hundreds of rules per request, most of which match nothing).
 *
 * A rule qualifies when it is a chain starter with an operator, the link has a value filter or a
 * no-match slot, and every target is one of:
 *  - a whole request collection (ARGS, ARGS_NAMES, REQUEST_COOKIES, REQUEST_HEADERS, XML:/* …:
 *    cacheable, with a version), without `&` and key selector: rejected when the collection is empty,
 *    or its entries' byte union misses the value filter, or every entry is known not to match the link
 *    (the collection summaries of collection.ts);
 *  - a stored request scalar (REQUEST_FILENAME, REQUEST_URI, QUERY_STRING, REQUEST_LINE …: cacheable),
 *    without `&`: rejected when it is absent, its bytes miss the value filter, or its value is known
 *    not to match;
 *  - `TX:name` (link with a slot): rejected when the variable is absent or its current value is known
 *    not to match;
 *  - `&TX:name` (link with a slot and no transformation): rejected when the count ("0" or "1") is
 *    known not to match, and no ctl has removed targets in this transaction.
 * Those are the same necessary conditions the loop checks per target (exclusions only remove entries),
 * so a rejected rule is one that would not have matched: the starter does not match, the chain is not
 * evaluated, nothing happens.
 */
import type { Rule } from './rule.js';
import type { VariableSpec } from './variables/variable-spec.js';

/** quickSlot value of rules the table cannot reject. */
export const NOT_QUICK = -2;

export const TARGET_COLLECTION = 0;
export const TARGET_TX = 1;
export const TARGET_TX_COUNT = 2;
export const TARGET_SCALAR = 3;

export interface QuickRejectTable {
  /** Per rule index: NOT_QUICK, or the link's no-match slot (-1 when it has none). */
  readonly slot: Int32Array;
  /** Per rule index: [start, end) in `colls`. */
  readonly collStart: Int32Array;
  readonly collEnd: Int32Array;
  /** Per target: TARGET_COLLECTION, TARGET_SCALAR, TARGET_TX or TARGET_TX_COUNT. */
  readonly kinds: Uint8Array;
  /** Per target: variable id (index into QuickRejectIndex.specs) or TX key (index into `keys`). */
  readonly colls: Uint16Array;
  /** Lower-case TX variable names. */
  readonly keys: readonly string[];
  /** Per rule index: [start, end) in `filters`, 8 words per byte set. */
  readonly filterStart: Int32Array;
  readonly filterEnd: Int32Array;
  readonly filters: Uint32Array;
}

export interface QuickRejectIndex {
  /** Collection and scalar variables by id. */
  readonly specs: readonly VariableSpec[];
  /** Per phase (1..5). */
  readonly phases: readonly QuickRejectTable[];
}

/** Builds the tables for a policy's phase lists; `slotOf` gives a link's no-match slot (-1: none). */
export function buildQuickReject(phases: readonly (readonly Rule[])[], slotOf: (link: Rule) => number): QuickRejectIndex {
  const specs: VariableSpec[] = [];
  const ids = new Map<VariableSpec, number>();
  const idOf = (spec: VariableSpec): number => {
    let id = ids.get(spec);
    if (id === undefined) {
      id = specs.length;
      specs.push(spec);
      ids.set(spec, id);
    }
    return id;
  };
  const tables = phases.map((rules) => {
    const n = rules.length;
    const slot = new Int32Array(n).fill(NOT_QUICK);
    const collStart = new Int32Array(n);
    const collEnd = new Int32Array(n);
    const filterStart = new Int32Array(n);
    const filterEnd = new Int32Array(n);
    const colls: number[] = [];
    const kinds: number[] = [];
    const keys: string[] = [];
    const filters: number[] = [];
    rules.forEach((rule, i) => {
      if (!qualifies(rule, slotOf(rule))) return;
      slot[i] = slotOf(rule);
      collStart[i] = colls.length;
      for (const t of rule.targets) {
        if (t.spec.name === 'TX') {
          kinds.push(t.count ? TARGET_TX_COUNT : TARGET_TX);
          colls.push(keys.length);
          keys.push(t.selector!.key!);
        } else {
          kinds.push(t.spec.kind === 'scalar' ? TARGET_SCALAR : TARGET_COLLECTION);
          colls.push(idOf(t.spec));
        }
      }
      collEnd[i] = colls.length;
      filterStart[i] = filters.length;
      for (const set of rule.valueFilter ?? []) for (let w = 0; w < 8; w++) filters.push(set[w]!);
      filterEnd[i] = filters.length;
    });
    return {
      slot, collStart, collEnd, kinds: Uint8Array.from(kinds), colls: Uint16Array.from(colls), keys,
      filterStart, filterEnd, filters: Uint32Array.from(filters),
    };
  });
  return { specs, phases: tables };
}

function qualifies(rule: Rule, slot: number): boolean {
  if (rule.marker !== null || rule.operator === null) return false;
  if (rule.valueFilter === null && slot < 0) return false;
  let any = false;
  for (const t of rule.targets) {
    const spec = t.spec;
    if (spec.name === 'TX' && slot >= 0 && t.selector !== null && t.selector.regex === null) {
      // `&TX:name` with exclusions could count fewer than the variable's presence.
      if (t.count && (rule.transforms.length > 0 || t.exclusions.length > 0)) return false;
      any = true;
      continue;
    }
    if (t.count || !spec.cacheable) return false;
    if (spec.kind === 'scalar') {
      any = true;
      continue;
    }
    if (t.selector !== null || spec.kind !== 'collection') return false;
    // XML attribute paths read another collection (transaction.ts).
    if (spec.selectorIsPath && t.path !== null && t.path.includes('@')) return false;
    any = true;
  }
  return any;
}
