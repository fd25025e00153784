/**
 * The compiled rule model. Rules are immutable after load: directives that change a rule
 * (SecRuleUpdateTargetById, SecRuleUpdateActionById) replace it with a modified copy, which is what
 * lets one compiled CRS rule list be shared by server groups that add different exclusions.
 */
import type { Macro, Operator, TransformationSpec } from './types.js';
import type { VariableSpec } from './variables/variable-spec.js';
import type { Transaction } from './transaction.js';

export interface KeyMatcher {
  /** Lower-case exact key, or null when `regex` is used. */
  readonly key: string | null;
  readonly regex: RegExp | null;
}

/** One element of a rule's variable list, e.g. `ARGS:foo`, `&TX:x`, `REQUEST_HEADERS:/^x-/`. */
export interface Target {
  readonly spec: VariableSpec;
  /** `&VAR`: the rule sees the number of values instead of the values. */
  readonly count: boolean;
  /** Key selector; null = whole collection. */
  readonly selector: KeyMatcher | null;
  /** Keys excluded with `!VAR:key` (in the rule, by SecRuleUpdateTarget*, or by ctl at run time). */
  readonly exclusions: readonly KeyMatcher[];
  /** As written, for messages. */
  readonly text: string;
  /** XML only: the XPath selector as written ("/*", "//@*"). */
  readonly path: string | null;
  /** A `!VAR:key` entry of SecRuleUpdateTarget* / ctl lists: adds exclusions, selects nothing itself. */
  readonly exclusionOnly: boolean;
}

/**
 * Every Target is built here so all share one hidden class: the per-request loop reads these fields
 * for every rule, and objects of mixed shapes (spreads) made those reads megamorphic.
 */
export function makeTarget(
  spec: VariableSpec,
  count: boolean,
  selector: KeyMatcher | null,
  exclusions: readonly KeyMatcher[],
  text: string,
  path: string | null,
  exclusionOnly: boolean,
): Target {
  return { spec, count, selector, exclusions, text, path, exclusionOnly };
}

/** Copy of a rule with other targets, keeping the rule object's shape (see makeTarget). */
export function withTargets(r: Rule, targets: readonly Target[]): Rule {
  return Object.freeze<Rule>({
    id: r.id,
    parentId: r.parentId,
    phase: r.phase,
    file: r.file,
    line: r.line,
    marker: r.marker,
    targets: Object.freeze([...targets]),
    operator: r.operator,
    transforms: r.transforms,
    transformIds: r.transformIds,
    actions: r.actions,
    flow: r.flow,
    disruptive: r.disruptive,
    status: r.status,
    msg: r.msg,
    logdata: r.logdata,
    severity: r.severity,
    tags: r.tags,
    ver: r.ver,
    rev: r.rev,
    maturity: r.maturity,
    accuracy: r.accuracy,
    log: r.log,
    auditlog: r.auditlog,
    capture: r.capture,
    multiMatch: r.multiMatch,
    valueFilter: r.valueFilter,
    memoSlot: r.memoSlot,
    chain: r.chain,
    source: r.source,
  });
}

export interface CompiledOperator {
  /** Name as registered (e.g. "rx"). */
  readonly name: string;
  readonly param: string;
  readonly negated: boolean;
  readonly op: Operator;
  /** False when the parameter holds macros (expanded per transaction). */
  readonly constantParam: boolean;
}

/** A run-time action (setvar, ctl, skip …). */
export interface ActionRun {
  readonly name: string;
  run(tx: Transaction, rule: Rule): void;
  /**
   * setvar on TX only: the macros it expands (key and value). Its presence says the action changes
   * nothing but TX, which lets rules made of such actions be replayed (tx-replay.ts).
   */
  readonly txMacros?: readonly Macro[];
  /** skipAfter only: the marker (or rule id) it continues after, resolved to an index at build. */
  readonly skipAfter?: string;
}

export type DisruptiveKind = 'pass' | 'deny' | 'drop' | 'redirect' | 'allow';

export interface Disruptive {
  readonly kind: DisruptiveKind;
  /** allow: 'all' | 'phase' | 'request'; redirect: the URL macro. */
  readonly allowScope?: 'all' | 'phase' | 'request';
  readonly location?: Macro;
}

export interface Rule {
  /** 0 for chain links and markers without an id. */
  readonly id: number;
  /** For chain links: the starter's id. */
  readonly parentId: number;
  readonly phase: number;
  readonly file: string;
  readonly line: number;
  /** SecMarker name (markers never match; they are skipAfter targets). */
  readonly marker: string | null;
  readonly targets: readonly Target[];
  /** null: SecAction (always matches). */
  readonly operator: CompiledOperator | null;
  readonly transforms: readonly TransformationSpec[];
  /** Transformation-chain prefix ids (cache keys), one per transform. */
  readonly transformIds: readonly number[];
  /** Non-disruptive actions in written order (setvar, ctl, capture-dependent …). */
  readonly actions: readonly ActionRun[];
  /** Flow actions (skip, skipAfter), run only by chain starters after a whole-chain match. */
  readonly flow: readonly ActionRun[];
  readonly disruptive: Disruptive;
  readonly status: number;
  readonly msg: Macro | null;
  readonly logdata: Macro | null;
  readonly severity: number | null;
  readonly tags: readonly string[];
  readonly ver: string | null;
  readonly rev: string | null;
  readonly maturity: number | null;
  readonly accuracy: number | null;
  readonly log: boolean;
  readonly auditlog: boolean;
  readonly capture: boolean;
  readonly multiMatch: boolean;
  /**
   * Byte sets a raw value must meet for the operator to possibly match it after the transformations
   * (value-filter.ts); null = no filter. Computed at load from the operator and transformations.
   */
  readonly valueFilter: readonly Uint32Array[] | null;
  /**
   * The link's slot in no-match records (no-match-memo.ts), or -1 when its answer for a value may change
   * (operator with macros or outside state). Copies with other targets keep it: the answer is the same.
   */
  readonly memoSlot: number;
  readonly chain: Rule | null;
  /** Source text (variables, operator, actions) kept so SecRuleUpdateActionById can recompile. */
  readonly source: { readonly variables: string; readonly operator: string; readonly actions: string; readonly isAction: boolean };
}

export const SEVERITIES = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'] as const;

export function severityName(n: number | null): string | null {
  return n === null ? null : (SEVERITIES[n] ?? String(n));
}
