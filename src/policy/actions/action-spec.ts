/**
 * An action (`id:1`, `setvar:tx.x=1`, `deny` …). Each action compiles once at load time: metadata and
 * disruptive actions fill the rule draft; run-time actions append an ActionRun.
 */
import type { LoadContext, TransformationSpec } from '../types.js';
import type { ActionRun, Disruptive, Target } from '../rule.js';
import type { Macro } from '../types.js';

export type ActionKind = 'metadata' | 'disruptive' | 'nondisruptive' | 'flow';

/** The rule being built. */
export interface RuleDraft {
  id: number;
  phase: number;
  msg: Macro | null;
  logdata: Macro | null;
  severity: number | null;
  tags: string[];
  ver: string | null;
  rev: string | null;
  maturity: number | null;
  accuracy: number | null;
  log: boolean;
  auditlog: boolean;
  capture: boolean;
  multiMatch: boolean;
  chain: boolean;
  transforms: TransformationSpec[];
  actions: ActionRun[];
  flow: ActionRun[];
  disruptive: Disruptive | null;
  status: number | null;
  /** True for rules after the first in a chain (no disruptive or flow actions there). */
  readonly isChainLink: boolean;
}

export interface ActionContext {
  /** The disruptive action of SecDefaultAction for the rule's phase (what `block` means). */
  readonly defaultDisruptive: () => Disruptive;
  readonly load: LoadContext;
  /** Parses a target list such as `ARGS:foo|REQUEST_COOKIES:/^x/` (for ctl:ruleRemoveTarget*). */
  parseTargets(text: string): Target[];
  compileMacro(text: string): Macro;
}

export interface ActionSpec {
  readonly name: string;
  readonly kind: ActionKind;
  /** Whether the action takes a parameter after ':'. */
  readonly param: 'required' | 'optional' | 'none';
  /** Throws an Error with a clear message on a bad parameter (becomes a load error). */
  compile(param: string, draft: RuleDraft, ctx: ActionContext): void;
}

export function parseIntParam(name: string, param: string, min: number, max: number): number {
  const t = param.trim();
  if (!/^-?\d+$/.test(t)) throw new Error(`${name}: "${param}" is not an integer`);
  const n = Number(t);
  if (n < min || n > max) throw new Error(`${name}: ${n} is outside ${min}..${max}`);
  return n;
}
