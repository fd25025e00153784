/** deprecatevar:ip.score=60/300 — decreases a numeric variable by N every M seconds since its last update. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'deprecatevar',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    const m = /^\s*([A-Za-z]+)\.([^=]+)=\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(param);
    if (!m) throw new Error(`deprecatevar: "${param}" is not collection.name=N/SECONDS`);
    const collection = m[1]!.toUpperCase();
    const key = ctx.compileMacro(m[2]!);
    const amount = Number(m[3]);
    const period = Number(m[4]);
    draft.actions.push({
      name: 'deprecatevar',
      run: (tx) => tx.deprecateVar(collection, key.expand(tx), amount, period),
    });
  },
};
