/** setenv:name=value — sets ENV:name for this transaction (no process environment is touched). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'setenv',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    const text = param.trim();
    const remove = text.startsWith('!');
    const body = remove ? text.slice(1) : text;
    const eq = body.indexOf('=');
    const name = ctx.compileMacro(eq < 0 ? body : body.slice(0, eq));
    const value = ctx.compileMacro(eq < 0 ? '1' : body.slice(eq + 1));
    draft.actions.push({
      name: 'setenv',
      run(tx) {
        if (remove) tx.env.delete(name.expand(tx));
        else tx.env.set(name.expand(tx), value.expand(tx));
      },
    });
  },
};
