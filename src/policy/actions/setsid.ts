/** setsid: opens the SESSION collection for the expanded key. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'setsid',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    const key = ctx.compileMacro(param.trim());
    draft.actions.push({ name: 'setsid', run: (tx) => tx.initCollection('SESSION', key.expand(tx)) });
  },
};
