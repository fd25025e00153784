/**
 * Parses the three parts of a SecRule — variables, operator, actions — into the compiled Rule model.
 * Everything that can fail does so here, at load time, with a message naming what is wrong.
 */
import { getVariable } from '../variables/index.js';
import { getOperator } from '../operators/index.js';
import { getAction } from '../actions/index.js';
import type { ActionContext, RuleDraft } from '../actions/action-spec.js';
import { compileMacro, constantMacro } from '../macro.js';
import { makeTarget, type CompiledOperator, type Disruptive, type KeyMatcher, type Rule, type Target } from '../rule.js';
import type { LoadContext, TransformationSpec } from '../types.js';
import { ruleValueFilter } from '../value-filter.js';
import { allocateMemoSlot, isPureOperator } from '../no-match-memo.js';

// ------------------------------------------------------------------------------------------------
// Variables
// ------------------------------------------------------------------------------------------------

/** Parses `ARGS|!ARGS:foo|&TX:x|REQUEST_HEADERS:/^x-/|XML:/*`. Exclusions attach to same-name targets. */
export function parseTargets(text: string): Target[] {
  const included: { spec: Target['spec']; count: boolean; selector: KeyMatcher | null; text: string; path: string | null }[] = [];
  const excluded: { name: string; matcher: KeyMatcher | null }[] = [];
  let i = 0;
  const n = text.length;
  if (text.trim() === '') throw new Error('empty variable list');
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    const start = i;
    let negate = false;
    let count = false;
    if (text[i] === '!') {
      negate = true;
      i++;
    } else if (text[i] === '&') {
      count = true;
      i++;
    }
    const nameStart = i;
    while (i < n && /[A-Za-z0-9_]/.test(text[i]!)) i++;
    const name = text.slice(nameStart, i);
    if (name === '') throw new Error(`bad variable list "${text}" at position ${start + 1}`);
    const spec = getVariable(name);
    if (!spec) throw new Error(`unknown variable "${name}"`);
    let selectorText: string | null = null;
    let selectorIsRegex = false;
    if (text[i] === ':' || text[i] === '.') {
      i++;
      if (text[i] === "'") {
        const close = text.indexOf("'", i + 1);
        if (close < 0) throw new Error(`unterminated quoted selector in "${text}"`);
        selectorText = text.slice(i + 1, close);
        i = close + 1;
      } else if (text[i] === '/' && !spec.selectorIsPath) {
        // A regex selector ends at the first unescaped '/' followed by '|' or the end.
        let j = i + 1;
        for (; j < n; j++) {
          if (text[j] === '\\') {
            j++;
            continue;
          }
          if (text[j] === '/' && (j + 1 === n || text[j + 1] === '|')) break;
        }
        if (j >= n) throw new Error(`unterminated regular expression selector in "${text}"`);
        selectorText = text.slice(i, j + 1);
        i = j + 1;
      } else {
        const j = text.indexOf('|', i);
        selectorText = text.slice(i, j < 0 ? n : j).trim();
        i = j < 0 ? n : j;
      }
      if (!spec.selectorIsPath && selectorText.length >= 2 && selectorText.startsWith('/') && selectorText.endsWith('/')) {
        selectorIsRegex = true;
      }
    }
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i < n && text[i] !== '|') throw new Error(`unexpected "${text[i]}" in variable list "${text}"`);
    i++;
    let matcher: KeyMatcher | null = null;
    if (selectorText !== null && !spec.selectorIsPath) {
      if (spec.kind === 'scalar') throw new Error(`variable ${spec.name} takes no selector (":${selectorText}")`);
      matcher = selectorIsRegex ? { key: null, regex: compileKeyRegex(selectorText.slice(1, -1)) } : { key: selectorText.toLowerCase(), regex: null };
    }
    const written = text.slice(start, i > n ? n : i).replace(/\|$/, '').trim();
    if (negate) excluded.push({ name: spec.name, matcher });
    else included.push({ spec, count, selector: matcher, text: written, path: spec.selectorIsPath ? selectorText : null });
  }
  const out: Target[] = [];
  for (const t of included) {
    const ex = excluded.filter((e) => e.name === t.spec.name);
    if (ex.some((e) => e.matcher === null)) continue; // `!ARGS` removes ARGS entirely
    out.push(makeTarget(t.spec, t.count, t.selector, ex.map((e) => e.matcher!), t.text, t.path, false));
  }
  // A list of only exclusions (SecRuleUpdateTargetById 1 "!ARGS:x") is represented by exclusion-only targets.
  const seen = new Set<string>();
  for (const e of excluded) {
    if (included.some((t) => t.spec.name === e.name) || seen.has(e.name)) continue;
    seen.add(e.name);
    const matchers = excluded.filter((x) => x.name === e.name);
    const all = matchers.some((x) => x.matcher === null);
    out.push(makeTarget(getVariable(e.name)!, false, null, all ? [] : matchers.map((x) => x.matcher!), `!${e.name}`, null, true));
  }
  return out;
}

