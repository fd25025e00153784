/** msg: the alert message, macro-expanded when the rule matches. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'msg',
  kind: 'metadata',
  param: 'required',
  compile(param, draft, ctx) {
    draft.msg = ctx.compileMacro(param);
  },
};
