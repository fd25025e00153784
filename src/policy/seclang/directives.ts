/**
 * The directive registry (lower-case names). Each handler validates its arguments and changes the
 * builder; a thrown Error becomes a load problem naming file, line and rule id.
 */
import type { RawDirective } from './tokenizer.js';
import type { PolicyBuilder } from './parser.js';
import { expandIncludePath } from './glob.js';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  actionContext,
  applyActions,
  compileRuleDraft,
  finishRule,
  isExclusionOnly,
  markerRule,
  newDraft,
  parseTargets,
  splitActions,
} from './rule-parser.js';
import { inRange, parseIdRange, type IdRange } from '../id-range.js';
import { makeTarget, withTargets, type Rule, type Target } from '../rule.js';

export type DirectiveHandler = (b: PolicyBuilder, d: RawDirective) => void;

function args(d: RawDirective, min: number, max: number): readonly string[] {
  if (d.args.length < min || d.args.length > max) {
    const want = min === max ? `${min}` : `${min}..${max}`;
    throw new Error(`${d.name} takes ${want} argument${max === 1 ? '' : 's'}, got ${d.args.length}`);
  }
  return d.args;
}

function onOff(d: RawDirective): boolean {
  const v = args(d, 1, 1)[0]!.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`${d.name}: expected On or Off, got "${d.args[0]}"`);
}

function bytes(d: RawDirective): number {
  const v = args(d, 1, 1)[0]!;
  if (!/^\d+$/.test(v)) throw new Error(`${d.name}: "${v}" is not a number`);
  return Number(v);
}

function limitAction(d: RawDirective): 'Reject' | 'ProcessPartial' {
  const v = args(d, 1, 1)[0]!.toLowerCase();
  if (v === 'reject') return 'Reject';
  if (v === 'processpartial') return 'ProcessPartial';
  throw new Error(`${d.name}: expected Reject or ProcessPartial, got "${d.args[0]}"`);
}

/** Accepted and recorded; no I/O (audit and debug logs are replaced by the alert stream). */
function recordOnly(min: number, max: number): DirectiveHandler {
  return (b, d) => {
    b.settings.recorded[d.name] = args(d, min, max).join(' ');
  };
}

function idRanges(d: RawDirective): IdRange[] {
  if (d.args.length === 0) throw new Error(`${d.name} needs at least one rule id or range`);
  return d.args.flatMap((a) => a.split(/[\s,]+/).filter((s) => s !== '')).map(parseIdRange);
}

function regexArg(d: RawDirective): RegExp {
  const v = args(d, 1, 1)[0]!;
  try {
    return new RegExp(v);
  } catch (err) {
    throw new Error(`${d.name}: bad regular expression "${v}": ${(err as Error).message}`);
  }
}

function matchingRules(b: PolicyBuilder, d: RawDirective, kind: 'id' | 'tag' | 'msg', selector: string): (r: Rule) => boolean {
  if (kind === 'id') {
    const ranges = selector.split(/[\s,]+/).filter((s) => s !== '').map(parseIdRange);
    return (r) => r.marker === null && ranges.some((x) => inRange(r.id, x));
  }
  let re: RegExp;
  try {
    re = new RegExp(selector);
  } catch (err) {
    throw new Error(`${d.name}: bad regular expression "${selector}": ${(err as Error).message}`);
  }
  if (kind === 'tag') return (r) => r.tags.some((t) => re.test(t));
  return (r) => r.msg !== null && r.msg.constant !== null && re.test(r.msg.constant);
}

function updateTargets(kind: 'id' | 'tag' | 'msg'): DirectiveHandler {
  return (b, d) => {
    const [selector, targetText, replaced] = args(d, 2, 3);
    const matches = matchingRules(b, d, kind, selector!);
    const added = parseTargets(targetText!);
    let found = false;
    b.replaceRules((r) => {
      if (!matches(r)) return r;
      found = true;
      return withTargets(r, mergeTargets(r.targets, added, replaced ?? null));
    });
    if (!found && kind === 'id') throw new Error(`${d.name}: no rule matches "${selector}"`);
  };
}

/** Applies `!VAR:key` exclusions and appends new targets (optionally replacing one by its text). */
export function mergeTargets(current: readonly Target[], added: readonly Target[], replaced: string | null): Target[] {
  let out = replaced === null ? [...current] : current.filter((t) => t.text !== replaced);
  for (const a of added) {
    if (isExclusionOnly(a)) {
      if (a.exclusions.length === 0) out = out.filter((t) => t.spec !== a.spec);
      else out = out.map((t) => (t.spec === a.spec ? makeTarget(t.spec, t.count, t.selector, [...t.exclusions, ...a.exclusions], t.text, t.path, false) : t));
    } else {
      out.push(a);
    }
  }
  return out;
}

