/**
 * setvar: create, change or delete a collection variable.
 *   setvar:tx.score=+%{tx.critical_anomaly_score}   add (=- subtracts; non-numbers count as 0)
 *   setvar:'tx.%{rule.id}-%{MATCHED_VAR_NAME}=%{tx.0}'   key and value are both macros
 *   setvar:!tx.flag                                 delete
 *   setvar:tx.flag                                  set to "1"
 * Collections: TX and those opened by initcol (IP, GLOBAL …); setting an unopened one is a no-op,
 * as in ModSecurity.
 */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'setvar',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    let text = param.trim();
    const remove = text.startsWith('!');
    if (remove) text = text.slice(1);
    const eq = text.indexOf('=');
    const target = eq < 0 ? text : text.slice(0, eq);
    const dot = target.indexOf('.');
    if (dot <= 0 || dot === target.length - 1) throw new Error(`setvar: "${param}" is not collection.name[=value]`);
    const collection = target.slice(0, dot).trim().toUpperCase();
    if (!['TX', 'IP', 'GLOBAL', 'SESSION', 'USER', 'RESOURCE'].includes(collection)) {
      throw new Error(`setvar: unknown collection "${target.slice(0, dot)}"`);
    }
    const key = ctx.compileMacro(target.slice(dot + 1).trim());
    if (remove) {
      draft.actions.push({
        name: 'setvar',
        run: (tx) => tx.deleteVar(collection, key.expand(tx)),
        ...(collection === 'TX' ? { txMacros: [key] } : {}),
      });
      return;
    }
    let raw = eq < 0 ? '1' : text.slice(eq + 1);
    let op: '=' | '+' | '-' = '=';
    if (raw.startsWith('+')) {
      op = '+';
      raw = raw.slice(1);
    } else if (raw.startsWith('-')) {
      op = '-';
      raw = raw.slice(1);
    }
    const value = ctx.compileMacro(raw);
    draft.actions.push({
      name: 'setvar',
      ...(collection === 'TX' ? { txMacros: [key, value] } : {}),
      run(tx) {
        const k = key.expand(tx);
        const v = value.expand(tx);
        if (op === '=') {
          tx.setVar(collection, k, v);
          return;
        }
        const current = toInt(tx.getVar(collection, k));
        const delta = toInt(v);
        tx.setVar(collection, k, String(op === '+' ? current + delta : current - delta));
      },
    });
  },
};

function toInt(s: string | undefined): number {
  if (s === undefined) return 0;
  const n = parseInt(s, 10);
  return Number.isFinite(n) ? n : 0;
}
