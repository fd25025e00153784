/**
 * ctl:option=value — changes the engine's configuration for the current transaction only.
 * Every option is parsed at load time; an unknown option or a bad value is a load error.
 */
import type { ActionRun } from '../rule.js';
import type { Target } from '../rule.js';
import type { ActionContext, ActionSpec } from './action-spec.js';
import { parseIdRange, type IdRange } from '../id-range.js';
import type { BodyProcessorName, RuleEngineMode } from '../transaction.js';

type CtlCompiler = (value: string, ctx: ActionContext) => ActionRun['run'];

function onOff(option: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`ctl:${option}: expected On or Off, got "${value}"`);
}

function splitTargetSpec(option: string, value: string, ctx: ActionContext): { head: string; targets: Target[] } {
  const semi = value.indexOf(';');
  if (semi <= 0) throw new Error(`ctl:${option}: expected "<selector>;<targets>", got "${value}"`);
  return { head: value.slice(0, semi).trim(), targets: ctx.parseTargets(value.slice(semi + 1).trim()) };
}

function compileRegexParam(option: string, value: string): RegExp {
  try {
    return new RegExp(value);
  } catch (err) {
    throw new Error(`ctl:${option}: bad regular expression "${value}": ${(err as Error).message}`);
  }
}

const OPTIONS: Record<string, CtlCompiler> = {
  ruleengine(value) {
    const v = value.trim().toLowerCase();
    const mode: RuleEngineMode | undefined =
      v === 'on' ? 'On' : v === 'off' ? 'Off' : v === 'detectiononly' ? 'DetectionOnly' : undefined;
    if (!mode) throw new Error(`ctl:ruleEngine: expected On, Off or DetectionOnly, got "${value}"`);
    return (tx) => tx.setRuleEngine(mode);
  },
  ruleremovebyid(value) {
    const ranges: IdRange[] = value.trim().split(/[\s,]+/).map(parseIdRange);
    return (tx) => {
      for (const r of ranges) tx.removeRulesById(r);
    };
  },
  ruleremovebytag(value) {
    const re = compileRegexParam('ruleRemoveByTag', value.trim());
    return (tx) => tx.removeRulesByTag(re);
  },
  ruleremovebymsg(value) {
    const re = compileRegexParam('ruleRemoveByMsg', value.trim());
    return (tx) => tx.removeRulesByMsg(re);
  },
  ruleremovetargetbyid(value, ctx) {
    const { head, targets } = splitTargetSpec('ruleRemoveTargetById', value, ctx);
    const range = parseIdRange(head);
    return (tx) => tx.removeTargets({ range, tag: null, msg: null }, targets);
  },
  ruleremovetargetbytag(value, ctx) {
    const { head, targets } = splitTargetSpec('ruleRemoveTargetByTag', value, ctx);
    const re = compileRegexParam('ruleRemoveTargetByTag', head);
    return (tx) => tx.removeTargets({ range: null, tag: re, msg: null }, targets);
  },
  ruleremovetargetbymsg(value, ctx) {
    const { head, targets } = splitTargetSpec('ruleRemoveTargetByMsg', value, ctx);
    const re = compileRegexParam('ruleRemoveTargetByMsg', head);
    return (tx) => tx.removeTargets({ range: null, tag: null, msg: re }, targets);
  },
  requestbodyprocessor(value) {
    const v = value.trim().toUpperCase();
    if (!['URLENCODED', 'MULTIPART', 'JSON', 'XML'].includes(v)) {
      throw new Error(`ctl:requestBodyProcessor: expected URLENCODED, MULTIPART, JSON or XML, got "${value}"`);
    }
    return (tx) => tx.setBodyProcessor(v as BodyProcessorName);
  },
  requestbodyaccess(value) {
    const on = onOff('requestBodyAccess', value);
    return (tx) => {
      tx.requestBodyAccess = on;
    };
  },
  responsebodyaccess(value) {
    const on = onOff('responseBodyAccess', value);
    return (tx) => {
      tx.responseBodyAccess = on;
    };
  },
  forcerequestbodyvariable(value) {
    const on = onOff('forceRequestBodyVariable', value);
    return (tx) => {
      tx.forceRequestBodyVariable = on;
    };
  },
  requestbodylimit(value) {
    const n = Number(value.trim());
    if (!Number.isInteger(n) || n < 0) throw new Error(`ctl:requestBodyLimit: "${value}" is not a byte count`);
    return (tx) => {
      tx.requestBodyLimit = n;
    };
  },
  auditengine(value) {
    const v = value.trim().toLowerCase();
    if (!['on', 'off', 'relevantonly'].includes(v)) throw new Error(`ctl:auditEngine: expected On, Off or RelevantOnly, got "${value}"`);
    return (tx) => {
      tx.auditEngine = value.trim();
    };
  },
  auditlogparts(value) {
    const v = value.trim();
    if (!/^[+-]?[A-KZ]+$/.test(v)) throw new Error(`ctl:auditLogParts: bad parts "${value}"`);
    return (tx) => {
      tx.auditLogParts = v;
    };
  },
  debugloglevel(value) {
    if (!/^\d$/.test(value.trim())) throw new Error(`ctl:debugLogLevel: expected 0..9, got "${value}"`);
    return () => {};
  },
};

export const action: ActionSpec = {
  name: 'ctl',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`ctl: "${param}" is not option=value`);
    const option = param.slice(0, eq).trim();
    const compiler = OPTIONS[option.toLowerCase()];
    if (!compiler) throw new Error(`ctl: unknown option "${option}"`);
    draft.actions.push({ name: `ctl:${option}`, run: compiler(param.slice(eq + 1), ctx) });
  },
};
