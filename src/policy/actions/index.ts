/** The action registry (lower-case names). One file per action; the list of built-ins is explicit. */
import type { ActionSpec } from './action-spec.js';
import { action as accuracy } from './accuracy.js';
import { action as allow } from './allow.js';
import { action as auditlog } from './auditlog.js';
import { action as block } from './block.js';
import { action as capture } from './capture.js';
import { action as chain } from './chain.js';
import { action as ctl } from './ctl.js';
import { action as deny } from './deny.js';
import { action as deprecatevar } from './deprecatevar.js';
import { action as drop } from './drop.js';
import { action as expirevar } from './expirevar.js';
import { action as id } from './id.js';
import { action as initcol } from './initcol.js';
import { action as log } from './log.js';
import { action as logdata } from './logdata.js';
import { action as maturity } from './maturity.js';
import { action as msg } from './msg.js';
import { action as multiMatch } from './multi-match.js';
import { action as noauditlog } from './noauditlog.js';
import { action as nolog } from './nolog.js';
import { action as pass } from './pass.js';
import { action as phase } from './phase.js';
import { action as redirect } from './redirect.js';
import { action as rev } from './rev.js';
import { action as sanitiseArg } from './sanitise-arg.js';
import { action as sanitiseMatched } from './sanitise-matched.js';
import { action as sanitiseMatchedBytes } from './sanitise-matched-bytes.js';
import { action as sanitiseRequestHeader } from './sanitise-request-header.js';
import { action as sanitiseResponseHeader } from './sanitise-response-header.js';
import { action as setenv } from './setenv.js';
import { action as setsid } from './setsid.js';
import { action as setuid } from './setuid.js';
import { action as setvar } from './setvar.js';
import { action as severity } from './severity.js';
import { action as skip } from './skip.js';
import { action as skipAfter } from './skip-after.js';
import { action as status } from './status.js';
import { action as t } from './t.js';
import { action as tag } from './tag.js';
import { action as ver } from './ver.js';
import { action as xmlns } from './xmlns.js';

export type { ActionSpec, ActionContext, RuleDraft } from './action-spec.js';

const builtIns: readonly ActionSpec[] = [
  accuracy, allow, auditlog, block, capture, chain, ctl, deny, deprecatevar, drop, expirevar, id, initcol,
  log, logdata, maturity, msg, multiMatch, noauditlog, nolog, pass, phase, redirect, rev, sanitiseArg,
  sanitiseMatched, sanitiseMatchedBytes, sanitiseRequestHeader, sanitiseResponseHeader, setenv, setsid,
  setuid, setvar, severity, skip, skipAfter, status, t, tag, ver, xmlns,
];

export const actions: ReadonlyMap<string, ActionSpec> = new Map(builtIns.map((a) => [a.name.toLowerCase(), a]));

export function getAction(name: string): ActionSpec | undefined {
  return actions.get(name.toLowerCase());
}