export function isExclusionOnly(t: Target): boolean {
  return t.exclusionOnly;
}

function compileKeyRegex(src: string): RegExp {
  try {
    // Collection keys are case-insensitive in ModSecurity v2 (APR tables), so key regexes are too.
    return new RegExp(src, 'i');
  } catch (err) {
    throw new Error(`bad regular expression selector /${src}/: ${(err as Error).message}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Operator
// ------------------------------------------------------------------------------------------------

export function parseOperator(text: string, load: LoadContext): CompiledOperator {
  let t = text;
  let negated = false;
  if (t.startsWith('!')) {
    negated = true;
    t = t.slice(1);
  }
  let name = 'rx';
  let param = t;
  if (t.startsWith('@')) {
    const m = /^@([A-Za-z0-9_]+)/.exec(t);
    if (!m) throw new Error(`bad operator "${text}"`);
    name = m[1]!;
    param = t.slice(m[0].length);
    if (param.startsWith(' ')) param = param.slice(1);
    else if (param !== '' && !/^\s/.test(param)) throw new Error(`bad operator "${text}"`);
  }
  const spec = getOperator(name);
  if (!spec) throw new Error(`unknown operator "@${name}"`);
  let macro;
  try {
    macro = compileMacro(param);
  } catch {
    // A pattern may contain "%{" that is not meant as a macro; such a parameter is a constant.
    macro = constantMacro(param);
  }
  let op;
  try {
    op = spec.create(param, macro, load);
  } catch (err) {
    throw new Error(`@${name}: ${(err as Error).message}`);
  }
  return { name: spec.name, param, negated, op, constantParam: macro.constant !== null };
}

// ------------------------------------------------------------------------------------------------
// Actions
// ------------------------------------------------------------------------------------------------

export interface ActionItem {
  readonly name: string;
  /** null when written without ':'. */
  readonly param: string | null;
}

/** Splits `id:1,phase:2,msg:'a, b',t:none` at commas outside single quotes; unquotes values. */
export function splitActions(text: string): ActionItem[] {
  const items: ActionItem[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /[\s,]/.test(text[i]!)) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && text[i] !== ':' && text[i] !== ',') i++;
    const name = text.slice(nameStart, i).trim();
    if (text[i] !== ':') {
      items.push({ name, param: null });
      continue;
    }
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        if (text[i] === '\\' && text[i + 1] === "'") {
          value += "'";
          i += 2;
          continue;
        }
        if (text[i] === "'") {
          closed = true;
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      if (!closed) throw new Error(`unterminated quoted value for action "${name}"`);
      while (i < n && text[i] !== ',') {
        if (!/\s/.test(text[i]!)) throw new Error(`unexpected text after quoted value of action "${name}"`);
        i++;
      }
    } else {
      const start = i;
      while (i < n && text[i] !== ',') i++;
      value = text.slice(start, i).trim();
    }
    items.push({ name, param: value });
  }
  return items;
}

// ------------------------------------------------------------------------------------------------
// Rule compilation
// ------------------------------------------------------------------------------------------------

/** SecDefaultAction of one phase, compiled. */
export interface PhaseDefaults {
  readonly items: readonly ActionItem[];
  readonly disruptive: Disruptive;
  readonly status: number | null;
}

export const BUILTIN_DEFAULTS: PhaseDefaults = Object.freeze<PhaseDefaults>({
  items: [
    { name: 'log', param: null },
    { name: 'auditlog', param: null },
    { name: 'pass', param: null },
  ],
  disruptive: { kind: 'pass' },
  status: null,
});

export interface RuleSourceText {
  readonly variables: string;
  readonly operator: string;
  readonly actions: string;
  /** SecAction (no variables/operator). */
  readonly isAction: boolean;
  readonly file: string;
  readonly line: number;
}

export interface RuleCompileEnv {
  readonly load: LoadContext;
  defaultsFor(phase: number): PhaseDefaults;
}

/** Returns the phase an action list asks for (last phase: wins), or 2. */
export function phaseOf(items: readonly ActionItem[]): number {
  let phase = 2;
  for (const it of items) {
    if (it.name.toLowerCase() === 'phase' && it.param !== null) {
      const p = it.param.trim().toLowerCase();
      phase = p === 'request' ? 2 : p === 'response' ? 4 : p === 'logging' ? 5 : Number(p) || phase;
    }
  }
  return phase;
}

export function newDraft(isChainLink: boolean): RuleDraft {
  return {
    id: 0,
    phase: 2,
    msg: null,
    logdata: null,
    severity: null,
    tags: [],
    ver: null,
    rev: null,
    maturity: null,
    accuracy: null,
    log: true,
    auditlog: true,
    capture: false,
    multiMatch: false,
    chain: false,
    transforms: [],
    actions: [],
    flow: [],
    disruptive: null,
    status: null,
    isChainLink,
  };
}

export function applyActions(items: readonly ActionItem[], draft: RuleDraft, ctx: ActionContext, forDefaults: boolean): void {
  for (const it of items) {
    const spec = getAction(it.name);
    if (!spec) throw new Error(`unknown action "${it.name}"`);
    if (spec.param === 'required' && (it.param === null || it.param === '')) throw new Error(`action "${it.name}" needs a parameter`);
    if (spec.param === 'none' && it.param !== null) throw new Error(`action "${it.name}" takes no parameter`);
    if (draft.isChainLink && (spec.kind === 'disruptive' || spec.kind === 'flow')) {
      throw new Error(`action "${it.name}" is only allowed in the first rule of a chain`);
    }
    if (draft.isChainLink && (spec.name === 'id' || spec.name === 'phase')) {
      throw new Error(`action "${it.name}" is not allowed in a chained rule`);
    }
    if (forDefaults && ['id', 'chain', 'skip', 'skipAfter', 'msg', 'tag', 'rev', 'ver', 'severity', 'logdata'].includes(spec.name)) {
      throw new Error(`action "${it.name}" is not allowed in SecDefaultAction`);
    }
    spec.compile(it.param ?? '', draft, ctx);
  }
}

export function actionContext(env: RuleCompileEnv, phase: () => number): ActionContext {
  return {
    defaultDisruptive: () => env.defaultsFor(phase()).disruptive,
    load: env.load,
    parseTargets,
    compileMacro,
  };
}

/**
 * Compiles one rule (or chain link when `parentPhase` is given). Throws on any problem; the caller turns
 * the message into a load problem with file, line and rule id.
 */
export function compileRuleDraft(src: RuleSourceText, env: RuleCompileEnv, parentPhase: number | null): { draft: RuleDraft; targets: Target[]; operator: CompiledOperator | null } {
  const items = splitActions(src.actions);
  const isLink = parentPhase !== null;
  const draft = newDraft(isLink);
  const phase = isLink ? parentPhase : phaseOf(items);
  draft.phase = phase;
  const ctx = actionContext(env, () => draft.phase);
  if (!isLink) {
    const defaults = env.defaultsFor(phase);
    applyActions(defaults.items, draft, ctx, true);
    draft.status = defaults.status;
  }
  applyActions(items, draft, ctx, false);
  const targets = src.isAction ? [] : parseTargets(src.variables);
  const operator = src.isAction ? null : parseOperator(src.operator, env.load);
  return { draft, targets, operator };
}

/** Transformation-chain interning: equal chains (and prefixes) get equal ids, the cache key. */
const chainIds = new Map<string, number>();

export function transformationIds(transforms: readonly TransformationSpec[]): number[] {
  const ids: number[] = [];
  let key = '';
  for (const t of transforms) {
    key += (key === '' ? '' : ',') + t.name.toLowerCase();
    let id = chainIds.get(key);
    if (id === undefined) {
      id = chainIds.size + 1;
      chainIds.set(key, id);
    }
    ids.push(id);
  }
  return ids;
}

export function finishRule(
  src: RuleSourceText,
  compiled: { draft: RuleDraft; targets: Target[]; operator: CompiledOperator | null },
  chain: Rule | null,
  parentId: number,
): Rule {
  const d = compiled.draft;
  return Object.freeze<Rule>({
    id: d.id,
    parentId,
    phase: d.phase,
    file: src.file,
    line: src.line,
    marker: null,
    targets: Object.freeze(compiled.targets),
    operator: compiled.operator,
    transforms: Object.freeze([...d.transforms]),
    transformIds: Object.freeze(transformationIds(d.transforms)),
    actions: Object.freeze(d.actions),
    flow: Object.freeze(d.flow),
    disruptive: d.disruptive ?? { kind: 'pass' },
    status: d.status ?? 0,
    msg: d.msg,
    logdata: d.logdata,
    severity: d.severity,
    tags: Object.freeze(d.tags),
    ver: d.ver,
    rev: d.rev,
    maturity: d.maturity,
    accuracy: d.accuracy,
    log: d.log,
    auditlog: d.auditlog,
    capture: d.capture,
    multiMatch: d.multiMatch,
    valueFilter: ruleValueFilter(compiled.operator, d.transforms),
    memoSlot: isPureOperator(compiled.operator) ? allocateMemoSlot() : -1,
    chain,
    source: { variables: src.variables, operator: src.operator, actions: src.actions, isAction: src.isAction },
  });
}

export function markerRule(name: string, file: string, line: number): Rule {
  return Object.freeze<Rule>({
    id: 0,
    parentId: 0,
    phase: 0,
    file,
    line,
    marker: name,
    targets: [],
    operator: null,
    transforms: [],
    transformIds: [],
    actions: [],
    flow: [],
    disruptive: { kind: 'pass' },
    status: 0,
    msg: null,
    logdata: null,
    severity: null,
    tags: [],
    ver: null,
    rev: null,
    maturity: null,
    accuracy: null,
    log: false,
    auditlog: false,
    capture: false,
    multiMatch: false,
    valueFilter: null,
    memoSlot: -1,
    chain: null,
    source: { variables: '', operator: '', actions: '', isAction: true },
  });
}
