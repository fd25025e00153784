/** setuid: opens the USER collection for the expanded key. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'setuid',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    const key = ctx.compileMacro(param.trim());
    draft.actions.push({ name: 'setuid', run: (tx) => tx.initCollection('USER', key.expand(tx)) });
  },
};