const ruleDirective: DirectiveHandler = (b, d) => {
  const [variables, operator, actions] = args(d, 2, 3);
  const src = { variables: variables!, operator: operator!, actions: actions ?? '', isAction: false, file: d.file, line: d.line };
  b.addRuleSource(src, chains(src.actions));
};

function chains(actions: string): boolean {
  try {
    return splitActions(actions).some((a) => a.name.toLowerCase() === 'chain');
  } catch {
    return false; // the syntax error is reported when the rule compiles
  }
}

const handlers: Record<string, DirectiveHandler> = {
  secrule: ruleDirective,
  secaction(b, d) {
    const [actions] = args(d, 1, 1);
    const src = { variables: '', operator: '', actions: actions!, isAction: true, file: d.file, line: d.line };
    if (chains(actions!)) throw new Error('SecAction cannot start a chain');
    b.addRuleSource(src, false);
  },
  secmarker(b, d) {
    const [name] = args(d, 1, 1);
    b.rules.push(markerRule(name!, d.file, d.line));
  },
  secdefaultaction(b, d) {
    const [text] = args(d, 1, 1);
    const items = splitActions(text!);
    const phaseItem = items.find((i) => i.name.toLowerCase() === 'phase');
    if (!phaseItem) throw new Error('SecDefaultAction must name a phase');
    const draft = newDraft(false);
    const env = b.env();
    applyActions(items, draft, actionContext(env, () => draft.phase), true);
    if (!draft.disruptive) throw new Error('SecDefaultAction must name a disruptive action (e.g. pass or deny)');
    b.defaults.set(draft.phase, {
      items: items.filter((i) => i.name.toLowerCase() !== 'phase'),
      disruptive: draft.disruptive,
      status: draft.status,
    });
  },
  secruleengine(b, d) {
    const v = args(d, 1, 1)[0]!.toLowerCase();
    if (v === 'on') b.settings.ruleEngine = 'On';
    else if (v === 'off') b.settings.ruleEngine = 'Off';
    else if (v === 'detectiononly') b.settings.ruleEngine = 'DetectionOnly';
    else throw new Error(`SecRuleEngine: expected On, Off or DetectionOnly, got "${d.args[0]}"`);
  },
  secrequestbodyaccess(b, d) {
    b.settings.requestBodyAccess = onOff(d);
  },
  secresponsebodyaccess(b, d) {
    b.settings.responseBodyAccess = onOff(d);
  },
  secrequestbodylimit(b, d) {
    b.settings.requestBodyLimit = bytes(d);
  },
  secrequestbodynofileslimit(b, d) {
    b.settings.requestBodyNoFilesLimit = bytes(d);
  },
  secrequestbodyinmemorylimit(b, d) {
    b.settings.requestBodyInMemoryLimit = bytes(d);
  },
  secrequestbodylimitaction(b, d) {
    b.settings.requestBodyLimitAction = limitAction(d);
  },
  secresponsebodylimit(b, d) {
    b.settings.responseBodyLimit = bytes(d);
  },
  secresponsebodylimitaction(b, d) {
    b.settings.responseBodyLimitAction = limitAction(d);
  },
  secresponsebodymimetype(b, d) {
    if (d.args.length === 0) throw new Error('SecResponseBodyMimeType needs at least one MIME type');
    const types = d.args.flatMap((a) => a.split(/\s+/)).filter((s) => s !== '').map((s) => s.toLowerCase());
    for (const t of types) if (!b.settings.responseBodyMimeTypes.includes(t)) b.settings.responseBodyMimeTypes.push(t);
  },
  secresponsebodymimetypesclear(b, d) {
    args(d, 0, 0);
    b.settings.responseBodyMimeTypes = [];
  },
  secargumentslimit(b, d) {
    b.settings.argumentsLimit = bytes(d);
  },
  secargumentseparator(b, d) {
    const [sep] = args(d, 1, 1);
    if (sep!.length !== 1) throw new Error(`SecArgumentSeparator: expected one character, got "${sep}"`);
    b.settings.argumentSeparator = sep!;
  },
  seccookieformat(b, d) {
    const v = args(d, 1, 1)[0]!;
    if (v !== '0' && v !== '1') throw new Error(`SecCookieFormat: expected 0 or 1, got "${v}"`);
    b.settings.cookieFormat = v === '0' ? 0 : 1;
  },
  seccollectiontimeout(b, d) {
    b.settings.collectionTimeout = bytes(d);
  },
  seccomponentsignature(b, d) {
    b.settings.componentSignatures.push(args(d, 1, 1)[0]!);
  },
  secruleremovebyid(b, d) {
    const ranges = idRanges(d);
    b.rules = b.rules.filter((r) => r.marker !== null || !ranges.some((x) => inRange(r.id, x)));
  },
  secruleremovebytag(b, d) {
    const re = regexArg(d);
    b.rules = b.rules.filter((r) => !r.tags.some((t) => re.test(t)));
  },
  secruleremovebymsg(b, d) {
    const re = regexArg(d);
    b.rules = b.rules.filter((r) => !(r.msg !== null && r.msg.constant !== null && re.test(r.msg.constant)));
  },
  secruleupdatetargetbyid: updateTargets('id'),
  secruleupdatetargetbytag: updateTargets('tag'),
  secruleupdatetargetbymsg: updateTargets('msg'),
  secruleupdateactionbyid(b, d) {
    const [selector, text] = args(d, 2, 2);
    const range = parseIdRange(selector!.split(':')[0]!);
    const env = b.env();
    let found = false;
    b.replaceRules((r) => {
      if (r.marker !== null || !inRange(r.id, range)) return r;
      found = true;
      // Recompile from source with the new actions appended: later actions override earlier ones
      // (disruptive, msg, severity …) and t: appends, which is ModSecurity's merge.
      const src = { ...r.source, actions: `${r.source.actions},${text}`, file: r.file, line: r.line };
      const compiled = compileRuleDraft(src, env, null);
      if (compiled.draft.id !== r.id || compiled.draft.phase !== r.phase) {
        throw new Error('SecRuleUpdateActionById cannot change a rule\'s id or phase');
      }
      return finishRule(src, compiled, r.chain, 0);
    });
    if (!found) throw new Error(`SecRuleUpdateActionById: no rule has id ${selector}`);
  },
  include(b, d) {
    const [pattern] = args(d, 1, 1);
    const abs = resolve(b.baseDir, pattern!);
    const glob = /[*?[]/.test(pattern!);
    if (!glob && !existsSync(abs)) throw new Error(`Include: "${pattern}" does not exist`);
    // A glob matching nothing is fine (Apache's IncludeOptional behaviour for wildcards).
    const files = expandIncludePath(abs);
    for (const f of files) b.loadFile(f);
  },
  secstatusengine: recordOnly(1, 1),
  sectmpdir: recordOnly(1, 1),
  secdatadir: recordOnly(1, 1),
  secuploaddir: recordOnly(1, 1),
  secuploadkeepfiles: recordOnly(1, 1),
  secuploadfilemode: recordOnly(1, 1),
  secuploadfilelimit: recordOnly(1, 1),
  secunicodemapfile: recordOnly(1, 2),
  secunicodecodepage: recordOnly(1, 1),
  secauditengine: recordOnly(1, 1),
  secauditlog: recordOnly(1, 1),
  secauditlog2: recordOnly(1, 1),
  secauditlogparts: recordOnly(1, 1),
  secauditlogrelevantstatus: recordOnly(1, 1),
  secauditlogtype: recordOnly(1, 1),
  secauditlogstoragedir: recordOnly(1, 1),
  secauditlogdirmode: recordOnly(1, 1),
  secauditlogfilemode: recordOnly(1, 1),
  secauditlogformat: recordOnly(1, 1),
  secpcrematchlimit: recordOnly(1, 1),
  secpcrematchlimitrecursion: recordOnly(1, 1),
  secdebuglog: recordOnly(1, 1),
  secdebugloglevel: recordOnly(1, 1),
  secrequestbodyjsondepthlimit: recordOnly(1, 1),
  secserversignature: recordOnly(1, 1),
  secwebappid: recordOnly(1, 1),
  secsensorid: recordOnly(1, 1),
  secgeolookupdb: recordOnly(1, 1),
  sechttpblkey: recordOnly(1, 1),
  secconnengine: recordOnly(1, 1),
  secinterceptonerror: recordOnly(1, 1),
};

export const directives: ReadonlyMap<string, DirectiveHandler> = new Map(Object.entries(handlers));

export function getDirective(name: string): DirectiveHandler | undefined {
  return directives.get(name.toLowerCase());
}
