/** expirevar:ip.counter=60 — the variable disappears after N seconds (persistent collections). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'expirevar',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    const text = param.trim();
    const eq = text.indexOf('=');
    const target = eq < 0 ? text : text.slice(0, eq);
    const dot = target.indexOf('.');
    if (dot <= 0) throw new Error(`expirevar: "${param}" is not collection.name=seconds`);
    const collection = target.slice(0, dot).toUpperCase();
    const key = ctx.compileMacro(target.slice(dot + 1));
    const seconds = ctx.compileMacro(eq < 0 ? '0' : text.slice(eq + 1));
    draft.actions.push({
      name: 'expirevar',
      run(tx) {
        const s = parseInt(seconds.expand(tx), 10);
        tx.expireVar(collection, key.expand(tx), Number.isFinite(s) ? s : 0);
      },
    });
  },
};
