/**
 * Per phase, a flat table that lets the evaluation loop reject a rule without touching the rule, its
 * targets or its operator — objects scattered over the heap, whose loads (cache misses) were the
 * largest single cost of the loop on CRS (hundreds of rules per request, most of which match nothing).
 *
 * A rule qualifies when it is a chain starter with an operator, the link has a value filter or a
 * no-match slot, and every target is one of:
 *  - a request collection (ARGS, ARGS_NAMES, REQUEST_COOKIES, REQUEST_HEADERS, XML:/* …: cacheable,
 *    with a version), whole or with a key (REQUEST_HEADERS:User-Agent), with or without exclusions
 *    (`!REQUEST_COOKIES:/__utm/`), without `&`: rejected when it selects no entry, or the selected
 *    entries' byte union misses the value filter, or every selected entry is known not to match the
 *    link (summaries as in collection.ts, made per view: collection, key and exclusions);
 *  - `&` of such a view (link with a slot and no transformation): rejected when the number of entries
 *    it selects is known not to match, and no ctl has removed targets in this transaction;
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
import type { KeyMatcher, Rule, Target } from './rule.js';
import type { VariableSpec } from './variables/variable-spec.js';
import type { TxKeys } from './tx-keys.js';

/** quickSlot value of rules the table cannot reject. */
export const NOT_QUICK = -2;

export const TARGET_COLLECTION = 0;
export const TARGET_TX = 1;
export const TARGET_TX_COUNT = 2;
export const TARGET_SCALAR = 3;
export const TARGET_COUNT = 4;

/** The collection every XML path with '@' selects (transaction.ts evaluateLink: tx.xmlAttributes). */
const XML_ATTRIBUTES: VariableSpec = { name: 'XML', kind: 'collection', cacheable: true, selectorIsPath: true, collection: (tx) => tx.xmlAttributes };

/** What a collection target selects: the collection, a key (lower case) or all, minus exclusions. */
export interface QuickView {
  readonly spec: VariableSpec;
  readonly key: string | null;
  readonly exclusions: readonly KeyMatcher[];
}

export interface QuickRejectTable {
  /** Per rule index: NOT_QUICK, or the link's no-match slot (-1 when it has none). */
  readonly slot: Int32Array;
  /** Per rule index: [start, end) in `colls`. */
  readonly collStart: Int32Array;
  readonly collEnd: Int32Array;
  /** Per target: TARGET_COLLECTION, TARGET_COUNT, TARGET_SCALAR, TARGET_TX or TARGET_TX_COUNT. */
  readonly kinds: Uint8Array;
  /** Per target: view id (index into QuickRejectIndex.views) or the TX key's number (tx-keys.ts). */
  readonly colls: Uint16Array;
  /** Per rule index: [start, end) in `filters`, 8 words per byte set. */
  readonly filterStart: Int32Array;
  readonly filterEnd: Int32Array;
  readonly filters: Uint32Array;
}

export interface QuickRejectIndex {
  /** Scalars and collection views by id (a scalar's view has no key and no exclusions). */
  readonly views: readonly QuickView[];
  /** Per phase (1..5). */
  readonly phases: readonly QuickRejectTable[];
}

/** Builds the tables for a policy's phase lists; `slotOf` gives a link's no-match slot (-1: none). */
export function buildQuickReject(phases: readonly (readonly Rule[])[], slotOf: (link: Rule) => number, txKeys: TxKeys): QuickRejectIndex {
  const views: QuickView[] = [];
  const ids = new Map<string, number>();
  const specIds = new Map<VariableSpec, number>();
  const idOf = (t: Target): number => {
    // Views are shared by every target that selects the same entries (same spec, key, exclusions).
    // XML attribute paths (XML://@*) select the attribute collection (as evaluateLink reads them).
    const spec = t.spec.selectorIsPath && t.path !== null && t.path.includes('@') ? XML_ATTRIBUTES : t.spec;
    let specId = specIds.get(spec);
    if (specId === undefined) specIds.set(spec, (specId = specIds.size));
    const key = t.selector?.key ?? null;
    const name = `${specId}\u0000${key ?? ''}\u0000${t.exclusions.map((m) => (m.key !== null ? `k:${m.key}` : `r:${m.regex!.source}/${m.regex!.flags}`)).join('\u0000')}`;
    let id = ids.get(name);
    if (id === undefined) {
      id = views.length;
      views.push({ spec, key, exclusions: t.exclusions });
      ids.set(name, id);
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
    const filters: number[] = [];
    rules.forEach((rule, i) => {
      if (!qualifies(rule, slotOf(rule), txKeys)) return;
      slot[i] = slotOf(rule);
      collStart[i] = colls.length;
      for (const t of rule.targets) {
        if (t.spec.name === 'TX') {
          kinds.push(t.count ? TARGET_TX_COUNT : TARGET_TX);
          colls.push(txKeys.id(t.selector!.key!));
        } else {
          kinds.push(t.spec.kind === 'scalar' ? TARGET_SCALAR : t.count ? TARGET_COUNT : TARGET_COLLECTION);
          colls.push(idOf(t));
        }
      }
      collEnd[i] = colls.length;
      filterStart[i] = filters.length;
      for (const set of rule.valueFilter ?? []) for (let w = 0; w < 8; w++) filters.push(set[w]!);
      filterEnd[i] = filters.length;
    });
    return {
      slot, collStart, collEnd, kinds: Uint8Array.from(kinds), colls: Uint16Array.from(colls),
      filterStart, filterEnd, filters: Uint32Array.from(filters),
    };
  });
  return { views, phases: tables };
}

function qualifies(rule: Rule, slot: number, txKeys: TxKeys): boolean {
  if (rule.marker !== null || rule.operator === null) return false;
  if (rule.valueFilter === null && slot < 0) return false;
  let any = false;
  for (const t of rule.targets) {
    const spec = t.spec;
    if (spec.name === 'TX' && slot >= 0 && t.selector !== null && t.selector.regex === null && txKeys.id(t.selector.key!) >= 0) {
      // `&TX:name` with exclusions could count fewer than the variable's presence.
      if (t.count && (rule.transforms.length > 0 || t.exclusions.length > 0)) return false;
      any = true;
      continue;
    }
    if (!spec.cacheable) return false;
    if (spec.kind === 'scalar') {
      if (t.count) return false;
      any = true;
      continue;
    }
    if (spec.kind !== 'collection') return false;
    // XML paths are not keys (attribute paths get their own view, XML_ATTRIBUTES).
    if (spec.selectorIsPath && t.selector !== null) return false;
    if (t.selector !== null && (t.selector.regex !== null || t.selector.key === null)) return false;
    // `&VIEW`: the operator sees the count itself, remembered only for links without transformations.
    if (t.count && (slot < 0 || rule.transforms.length > 0)) return false;
    any = true;
  }
  return any;
}
